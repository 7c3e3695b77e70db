"""Integer minutes on the user's local day(s), computed from real instants.

Offset 0 is local midnight of the first planned day. Every wall-clock time is turned into an aware
datetime with ``zoneinfo`` and then into minutes since that origin, so a daylight-saving day is
23 or 25 hours long and never assumed to be 24. Offsets convert back to aware datetimes in the
user's zone (with the right ``fold`` on the repeated hour).

A wall-clock time that does not exist (inside the spring-forward gap) maps to the instant PEP 495
gives it with ``fold=0``: 02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

_MINUTE = timedelta(minutes=1)


class Timeline:
    """The planned days of one user as minute offsets from local midnight of the first day."""

    def __init__(self, first_day: date, horizon_days: int, zone: ZoneInfo) -> None:
        self.zone = zone
        self.days: tuple[date, ...] = tuple(first_day + timedelta(days=k) for k in range(horizon_days))
        self.origin = self._instant(first_day, time(0))
        midnights = [self._instant(first_day + timedelta(days=k), time(0)) for k in range(horizon_days + 1)]
        self.day_start: tuple[int, ...] = tuple(self._minutes(m) for m in midnights)

    @property
    def length(self) -> int:
        """Minutes from the first local midnight to the local midnight after the last day."""
        return self.day_start[-1]

    @cached_property
    def day_lengths(self) -> tuple[int, ...]:
        return tuple(b - a for a, b in zip(self.day_start, self.day_start[1:]))

    def _instant(self, day: date, wall: time) -> datetime:
        return datetime.combine(day, wall).replace(tzinfo=self.zone).astimezone(UTC)

    def _minutes(self, instant: datetime) -> int:
        return int((instant - self.origin) // _MINUTE)

    def wall(self, day_index: int, wall: time) -> int:
        """Offset of a local wall-clock time on the given planned day."""
        return self._minutes(self._instant(self.days[day_index], wall))

    def floor(self, moment: datetime) -> int:
        """Offset of an aware instant, rounded down to the minute."""
        return self._minutes(moment.astimezone(UTC))

    def ceil(self, moment: datetime) -> int:
        """Offset of an aware instant, rounded up to the minute."""
        delta = moment.astimezone(UTC) - self.origin
        whole = int(delta // _MINUTE)
        return whole if delta == whole * _MINUTE else whole + 1

    def localize(self, moment: datetime) -> datetime:
        """An instant as an aware datetime; a naive one is read as the user's wall-clock time."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            return moment.replace(tzinfo=self.zone)
        return moment

    def end_of(self, day: date) -> datetime:
        """The instant a date-only deadline means: the local midnight that ends ``day``."""
        return self._instant(day + timedelta(days=1), time(0))

    def moment(self, offset: int) -> datetime:
        """The aware datetime (in the user's zone) at an offset."""
        return (self.origin + offset * _MINUTE).astimezone(self.zone)

    def day_index(self, offset: int) -> int:
        """Index of the planned day containing an offset (clamped to the horizon)."""
        for index in range(len(self.days)):
            if offset < self.day_start[index + 1]:
                return max(index, 0)
        return len(self.days) - 1

    def local_date(self, moment: datetime) -> date:
        return self.localize(moment).astimezone(self.zone).date()
