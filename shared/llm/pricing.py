"""What a model call costs: a price table in USD per million tokens, exact ``Decimal`` arithmetic.

``PriceTable.cost(model, tokens_in, tokens_out)`` is ``(in × input price + out × output price) / 1e6``
quantized to 1e-8 USD (half up), the precision usage records keep. Floats never enter: prices are
written as strings.

Model names are matched case-insensitively, first exactly, then as a dated or suffixed variant of
a listed model (``gpt-4o-mini-2024-07-18``, ``claude-3-5-haiku-20241022``,
``claude-3-5-haiku@20241022``): the longest listed name that the reported name starts with,
followed by ``-``, ``@`` or ``:``, wins, so ``gpt-4o-mini-…`` is never priced as ``gpt-4o``. A
routing prefix (``models/``, ``openai/``, ``google/``, ``anthropic/``) is ignored.

A model served from this machine (base URL on localhost or a loopback address: Ollama, a local
vLLM) or the offline adapter costs nothing per token. An unknown model is priced at the table's
``default`` if one is configured, else at zero, with one warning per model name so the gap shows
in the logs without flooding them.

Prices are list prices for standard (non-batch, uncached) text tokens, checked against the
providers' pricing pages in 2025; edit :data:`DEFAULT_PRICES` when they change.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.00000001")  # 1e-8 USD, as stored on usage records
_ROUTING_PREFIXES = ("models/", "openai/", "google/", "anthropic/")
_VARIANT_SEPARATORS = ("-", "@", ":")


@dataclass(frozen=True)
class Price:
    """USD per million input (prompt) and output (completion) tokens."""

    input_per_million: Decimal
    output_per_million: Decimal

    def __post_init__(self) -> None:
        for name in ("input_per_million", "output_per_million"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite, non-negative Decimal")


FREE = Price(Decimal("0"), Decimal("0"))

DEFAULT_PRICES: Mapping[str, Price] = {
    "gpt-4o-mini": Price(Decimal("0.15"), Decimal("0.60")),
    "gpt-4o": Price(Decimal("2.50"), Decimal("10.00")),
    "gemini-2.0-flash": Price(Decimal("0.10"), Decimal("0.40")),
    "gemini-2.0-flash-lite": Price(Decimal("0.075"), Decimal("0.30")),
    "claude-3-5-haiku": Price(Decimal("0.80"), Decimal("4.00")),
    "offline": FREE,
}


def _normalise(model: str) -> str:
    name = model.strip().lower()
    for prefix in _ROUTING_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


class PriceTable:
    """Looks up a model's price and turns token counts into an exact USD cost."""

    def __init__(
        self,
        prices: Mapping[str, Price] = DEFAULT_PRICES,
        *,
        default: Price | None = None,
        local: bool = False,
    ) -> None:
        self._prices = {_normalise(name): price for name, price in prices.items()}
        self._default = default
        self._local = local
        self._warned: set[str] = set()

    def price(self, model: str) -> Price:
        """The price of ``model`` (see the module docstring for matching and fallbacks)."""
        if self._local:
            return FREE
        name = _normalise(model)
        found = self._prices.get(name)
        if found is not None:
            return found
        variants = [
            key for key in self._prices if any(name.startswith(key + sep) for sep in _VARIANT_SEPARATORS)
        ]
        if variants:
            return self._prices[max(variants, key=len)]
        if name not in self._warned:
            self._warned.add(name)
            logger.warning(
                "no price for model %r: charging %s",
                model,
                "the configured default price" if self._default else "nothing",
            )
        return self._default or FREE

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> Decimal:
        """USD cost of ``tokens_in`` prompt and ``tokens_out`` completion tokens, to 1e-8."""
        if tokens_in < 0 or tokens_out < 0:
            raise ValueError("token counts cannot be negative")
        price = self.price(model)
        raw = (Decimal(tokens_in) * price.input_per_million + Decimal(tokens_out) * price.output_per_million) / MILLION
        return raw.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def is_local_url(url: str) -> bool:
    """True if ``url`` points at this machine (``localhost`` or a loopback address)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_pricing(settings, *, default: Price | None = None) -> PriceTable:
    """The price table for ``settings``: free for the offline adapter and local model servers."""
    local = settings.llm_provider == "offline" or is_local_url(settings.llm_base_url)
    return PriceTable(DEFAULT_PRICES, default=default, local=local)
