"""Words users type in Notion: durations, times of day, recurrences."""

from __future__ import annotations

from datetime import time

import pytest

from shared.models import Recurrence
from shared.notion.vocabulary import parse_duration_minutes, parse_recurrence, parse_time_of_day, recurrence_day_names


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("90 min", 90), ("1h", 60), ("1h30", 90), ("1 h 30 m", 90), ("1.5 hours", 90), ("2,5h", 150), ("1:15", 75), ("about an hour", None), ("", None), ("h", None)],
)
def test_durations(text, minutes):
    assert parse_duration_minutes(text) == minutes


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:30", time(9, 30)), ("9:30", time(9, 30)), ("9h30", time(9, 30)), ("9am", time(9)), ("12 pm", time(12)), ("12am", time(0)), ("2:15 PM", time(14, 15)), ("9", None), ("25:00", None), ("13pm", None), ("noon", None)],
)
def test_times_of_day(text, expected):
    assert parse_time_of_day(text) == expected


def test_recurrences_and_their_day_names():
    assert parse_recurrence(["Every day"]) == Recurrence(kind="daily")
    assert parse_recurrence(["Weekly"], ["Mondays", "thurs"]) == Recurrence(kind="weekly", days=[1, 4])
    assert parse_recurrence(["Sat", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri"]) == Recurrence(kind="daily")
    assert parse_recurrence(["Weekly"]) is None  # no days given
    assert parse_recurrence(["Blue moon"]) is None
    assert recurrence_day_names(Recurrence(kind="weekly", days=[7, 2])) == ["Tuesday", "Sunday"]
