"""UTC days and minute windows: the periods that usage and quotas are counted in."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from shared.errors import InvalidRequest

Clock = Callable[[], datetime]

ONE_DAY = timedelta(days=1)
ONE_MINUTE = timedelta(minutes=1)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime, *, field: str = "timestamp") -> datetime:
    """``moment`` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequest(f"The {field} must be a timezone-aware datetime.", field=field)
    return moment.astimezone(timezone.utc)


def day_key(day: date) -> str:
    """The document id of a day: ``YYYY-MM-DD``."""
    return day.isoformat()


def utc_day(moment: datetime) -> date:
    return as_utc(moment).date()


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def next_midnight(moment: datetime) -> datetime:
    return day_start(utc_day(moment)) + ONE_DAY


def minute_start(moment: datetime) -> datetime:
    return as_utc(moment).replace(second=0, microsecond=0)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds from ``now`` until ``moment``, rounded up, at least 1 (a Retry-After value)."""
    return max(1, math.ceil((moment - now).total_seconds()))
