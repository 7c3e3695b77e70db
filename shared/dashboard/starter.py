"""Example tasks and routines onboarding can write into freshly created databases, so that the
first plan shows what the planner does. Due dates are relative to the user's today."""

from __future__ import annotations

from datetime import date, time, timedelta

from shared.models import Priority, Recurrence, Routine, Task


def starter_tasks(today: date) -> list[Task]:
    return [
        Task(id="starter-task-1", title="Try the planner: mark this task done in Notion", priority=Priority.HIGH,
             due=today, estimate_minutes=10, tags=["planner"]),
        Task(id="starter-task-2", title="Write the project update", priority=Priority.HIGH,
             due=today + timedelta(days=1), estimate_minutes=60, splittable=True, min_chunk_minutes=30,
             tags=["work"]),
        Task(id="starter-task-3", title="Review last week's notes", priority=Priority.MEDIUM,
             due=today + timedelta(days=3), estimate_minutes=30, tags=["work"]),
        Task(id="starter-task-4", title="Book a dentist appointment", priority=Priority.LOW,
             due=today + timedelta(days=7), estimate_minutes=15, tags=["personal"]),
    ]


def starter_routines() -> list[Routine]:
    return [
        Routine(id="starter-routine-1", title="Inbox zero", recurrence=Recurrence(kind="daily"),
                window_start=time(0, 0), window_end=time(23, 59), duration_minutes=20, priority=Priority.HIGH),
        Routine(id="starter-routine-2", title="Stretch break", recurrence=Recurrence(kind="daily"),
                window_start=time(0, 0), window_end=time(23, 59), duration_minutes=10, priority=Priority.LOW),
    ]
