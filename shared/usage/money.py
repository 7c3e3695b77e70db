"""Money as integers: costs are stored in nano-dollars (1e-9 USD), never as floats.

:class:`shared.models.UsageRecord` allows eight decimal places of a dollar, so micro-dollars would
round; nano-dollars hold every valid cost exactly and still give an int64 range of about
9.2 billion dollars, enough for any aggregate.
"""

from __future__ import annotations

from decimal import Decimal

from shared.errors import InvalidRequest

NANOS_PER_USD = 10**9
_NANO = Decimal(1).scaleb(-9)


def usd_to_nanos(amount: Decimal, *, field: str = "cost_usd") -> int:
    """``amount`` in nano-dollars, exactly; InvalidRequest if negative, not finite or finer than 1e-9."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        # A float would already have lost the exact value: refuse it rather than guess.
        raise InvalidRequest(f"The {field} must be a Decimal.", field=field)
    value = Decimal(amount)
    if not value.is_finite() or value < 0:
        raise InvalidRequest(f"The {field} must be a non-negative amount.", field=field)
    nanos = value.scaleb(9)
    if nanos != nanos.to_integral_value():
        raise InvalidRequest(f"The {field} has more than nine decimal places.", field=field)
    return int(nanos)


def nanos_to_usd(nanos: int) -> Decimal:
    """Nano-dollars back to an exact Decimal amount of dollars (at most nine places, normalised)."""
    amount = (Decimal(int(nanos)) * _NANO).quantize(_NANO)
    return amount.normalize() if amount else Decimal("0")


def format_usd(nanos: int) -> str:
    """Nano-dollars as a plain decimal string of dollars (no exponent), e.g. ``"0.000125"``."""
    return format(nanos_to_usd(nanos), "f")
