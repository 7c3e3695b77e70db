"""Minutes on the local day are computed from real instants: DST days are 23 or 25 hours long."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.planning.timeline import Timeline

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("zone", "day", "minutes"),
    [
        (PARIS, date(2026, 3, 29), 23 * 60),  # spring forward
        (PARIS, date(2026, 10, 25), 25 * 60),  # fall back
        (PARIS, date(2026, 3, 30), 24 * 60),
        (NEW_YORK, date(2026, 3, 8), 23 * 60),
        (NEW_YORK, date(2026, 11, 1), 25 * 60),
        (ZoneInfo("Australia/Lord_Howe"), date(2026, 4, 5), 24 * 60 + 30),  # a 30-minute shift
    ],
)
def test_day_length_follows_the_zone(zone, day, minutes):
    assert Timeline(day, 1, zone).length == minutes


def test_wall_times_after_the_spring_gap_are_an_hour_closer():
    timeline = Timeline(date(2026, 3, 29), 1, PARIS)
    assert timeline.wall(0, time(1, 0)) == 60
    assert timeline.wall(0, time(3, 0)) == 120  # 02:00-03:00 does not exist
    assert timeline.wall(0, time(17, 0)) == 16 * 60
    # A wall time inside the gap maps to the instant PEP 495 gives it: 02:30 -> 03:30 CEST.
    assert timeline.moment(timeline.wall(0, time(2, 30))).strftime("%H:%M%z") == "03:30+0200"


def test_repeated_hour_on_fall_back_day_has_two_distinct_moments():
    timeline = Timeline(date(2026, 10, 25), 1, PARIS)
    first, second = timeline.moment(150), timeline.moment(210)  # 02:30 CEST, then 02:30 CET
    assert (first.hour, first.minute, first.fold) == (2, 30, 0)
    assert (second.hour, second.minute, second.fold) == (2, 30, 1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert timeline.wall(0, time(17, 0)) == 18 * 60


def test_multi_day_horizon_accumulates_real_day_lengths():
    timeline = Timeline(date(2026, 3, 28), 3, PARIS)
    assert timeline.day_lengths == (24 * 60, 23 * 60, 24 * 60)
    assert timeline.day_index(24 * 60 + 5) == 1
    assert timeline.moment(timeline.day_start[2]) == datetime(2026, 3, 30, tzinfo=PARIS)


def test_instants_round_outwards_and_naive_times_are_local():
    timeline = Timeline(date(2026, 6, 1), 1, NEW_YORK)
    moment = datetime(2026, 6, 1, 9, 0, 30, tzinfo=NEW_YORK)
    assert (timeline.floor(moment), timeline.ceil(moment)) == (540, 541)
    assert timeline.floor(datetime(2026, 6, 1, 13, 0, tzinfo=UTC)) == 9 * 60
    assert timeline.localize(datetime(2026, 6, 1, 9, 0)).utcoffset() == timedelta(hours=-4)
    assert timeline.end_of(date(2026, 6, 1)) == datetime(2026, 6, 2, tzinfo=NEW_YORK)
