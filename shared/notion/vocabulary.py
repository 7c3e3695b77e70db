"""The words users put in Notion and what they mean to the planner (pure functions).

Status and priority option names, weekday names, durations ("1h30", "90 min") and times of day
("9:30", "2pm") are matched case-insensitively after collapsing spaces, dashes and underscores,
so "In progress", "in-progress" and "IN_PROGRESS" all mean the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time

from shared.models import Priority, Recurrence, TaskStatus


def normalise(word: str) -> str:
    """Lower case, with runs of spaces, dashes, underscores and dots collapsed to one space."""
    return re.sub(r"[\s_\-.]+", " ", word.strip().lower()).strip()


STATUS_ALIASES: dict[str, TaskStatus] = {
    **dict.fromkeys(
        ["not started", "to do", "todo", "to-do", "backlog", "inbox", "next", "open", "planned", "new"],
        TaskStatus.TODO,
    ),
    **dict.fromkeys(["in progress", "doing", "started", "wip", "active", "ongoing"], TaskStatus.IN_PROGRESS),
    **dict.fromkeys(["blocked", "waiting", "on hold", "paused", "waiting for"], TaskStatus.BLOCKED),
    **dict.fromkeys(["done", "complete", "completed", "finished", "closed", "resolved"], TaskStatus.DONE),
    **dict.fromkeys(["cancelled", "canceled", "won't do", "wont do", "dropped", "abandoned"], TaskStatus.CANCELLED),
}

# The names written for a status when the data source's options are unknown (our template's).
STATUS_NAMES: dict[TaskStatus, str] = {
    TaskStatus.TODO: "To do",
    TaskStatus.IN_PROGRESS: "In progress",
    TaskStatus.BLOCKED: "Blocked",
    TaskStatus.DONE: "Done",
    TaskStatus.CANCELLED: "Cancelled",
}

PRIORITY_ALIASES: dict[str, Priority] = {
    **dict.fromkeys(["low", "p4", "minor", "someday", "nice to have"], Priority.LOW),
    **dict.fromkeys(["medium", "normal", "p3", "med", "moderate"], Priority.MEDIUM),
    **dict.fromkeys(["high", "p2", "important", "major"], Priority.HIGH),
    **dict.fromkeys(["urgent", "p1", "p0", "critical", "asap", "highest"], Priority.URGENT),
}

PRIORITY_NAMES: dict[Priority, str] = {
    Priority.LOW: "Low",
    Priority.MEDIUM: "Medium",
    Priority.HIGH: "High",
    Priority.URGENT: "Urgent",
}

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAYS: dict[str, int] = {}
for _number, _name in enumerate(WEEKDAY_NAMES, start=1):
    for _alias in (_name, _name[:3], _name[:2]):
        _WEEKDAYS[_alias.lower()] = _number
_WEEKDAYS.update({"tues": 2, "thur": 4, "thurs": 4, "weds": 3})

_DAILY = {"daily", "every day", "everyday", "each day", "day"}
_WEEKDAYS_KIND = {"weekdays", "weekday", "workdays", "every weekday", "mon fri", "monday friday", "business days"}
_WEEKENDS = {"weekends", "weekend", "every weekend"}
_WEEKLY = {"weekly", "every week", "custom", "specific days"}


def lookup(name: str | None, table: Mapping[str, object], extra: Mapping[str, object] | None = None) -> object | None:
    """``name`` looked up in ``extra`` then ``table`` after normalising; ``None`` if unknown."""
    if not name:
        return None
    key = normalise(name)
    for source in (extra or {}, table):
        for alias, value in source.items():
            if normalise(alias) == key:
                return value
    return None


def weekday_number(name: str) -> int | None:
    """ISO weekday (1 = Monday) of a weekday name or abbreviation."""
    key = normalise(name)
    return _WEEKDAYS.get(key) or _WEEKDAYS.get(key.rstrip("s"))  # "Mondays" too


def recurrence_from_days(days: set[int]) -> Recurrence:
    """The simplest recurrence that happens on exactly ``days``."""
    if days == set(range(1, 8)):
        return Recurrence(kind="daily")
    if days == set(range(1, 6)):
        return Recurrence(kind="weekdays")
    return Recurrence(kind="weekly", days=sorted(days))


def parse_recurrence(words: list[str], extra_days: list[str] | None = None) -> Recurrence | None:
    """A recurrence from option names: a kind ("Daily", "Weekdays", "Weekly") or weekday names.

    ``extra_days`` are the weekday names of a separate "Days" property, used with "Weekly".
    Returns ``None`` if the words mean nothing recognisable.
    """
    days: set[int] = set()
    weekly = False
    for word in words:
        key = normalise(word)
        if key in _DAILY:
            return Recurrence(kind="daily")
        if key in _WEEKDAYS_KIND:
            return Recurrence(kind="weekdays")
        if key in _WEEKENDS:
            days.update({6, 7})
        elif key in _WEEKLY:
            weekly = True
        elif (number := weekday_number(word)) is not None:
            days.add(number)
        else:
            return None
    if weekly:
        for word in extra_days or []:
            if (number := weekday_number(word)) is not None:
                days.add(number)
    return recurrence_from_days(days) if days else None


def recurrence_day_names(recurrence: Recurrence) -> list[str]:
    """The weekday names a recurrence happens on."""
    if recurrence.kind == "daily":
        return list(WEEKDAY_NAMES)
    if recurrence.kind == "weekdays":
        return list(WEEKDAY_NAMES[:5])
    return [WEEKDAY_NAMES[d - 1] for d in sorted(recurrence.days)]


_DURATION = re.compile(
    r"^\s*(?:(?P<hours>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hour|hours)\s*)?"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)\s*(?:m|min|mins|minute|minutes)?\s*)?$",
    re.IGNORECASE,
)
_CLOCK_DURATION = re.compile(r"^\s*(\d{1,2}):([0-5]\d)\s*$")


def parse_duration_minutes(text: str) -> int | None:
    """Minutes in "90", "90 min", "1h", "1h30", "1.5 hours", "1:30"; ``None`` if unreadable."""
    if match := _CLOCK_DURATION.match(text):
        return int(match.group(1)) * 60 + int(match.group(2))
    match = _DURATION.match(text)
    if not match or not (match.group("hours") or match.group("minutes")):
        return None
    hours = float((match.group("hours") or "0").replace(",", "."))
    minutes = float((match.group("minutes") or "0").replace(",", "."))
    return round(hours * 60 + minutes)


_TIME = re.compile(r"^\s*(\d{1,2})(?:[:h.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.IGNORECASE)


def parse_time_of_day(text: str) -> time | None:
    """A time of day from "09:30", "9:30", "9h30", "9am", "2:15 pm"; ``None`` if unreadable."""
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or "").lower().replace(".", "")
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare "9" is too ambiguous to be a time
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
