from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidRequest
from shared.usage.money import format_usd, nanos_to_usd, usd_to_nanos


def test_costs_convert_to_nanodollars_exactly():
    assert usd_to_nanos(Decimal("0.00000015")) == 150
    assert usd_to_nanos(Decimal("12.5")) == 12_500_000_000
    assert usd_to_nanos(Decimal("0")) == 0
    assert usd_to_nanos(Decimal("1E-9")) == 1


@given(st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False, allow_infinity=False))
def test_round_trip_is_exact(amount):
    assert nanos_to_usd(usd_to_nanos(amount)) == amount
    assert Decimal(format_usd(usd_to_nanos(amount))) == amount


def test_format_has_no_exponent_or_trailing_zeros():
    assert format_usd(150) == "0.00000015"
    assert format_usd(1_000_000_000) == "1"
    assert format_usd(0) == "0"
    assert format_usd(1_230_000_000) == "1.23"


@pytest.mark.parametrize("bad", [0.1, Decimal("-0.01"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E-10"), "1", True])
def test_refuses_floats_negatives_and_sub_nano_amounts(bad):
    with pytest.raises(InvalidRequest) as caught:
        usd_to_nanos(bad)
    assert caught.value.field == "cost_usd"
