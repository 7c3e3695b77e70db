"""Local planning time → UTC instants across timezones and the two DST changes of a year."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from shared.agent.planning_time import (
    due_day,
    first_planning_instant,
    local_today,
    next_planning_instant,
    planning_instant,
)
from shared.models import UserConfig, WorkingHours

UTC = timezone.utc


def config(tz: str, at: time = time(7, 30), **kwargs) -> UserConfig:
    return UserConfig(timezone=tz, planning_time=at, **kwargs)


@pytest.mark.parametrize(
    ("tz", "at", "day", "expected"),
    [
        # Europe/Paris: CET (+1) before 2026-03-29 02:00, CEST (+2) until 2026-10-25 03:00.
        ("Europe/Paris", time(7, 30), date(2026, 3, 28), datetime(2026, 3, 28, 6, 30, tzinfo=UTC)),
        ("Europe/Paris", time(7, 30), date(2026, 3, 29), datetime(2026, 3, 29, 5, 30, tzinfo=UTC)),
        ("Europe/Paris", time(7, 30), date(2026, 10, 25), datetime(2026, 10, 25, 6, 30, tzinfo=UTC)),
        # The gap: 02:30 does not exist on 2026-03-29; read with the offset before it = 03:30 CEST.
        ("Europe/Paris", time(2, 30), date(2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # The fold: 02:30 happens twice on 2026-10-25; the first one (CEST) is the planning time.
        ("Europe/Paris", time(2, 30), date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        # America/New_York: EST (-5) until 2026-03-08, EDT (-4) until 2026-11-01.
        ("America/New_York", time(7, 30), date(2026, 3, 7), datetime(2026, 3, 7, 12, 30, tzinfo=UTC)),
        ("America/New_York", time(7, 30), date(2026, 3, 8), datetime(2026, 3, 8, 11, 30, tzinfo=UTC)),
        ("America/New_York", time(2, 15), date(2026, 3, 8), datetime(2026, 3, 8, 7, 15, tzinfo=UTC)),  # gap
        ("America/New_York", time(1, 30), date(2026, 11, 1), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # fold
        # Asia/Kolkata: +05:30 all year; the local day starts at 18:30 UTC the day before.
        ("Asia/Kolkata", time(7, 30), date(2026, 3, 29), datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),
        ("Asia/Kolkata", time(0, 15), date(2026, 3, 29), datetime(2026, 3, 28, 18, 45, tzinfo=UTC)),
        # Pacific/Auckland: NZDT (+13) until 2026-04-05 03:00, NZST (+12) until 2026-09-27 02:00.
        ("Pacific/Auckland", time(7, 30), date(2026, 4, 4), datetime(2026, 4, 3, 18, 30, tzinfo=UTC)),
        ("Pacific/Auckland", time(7, 30), date(2026, 4, 5), datetime(2026, 4, 4, 19, 30, tzinfo=UTC)),
        ("Pacific/Auckland", time(2, 30), date(2026, 4, 5), datetime(2026, 4, 4, 13, 30, tzinfo=UTC)),  # fold
        ("Pacific/Auckland", time(2, 30), date(2026, 9, 27), datetime(2026, 9, 26, 14, 30, tzinfo=UTC)),  # gap
    ],
)
def test_planning_instant(tz, at, day, expected):
    assert planning_instant(config(tz, at), day) == expected


def test_every_day_has_exactly_one_planning_instant_through_a_year_of_dst():
    for tz in ("Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"):
        for at in (time(0, 0), time(2, 30), time(7, 30), time(23, 59)):
            cfg = config(tz, at)
            previous = None
            instant = datetime(2026, 1, 1, tzinfo=UTC)
            days = []
            for _ in range(365):
                instant = next_planning_instant(cfg, after=instant)
                days.append(due_day(cfg, instant))
                if previous is not None:
                    # Consecutive plans are 23 to 25 hours apart, never twice in a day.
                    assert timedelta(hours=23) <= instant - previous <= timedelta(hours=25)
                previous = instant
            assert days == sorted(set(days)), (tz, at)  # one per local day, no day twice
            assert (days[-1] - days[0]).days == 364


def test_due_day_is_the_latest_day_whose_time_has_come():
    cfg = config("Europe/Paris", time(23, 58))
    # Sunday 29 March's plan is due at 23:58 CEST = 21:58 UTC. The tick at 00:00 CEST on Monday
    # (22:00 UTC) still plans Sunday, two minutes late; a minute before, nothing is due.
    assert due_day(cfg, datetime(2026, 3, 29, 22, 0, tzinfo=UTC)) == date(2026, 3, 29)
    assert due_day(cfg, datetime(2026, 3, 29, 21, 58, tzinfo=UTC)) == date(2026, 3, 29)
    assert due_day(cfg, datetime(2026, 3, 29, 21, 57, tzinfo=UTC)) is None


def test_due_day_gives_up_on_a_day_more_than_twelve_hours_late():
    cfg = config("Asia/Kolkata", time(7, 30))  # 02:00 UTC
    assert due_day(cfg, datetime(2026, 3, 29, 13, 59, tzinfo=UTC)) == date(2026, 3, 29)
    assert due_day(cfg, datetime(2026, 3, 29, 14, 1, tzinfo=UTC)) is None
    assert due_day(cfg, datetime(2026, 3, 29, 1, 59, tzinfo=UTC)) is None  # yesterday's is too old


def test_first_planning_instant_plans_today_during_working_hours_only():
    cfg = config("America/New_York", time(7, 30), working_hours=WorkingHours(start=time(9), end=time(17)))
    monday_10am = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert first_planning_instant(cfg, now=monday_10am) == monday_10am
    monday_6pm = datetime(2026, 3, 9, 22, 0, tzinfo=UTC)
    assert first_planning_instant(cfg, now=monday_6pm) == datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    monday_6am = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert first_planning_instant(cfg, now=monday_6am) == datetime(2026, 3, 9, 11, 30, tzinfo=UTC)
    saturday_10am = datetime(2026, 3, 14, 14, 0, tzinfo=UTC)
    assert first_planning_instant(cfg, now=saturday_10am) == datetime(2026, 3, 15, 11, 30, tzinfo=UTC)


def test_local_today_follows_the_zone():
    instant = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
    assert local_today(config("Pacific/Auckland"), instant) == date(2026, 4, 5)
    assert local_today(config("America/New_York"), instant) == date(2026, 4, 4)
