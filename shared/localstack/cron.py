"""A small matcher for the five-field cron expressions used in infra/scheduler.json.

Supports what Cloud Scheduler jobs here use: ``*``, ``*/n``, numbers, ``a-b``, ``a-b/n`` and
comma lists, for minute, hour, day of month, month and day of week (0 or 7 = Sunday).
"""

from __future__ import annotations

from datetime import datetime

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field_values(expr: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in expr.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step < 1:
                raise ValueError("cron step must be positive")
        if part == "*":
            start, end = low, high
        elif "-" in part:
            start_text, end_text = part.split("-", 1)
            start, end = int(start_text), int(end_text)
        else:
            start = end = int(part)
        if start < low or end > high or start > end:
            raise ValueError(f"cron value out of range: {part}")
        values.update(range(start, end + 1, step))
    return values


class Cron:
    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError("a cron expression has five fields")
        self.expression = expression
        self._fields = [_field_values(f, lo, hi) for f, (lo, hi) in zip(fields, _RANGES)]
        if 7 in self._fields[4]:
            self._fields[4].add(0)
        self._dom_any = fields[2] == "*"
        self._dow_any = fields[4] == "*"

    def matches(self, moment: datetime) -> bool:
        minute, hour, dom, month, dow = self._fields
        if moment.minute not in minute or moment.hour not in hour or moment.month not in month:
            return False
        day_ok = moment.day in dom
        weekday_ok = (moment.isoweekday() % 7) in dow
        # Vixie cron: when both day fields are restricted, either one matching is enough.
        if not self._dom_any and not self._dow_any:
            return day_ok or weekday_ok
        return day_ok and weekday_ok
