"""Relative dates and times resolved on the user's clock, including daylight-saving changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.llm.when import When, extract_when

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=PARIS)  # a Tuesday


@pytest.mark.parametrize(
    "text, day, at, rest",
    [
        ("today", date(2026, 12, 1), None, ""),
        ("tomorrow", date(2026, 12, 2), None, ""),
        ("the day after tomorrow", date(2026, 12, 3), None, ""),
        ("Friday", date(2026, 12, 4), None, ""),
        ("tuesday", date(2026, 12, 1), None, ""),  # today is Tuesday
        ("next tuesday", date(2026, 12, 8), None, ""),
        ("next Friday", date(2026, 12, 4), None, ""),
        ("due fri", date(2026, 12, 4), None, ""),
        ("next week", date(2026, 12, 7), None, ""),
        ("in 3 days", date(2026, 12, 4), None, ""),
        ("in two weeks", date(2026, 12, 15), None, ""),
        ("2027-01-15", date(2027, 1, 15), None, ""),
        ("dec 24th", date(2026, 12, 24), None, ""),
        ("4 December 2027", date(2027, 12, 4), None, ""),
        ("the 1st of Jan", date(2027, 1, 1), None, "the"),  # passed this year: next year's
        ("tomorrow 3pm", date(2026, 12, 2), time(15, 0), ""),
        ("friday at 9:45am", date(2026, 12, 4), time(9, 45), ""),
        ("tomorrow at 14:30", date(2026, 12, 2), time(14, 30), ""),
        ("tomorrow at 3", date(2026, 12, 2), time(15, 0), ""),  # 1-6 without am/pm: afternoon
        ("tomorrow at 9", date(2026, 12, 2), time(9, 0), ""),
        ("tomorrow morning", date(2026, 12, 2), time(9, 0), ""),
        ("friday afternoon", date(2026, 12, 4), time(14, 0), ""),
        ("tonight", date(2026, 12, 1), time(20, 0), ""),
        ("at noon", date(2026, 12, 1), time(12, 0), ""),
        ("3pm", date(2026, 12, 1), time(15, 0), ""),
        ("9am", date(2026, 12, 2), time(9, 0), ""),  # already past today: tomorrow
        ("write report due Friday", date(2026, 12, 4), None, "write report due"),
    ],
)
def test_phrases(text, day, at, rest):
    when, left = extract_when(text, now=NOW)

    assert when == When(day, at)
    assert left == rest


@pytest.mark.parametrize("text", ["buy milk", "morning run", "2026-02-30", "Feb 30", "sun cream", "at 99"])
def test_no_date_or_time(text):
    assert extract_when(text, now=NOW) == (None, text)


def test_iso_output_carries_the_offset_of_that_day():
    summer = When(date(2026, 7, 1), time(15, 0)).iso(PARIS)
    winter = When(date(2026, 12, 1), time(15, 0)).iso(PARIS)

    assert (summer, winter) == ("2026-07-01T15:00:00+02:00", "2026-12-01T15:00:00+01:00")
    assert When(date(2026, 12, 1)).iso(PARIS) == "2026-12-01"


def test_tomorrow_across_the_spring_forward_change():
    # Saturday 28 March 2026 in Paris; clocks jump from 02:00 to 03:00 on Sunday 29 March.
    saturday_night = datetime(2026, 3, 28, 23, 0, tzinfo=PARIS)

    when, _ = extract_when("tomorrow 9am", now=saturday_night)
    skipped, _ = extract_when("tomorrow 2:30am", now=saturday_night)

    assert when.iso(PARIS) == "2026-03-29T09:00:00+02:00"
    assert skipped.iso(PARIS) == "2026-03-29T03:30:00+02:00"  # 02:30 does not exist: moved by the gap


def test_an_ambiguous_time_in_the_fall_back_hour_is_the_first_one():
    saturday = datetime(2026, 10, 24, 12, 0, tzinfo=PARIS)  # clocks go back at 03:00 on 25 October

    when, _ = extract_when("tomorrow 2:30am", now=saturday)

    assert when.iso(PARIS) == "2026-10-25T02:30:00+02:00"


_WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@given(
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)),
    weekday=st.integers(min_value=0, max_value=6),
    nxt=st.booleans(),
)
def test_weekdays_land_on_that_weekday_within_a_week(now, weekday, nxt):
    local = now.replace(tzinfo=PARIS)
    text = ("next " if nxt else "") + _WEEKDAY_NAMES[weekday]

    when, _ = extract_when(text, now=local)

    ahead = (when.day - local.date()).days
    assert when.day.weekday() == weekday
    assert (1 <= ahead <= 7) if nxt else (0 <= ahead <= 6)


@given(
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31)),
    hour=st.integers(min_value=1, max_value=12),
    pm=st.booleans(),
)
def test_a_time_alone_is_the_next_such_time(now, hour, pm):
    local = now.replace(tzinfo=PARIS)

    when, _ = extract_when(f"{hour}{'pm' if pm else 'am'}", now=local)

    assert when.at == time(hour % 12 + (12 if pm else 0))
    assert when.day in (local.date(), local.date() + timedelta(days=1))
    assert datetime.combine(when.day, when.at) >= local.replace(tzinfo=None) - timedelta(minutes=1)
