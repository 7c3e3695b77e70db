"""Dates and times in plain English ("Friday", "tomorrow 3pm"), resolved on the user's wall clock.

Used by the offline adapter. :func:`extract_when` finds at most one date phrase and one time
phrase in a text, resolves them against ``now`` (an aware datetime already in the user's
timezone) and returns them with the text that is left once the phrases are cut out.

Understood, case-insensitively:

* days: ``today``, ``tonight``, ``tomorrow`` (``tmrw``), ``the day after tomorrow``, weekday names
  (``Friday``; ``fri`` after on/by/due/to/until/next/this), ``next Friday``, ``next week``
  (its Monday), ``in 3 days`` / ``in two weeks``, ISO ``2026-12-04``, ``4 Dec`` / ``December 4th``
  (optionally with a year);
* times: ``3pm``, ``3:30 pm``, ``15:00``, ``at 9``, ``noon``; ``morning`` (09:00), ``afternoon``
  (14:00) and ``evening`` (18:00) right after a day or as ``in the``/``this`` morning; ``tonight``
  is today at 20:00.

Conventions (documented because English is ambiguous):

* a bare weekday is today if today is that day, else its next occurrence; ``next Friday`` is the
  first Friday strictly after today;
* a month and day without a year is this year's, or next year's if it has passed;
* ``at 1`` … ``at 6`` without am/pm means the afternoon (a planner's working day), ``at 7`` …
  ``at 12`` the morning or noon;
* a time without a day is today, or tomorrow if that time has already passed;
* a wall-clock time that does not exist (skipped by a daylight-saving change) moves forward by
  the gap; an ambiguous one (repeated) is the first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_WEEKDAY_ABBREVIATIONS = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "weds": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

_WEEKDAY_NAMES = "|".join(_WEEKDAYS)
_ABBREVIATIONS = "|".join(sorted(_WEEKDAY_ABBREVIATIONS, key=len, reverse=True))
_MONTH_WORDS = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_NUMBER_WORDS = r"\d+|" + "|".join(_NUMBERS)

# Each pattern names its groups; the resolver below reads them. Order matters: longer phrases first.
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("after_tomorrow", r"\b(?:the\s+)?day\s+after\s+tomorrow\b"),
        ("iso", r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
        ("day_month", r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_WORDS + r"(?:,?\s+(?P<year>\d{4}))?(?!\w)"),
        ("month_day", r"\b" + _MONTH_WORDS + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?\b"),
        ("in_days", r"\bin\s+(?P<n>" + _NUMBER_WORDS + r")\s+(?P<unit>days?|weeks?)\b"),
        ("next_week", r"\bnext\s+week\b"),
        ("weekday", r"\b(?:(?P<mod>next|this|on)\s+)?(?P<wd>" + _WEEKDAY_NAMES + r")\b"),
        (
            "weekday_abbr",
            r"\b(?P<kw>on|by|due|to|until|till|next|this)\s+(?P<abbr>" + _ABBREVIATIONS + r")\b\.?",
        ),
        ("today", r"\b(?:today|tonight)\b"),
        ("tomorrow", r"\b(?:tomorrow|tmrw|tmr)\b"),
    )
)

_TIME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("ampm", r"\b(?:at\s+)?(?P<h>\d{1,2})(?::(?P<min>[0-5]\d))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?!\w)"),
        ("clock", r"\b(?:at\s+)?(?P<h>[01]?\d|2[0-3])[:h](?P<min>[0-5]\d)\b"),
        ("at_hour", r"\bat\s+(?P<h>\d{1,2})\b(?!\s*(?:%|min|h\b|hours?|days?))"),
        ("noon", r"\b(?:at\s+)?(?:noon|midday)\b"),
        # A bare "morning" could be part of a title ("morning run"): only "in the"/"this" morning
        # here; "tomorrow morning" is read together with its day in extract_when.
        ("part", r"\b(?:in\s+the|this)\s+(?P<part>morning|afternoon|evening)\b"),
    )
)

_PARTS_OF_DAY = {"morning": time(9, 0), "afternoon": time(14, 0), "evening": time(18, 0)}


@dataclass(frozen=True)
class When:
    """A resolved day, with a wall-clock time when one was given."""

    day: date
    at: time | None = None

    def to_datetime(self, tz) -> datetime | None:
        """The instant on the user's clock (``None`` for a day without a time)."""
        if self.at is None:
            return None
        naive = datetime.combine(self.day, self.at)
        # Through UTC and back: a time skipped by a DST change moves forward by the gap.
        return naive.replace(tzinfo=tz).astimezone(timezone.utc).astimezone(tz)

    def iso(self, tz) -> str:
        """``YYYY-MM-DD`` for a day, an ISO 8601 timestamp with the UTC offset for a time."""
        instant = self.to_datetime(tz)
        return instant.isoformat() if instant is not None else self.day.isoformat()


def _weekday_on_or_after(today: date, weekday: int, *, strictly_after: bool) -> date:
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and strictly_after:
        ahead = 7
    return today + timedelta(days=ahead)


def _month_day(today: date, month: int, day: int, year: str | None) -> date | None:
    try:
        if year:
            return date(int(year), month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None  # 30 February and the like: not a date


def _resolve_date(kind: str, match: re.Match[str], today: date) -> date | None:
    if kind == "after_tomorrow":
        return today + timedelta(days=2)
    if kind == "today":
        return today
    if kind == "tomorrow":
        return today + timedelta(days=1)
    if kind == "iso":
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            return None
    if kind in ("day_month", "month_day"):
        month = _MONTHS[match["month"].lower()[:3]]
        return _month_day(today, month, int(match["day"]), match["year"])
    if kind == "in_days":
        raw = match["n"].lower()
        count = int(raw) if raw.isdigit() else _NUMBERS[raw]
        return today + timedelta(days=count * (7 if match["unit"].lower().startswith("week") else 1))
    if kind == "next_week":
        return _weekday_on_or_after(today, 0, strictly_after=True)
    if kind == "weekday":
        modifier = (match["mod"] or "").lower()
        return _weekday_on_or_after(today, _WEEKDAYS[match["wd"].lower()], strictly_after=modifier == "next")
    if kind == "weekday_abbr":
        return _weekday_on_or_after(
            today, _WEEKDAY_ABBREVIATIONS[match["abbr"].lower()], strictly_after=match["kw"].lower() == "next"
        )
    raise AssertionError(f"unknown date pattern {kind}")


def _resolve_time(kind: str, match: re.Match[str]) -> time | None:
    if kind == "ampm":
        hour, minute = int(match["h"]), int(match["min"] or 0)
        if not 1 <= hour <= 12:
            return None
        pm = match["ampm"].lower().startswith("p")
        return time(hour % 12 + (12 if pm else 0), minute)
    if kind == "clock":
        return time(int(match["h"]), int(match["min"]))
    if kind == "at_hour":
        hour = int(match["h"])
        if hour > 23:
            return None
        return time(hour + 12 if 1 <= hour <= 6 else hour, 0)
    if kind == "noon":
        return time(12, 0)
    if kind == "part":
        return _PARTS_OF_DAY[match["part"].lower()]
    raise AssertionError(f"unknown time pattern {kind}")


def _cut(text: str, span: tuple[int, int]) -> str:
    return f"{text[: span[0]]} {text[span[1] :]}"


def _first(patterns, text: str, resolve):
    """The earliest match in ``text`` across ``patterns`` that resolves to a value."""
    best = None
    for kind, pattern in patterns:
        for match in pattern.finditer(text):
            value = resolve(kind, match)
            if value is not None and (best is None or match.start() < best[1].start()):
                best = (value, match)
            if value is not None:
                break
    return best


_PART_AFTER_DAY = re.compile(r"^\s+(?:in\s+the\s+)?(?P<part>morning|afternoon|evening)\b", re.IGNORECASE)


def extract_when(text: str, *, now: datetime) -> tuple[When | None, str]:
    """The day/time phrase in ``text`` resolved against ``now`` (user's wall clock), and the rest.

    Returns ``(None, text)`` when the text names neither a day nor a time.
    """
    today = now.date()
    rest = text
    day: date | None = None
    at: time | None = None
    found_day = _first(_DATE_PATTERNS, rest, lambda kind, m: _resolve_date(kind, m, today))
    if found_day is not None:
        day, match = found_day
        start, end = match.span()
        part = _PART_AFTER_DAY.match(rest[end:])
        if part is not None:  # "tomorrow morning"
            at, end = _PARTS_OF_DAY[part["part"].lower()], end + part.end()
        elif match.group(0).lower().strip() == "tonight":
            at = time(20, 0)
        rest = _cut(rest, (start, end))
    if at is None:
        found_time = _first(_TIME_PATTERNS, rest, _resolve_time)
        if found_time is not None:
            at, match = found_time
            rest = _cut(rest, match.span())
    if day is None and at is None:
        return None, text
    if day is None:
        day = today
        if datetime.combine(today, at) < now.replace(tzinfo=None):
            day = today + timedelta(days=1)
    return When(day, at), " ".join(rest.split())
