"""What the tenant's memory holds for a task or a routine: its text and its properties as metadata.

The text is what a user would search by meaning (title, notes, tags for a task; title and when it
happens for a routine); the metadata is what the agent filters on (``kind``, ``status``,
``priority``, ``due``...). Ids are the Notion page ids, so a hit leads straight back to
``tasks/{id}`` or ``routines/{id}`` in the document store.
"""

from __future__ import annotations

from typing import Any

from shared.memory.documents import MemoryDocument
from shared.models import Routine, Task

SOURCE = "notion"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def task_text(task: Task) -> str:
    parts = [task.title]
    if task.notes:
        parts.append(task.notes)
    if task.tags:
        parts.append("Tags: " + ", ".join(task.tags))
    return "\n".join(parts)


def routine_text(routine: Routine) -> str:
    recurrence = routine.recurrence
    if recurrence.kind == "weekly":
        when = "weekly on " + ", ".join(_WEEKDAYS[d - 1] for d in sorted(recurrence.days))
    else:
        when = recurrence.kind
    window = f"{routine.window_start.strftime('%H:%M')}-{routine.window_end.strftime('%H:%M')}"
    return f"{routine.title}\nRoutine, {when}, {routine.duration_minutes} min between {window}"


def task_document(task: Task, *, data_source_id: str) -> MemoryDocument:
    metadata: dict[str, Any] = {
        "kind": "task",
        "source": SOURCE,
        "data_source_id": data_source_id,
        "title": task.title,
        "status": task.status,
        "priority": int(task.priority),
        "due": task.due,
        "scheduled_start": task.scheduled_start,
        "estimate_minutes": task.estimate_minutes,
        "tags": task.tags,
        "url": task.url,
        "last_edited_time": task.last_edited_time,
    }
    return MemoryDocument(task.id, task_text(task), metadata)


def routine_document(routine: Routine, *, data_source_id: str) -> MemoryDocument:
    metadata: dict[str, Any] = {
        "kind": "routine",
        "source": SOURCE,
        "data_source_id": data_source_id,
        "title": routine.title,
        "recurrence": routine.recurrence.kind,
        "days": routine.recurrence.days,
        "window_start": routine.window_start,
        "window_end": routine.window_end,
        "duration_minutes": routine.duration_minutes,
        "priority": int(routine.priority),
        "active": routine.active,
        "url": routine.url,
        "last_edited_time": routine.last_edited_time,
    }
    return MemoryDocument(routine.id, routine_text(routine), metadata)
