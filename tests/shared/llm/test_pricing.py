"""The price table: exact Decimal costs, snapshot names, local models, unknown models."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from shared.config import Settings
from shared.llm.pricing import DEFAULT_PRICES, FREE, Price, PriceTable, build_pricing, is_local_url


@pytest.mark.parametrize(
    "model, tokens_in, tokens_out, cost",
    [
        ("gpt-4o-mini", 1_000_000, 1_000_000, Decimal("0.75")),
        ("gpt-4o-mini-2024-07-18", 291, 46, Decimal("0.00007125")),  # 291×0.15e-6 + 46×0.60e-6
        ("gpt-4o", 1000, 500, Decimal("0.00750000")),
        ("gpt-4o-2024-08-06", 1, 1, Decimal("0.00001250")),
        ("gemini-2.0-flash", 50, 6, Decimal("0.00000740")),
        ("models/gemini-2.0-flash-001", 50, 6, Decimal("0.00000740")),
        ("gemini-2.0-flash-lite", 1000, 1000, Decimal("0.00037500")),
        ("claude-3-5-haiku-20241022", 1000, 100, Decimal("0.00120000")),
        ("anthropic/claude-3-5-haiku@20241022", 1000, 100, Decimal("0.00120000")),
        ("GPT-4o-Mini", 0, 0, Decimal("0E-8")),
        ("offline", 500, 500, Decimal("0")),
    ],
)
def test_costs(model, tokens_in, tokens_out, cost):
    value = PriceTable().cost(model, tokens_in, tokens_out)

    assert value == cost
    assert isinstance(value, Decimal) and value.as_tuple().exponent == -8


def test_rounding_is_half_up_at_1e_8():
    table = PriceTable({"m": Price(Decimal("0.005"), Decimal("0"))})

    assert table.cost("m", 1, 0) == Decimal("0.00000001")  # 0.000000005 rounds up
    assert table.cost("m", 3, 0) == Decimal("0.00000002")  # 0.000000015 rounds up


def test_a_longer_listed_name_wins_over_its_prefix():
    table = PriceTable()

    assert table.price("gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["gpt-4o-mini"]
    assert table.price("gpt-4o-2024-11-20") == DEFAULT_PRICES["gpt-4o"]
    assert table.price("gemini-2.0-flash-lite-001") == DEFAULT_PRICES["gemini-2.0-flash-lite"]


def test_unknown_models_cost_the_default_or_nothing_and_warn_once(caplog):
    free = PriceTable()
    priced = PriceTable(default=Price(Decimal("1"), Decimal("2")))

    with caplog.at_level(logging.WARNING, logger="shared.llm.pricing"):
        assert free.cost("mystery-model", 1000, 1000) == Decimal("0")
        assert free.cost("mystery-model", 5, 5) == Decimal("0")
        assert priced.cost("mystery-model", 1_000_000, 1_000_000) == Decimal("3")

    warnings = [r for r in caplog.records if "mystery-model" in r.getMessage()]
    assert len(warnings) == 2  # once per table, not once per call
    # "gpt-4" is not a variant of "gpt-4o": no accidental prefix match.
    assert free.price("gpt-4") == FREE


def test_local_tables_are_free():
    assert PriceTable(local=True).cost("gpt-4o", 10**6, 10**6) == Decimal("0")


@pytest.mark.parametrize(
    "url, local",
    [
        ("http://127.0.0.1:11434/v1", True),
        ("http://localhost:8000/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://vllm.localhost/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://generativelanguage.googleapis.com/v1beta/openai", False),
        ("http://10.0.0.5:8000/v1", False),
    ],
)
def test_is_local_url(url, local):
    assert is_local_url(url) is local


def test_build_pricing_from_settings():
    openai = build_pricing(Settings(llm_provider="openai", llm_base_url="https://api.openai.com/v1"))
    ollama = build_pricing(Settings(llm_provider="openai", llm_base_url="http://127.0.0.1:11434/v1"))
    offline = build_pricing(Settings(llm_provider="offline"))

    assert openai.cost("gpt-4o-mini", 10**6, 0) == Decimal("0.15")
    assert ollama.cost("gpt-4o-mini", 10**6, 0) == Decimal("0")
    assert offline.cost("offline", 10, 10) == Decimal("0")


def test_invalid_prices_and_counts_are_refused():
    with pytest.raises(ValueError):
        Price(Decimal("-1"), Decimal("0"))
    with pytest.raises(ValueError):
        Price(0.15, Decimal("0"))  # floats never enter
    with pytest.raises(ValueError):
        Price(Decimal("NaN"), Decimal("0"))
    with pytest.raises(ValueError):
        PriceTable().cost("gpt-4o", -1, 0)
