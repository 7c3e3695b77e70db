"""What the planner itself wrote into tasks' "Scheduled" property: ``agent/scheduled``.

In Notion a task's Scheduled time means "fixed by the user" to the planning engine. The planner also
writes that property (the time it chose), and the sync reads it back, so without a record the
planner's own choice would come back as a user-fixed time and freeze the task there forever. This
record keeps, per task, the last start the planner wrote and the local dates it was planned on:

* a task whose Scheduled equals one of the planner's recent writes is planned freely (the time is
  ours); a task whose Scheduled differs was moved by the user and is kept where the user put it.
  Recent writes, not only the last one: the job records a write *before* making it, so whether
  Notion took it or the job died first, the value Notion holds is one the planner knows;
* the dates give ``Task.carried_over_days`` (planned on earlier days, still not done).

One small document per tenant; entries of tasks that no longer exist are dropped when it is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.models import Task
from shared.store.base import DocumentStore

PATH = "agent/scheduled"
MAX_DAYS_KEPT = 14
MAX_STARTS_KEPT = 4


@dataclass
class Written:
    """The planner's last write into one task's Scheduled property."""

    start: datetime | None
    end: datetime | None = None
    days: list[date] = field(default_factory=list)  # local dates the task was planned on
    starts: list[datetime] = field(default_factory=list)  # recent starts written, newest last


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


class ScheduledWrites:
    """The record of one tenant, loaded with :meth:`load` and written back with :meth:`save`."""

    def __init__(self, entries: dict[str, Written] | None = None) -> None:
        self.entries: dict[str, Written] = dict(entries or {})

    @classmethod
    def load(cls, store: DocumentStore, *, tenant_id: str) -> "ScheduledWrites":
        data = store.get(PATH, tenant_id=tenant_id) or {}
        entries: dict[str, Written] = {}
        for item in data.get("entries") or []:
            if not isinstance(item, dict) or not isinstance(item.get("task_id"), str):
                continue
            days = []
            for raw in item.get("days") or []:
                try:
                    days.append(date.fromisoformat(raw))
                except (TypeError, ValueError):
                    continue
            starts = [moment for moment in map(_instant, item.get("starts") or []) if moment is not None]
            start = _instant(item.get("start"))
            if start is not None and start not in starts:
                starts.append(start)
            entries[item["task_id"]] = Written(start, _instant(item.get("end")), days, starts)
        return cls(entries)

    def save(self, store: DocumentStore, *, tenant_id: str, keep: Iterable[str]) -> None:
        """Write the record, keeping only the tasks in ``keep`` (the ones that still exist)."""
        alive = set(keep)
        entries = [
            {
                "task_id": task_id,
                "start": entry.start.isoformat() if entry.start else None,
                "end": entry.end.isoformat() if entry.end else None,
                "days": [d.isoformat() for d in sorted(set(entry.days))[-MAX_DAYS_KEPT:]],
                "starts": [moment.isoformat() for moment in entry.starts[-MAX_STARTS_KEPT:]],
            }
            for task_id, entry in sorted(self.entries.items())
            if task_id in alive
        ]
        store.set(PATH, {"entries": entries}, tenant_id=tenant_id)

    def last_start(self, task_id: str) -> datetime | None:
        entry = self.entries.get(task_id)
        return entry.start if entry else None

    def is_own(self, task: Task) -> bool:
        """True when the task's Scheduled time is one the planner wrote recently (same instant)."""
        entry = self.entries.get(task.id)
        return task.scheduled_start is not None and entry is not None and task.scheduled_start in entry.starts

    def user_fixed_start(self, task: Task) -> datetime | None:
        """The task's Scheduled time if the user set it, ``None`` if unset or the planner's own."""
        return None if task.scheduled_start is None or self.is_own(task) else task.scheduled_start

    def carried_over_days(self, task_id: str, day: date) -> int:
        entry = self.entries.get(task_id)
        return sum(1 for d in set(entry.days) if d < day) if entry else 0

    def record(self, task_id: str, *, start: datetime | None, end: datetime | None, day: date | None) -> None:
        entry = self.entries.setdefault(task_id, Written(None))
        entry.start, entry.end = start, end
        if start is not None:
            entry.starts = [moment for moment in entry.starts if moment != start][-(MAX_STARTS_KEPT - 1):] + [start]
        if day is not None and day not in entry.days:
            entry.days.append(day)
