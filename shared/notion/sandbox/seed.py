"""The demo workspace: a "Planner demo" page holding a Tasks and a Routines database.

The databases use the planner's onboarding templates; the pages are written in request shapes, as
a user's Notion client would, with dates relative to ``today`` so the demo always looks current.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.notion.sandbox.workspace import Workspace
from shared.notion.templates import ROUTINES_TEMPLATE, TASKS_TEMPLATE


def _text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


def _task(title: str, status: str, priority: str, *, due: date | str | None = None, scheduled: str | None = None,
          estimate: int | None = None, tags: tuple[str, ...] = (), notes: str = "", splittable: bool = False,
          min_chunk: int | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Name": {"title": _text(title)},
        "Status": {"select": {"name": status}},
        "Priority": {"select": {"name": priority}},
        "Tags": {"multi_select": [{"name": t} for t in tags]},
        "Splittable": {"checkbox": splittable},
    }
    if due is not None:
        props["Due"] = {"date": {"start": due.isoformat() if isinstance(due, date) else due}}
    if scheduled is not None:
        props["Scheduled"] = {"date": {"start": scheduled}}
    if estimate is not None:
        props["Estimate"] = {"number": estimate}
    if min_chunk is not None:
        props["Min chunk"] = {"number": min_chunk}
    if notes:
        props["Notes"] = {"rich_text": _text(notes)}
    return props


def _routine(title: str, recurrence: str, start: str, end: str, minutes: int, priority: str, *,
             days: tuple[str, ...] = (), active: bool = True) -> dict[str, Any]:
    return {
        "Name": {"title": _text(title)},
        "Recurrence": {"select": {"name": recurrence}},
        "Days": {"multi_select": [{"name": d} for d in days]},
        "Window start": {"rich_text": _text(start)},
        "Window end": {"rich_text": _text(end)},
        "Duration": {"number": minutes},
        "Priority": {"select": {"name": priority}},
        "Active": {"checkbox": active},
    }


def demo_tasks(today: date) -> list[dict[str, Any]]:
    day = timedelta(days=1)
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return [
        _task("Reply to Anna about the offsite", "To do", "Urgent", due=today, estimate=15, tags=("work", "email")),
        _task("Fix flaky CI test in the sync worker", "In progress", "Urgent", due=today + day, estimate=60, tags=("work", "code")),
        _task("Write Q3 planning doc", "In progress", "High", due=today + 2 * day, estimate=120, tags=("work", "writing"),
              notes="Outline first, then the numbers from the finance sheet.", splittable=True, min_chunk=30),
        _task("Review PR #482: billing retries", "To do", "High", due=today + day, estimate=45, tags=("work", "code-review")),
        _task("Refactor the invoicing module", "To do", "High", due=today + 10 * day, estimate=480, tags=("work", "code"),
              splittable=True, min_chunk=60),
        _task("Prepare slides for Monday sync", "To do", "Medium", due=monday, estimate=60, tags=("work",)),
        _task("Call the bank about the mortgage", "To do", "Medium", scheduled=f"{today.isoformat()}T10:30:00.000+00:00",
              estimate=20, tags=("personal", "phone")),
        _task("Plan team offsite agenda", "Blocked", "Medium", due=today + 14 * day, estimate=90, tags=("work",),
              notes="Waiting for budget approval."),
        _task("Renew passport", "To do", "Medium", due=today + 30 * day, estimate=40, tags=("personal", "admin")),
        _task("Weekly grocery order", "To do", "Low", due=today + 3 * day, estimate=25, tags=("home",)),
        _task("Book dentist appointment", "To do", "Low", due=today + 7 * day, estimate=10, tags=("personal", "health")),
        _task("Read 'Deep Work', chapter 3", "To do", "Low", estimate=30, tags=("learning",)),
        _task("Submit expense report", "Done", "Medium", due=today - day, estimate=20, tags=("work", "admin")),
        _task("Learn Esperanto", "Cancelled", "Low", tags=("learning",)),
    ]


def demo_routines() -> list[dict[str, Any]]:
    return [
        _routine("Morning workout", "Daily", "07:00", "09:00", 45, "Medium"),
        _routine("Inbox zero", "Weekdays", "09:00", "10:00", 30, "High"),
        _routine("Lunch walk", "Weekdays", "12:00", "14:00", 30, "Low"),
        _routine("Weekly review", "Weekly", "15:00", "18:00", 60, "High", days=("Friday",)),
        _routine("Spanish practice", "Weekly", "18:00", "21:00", 20, "Low", days=("Monday", "Wednesday", "Friday")),
        _routine("Guitar", "Weekly", "19:00", "22:00", 30, "Low", days=("Tuesday", "Thursday"), active=False),
    ]


def seed_demo(ws: Workspace, today: date) -> dict[str, str]:
    """Fill ``ws`` with the demo page, databases and rows; return their ids."""
    user = ws.user
    root = ws.create_page(
        {
            "parent": {"type": "workspace", "workspace": True},
            "properties": {"title": _text("Planner demo")},
            "children": [{"paragraph": {"rich_text": _text("Tasks and routines the planner schedules.")}}],
        },
        user,
    )
    ids = {"root_page_id": root["id"]}
    for key, template, rows in (
        ("tasks", TASKS_TEMPLATE, demo_tasks(today)),
        ("routines", ROUTINES_TEMPLATE, demo_routines()),
    ):
        kwargs = template.create_kwargs()
        database = ws.create_database(
            {
                "parent": {"type": "page_id", "page_id": root["id"]},
                "title": _text(kwargs["title"]),
                "icon": kwargs["icon"],
                "initial_data_source": {"properties": kwargs["properties"]},
            },
            user,
        )
        source_id = database["data_sources"][0]["id"]
        ids[f"{key}_database_id"] = database["id"]
        ids[f"{key}_data_source_id"] = source_id
        for properties in rows:
            ws.create_page({"parent": {"type": "data_source_id", "data_source_id": source_id}, "properties": properties}, user)
    ws.demo = dict(ids)
    return ids
