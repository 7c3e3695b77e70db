"""The Tasks and Routines databases onboarding creates in a user's workspace.

Each template is the body of ``POST /v1/databases`` (``initial_data_source.properties`` is a
property *schema*, see developers.notion.com "Data source properties"). Property names and option
names match the defaults of :mod:`shared.notion.mapping`, so pages written by the planner and
pages typed by the user map the same way. Status is a ``select``, not a ``status``: the API cannot
create the options of a status property.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.models import Priority, TaskStatus
from shared.notion.vocabulary import PRIORITY_NAMES, STATUS_NAMES, WEEKDAY_NAMES


def _options(names_and_colors: list[tuple[str, str]]) -> dict[str, Any]:
    return {"options": [{"name": name, "color": color} for name, color in names_and_colors]}


_STATUS_COLORS = {
    TaskStatus.TODO: "gray",
    TaskStatus.IN_PROGRESS: "blue",
    TaskStatus.BLOCKED: "red",
    TaskStatus.DONE: "green",
    TaskStatus.CANCELLED: "brown",
}
_PRIORITY_COLORS = {Priority.LOW: "gray", Priority.MEDIUM: "yellow", Priority.HIGH: "orange", Priority.URGENT: "red"}

PRIORITY_SCHEMA = {"select": _options([(PRIORITY_NAMES[p], _PRIORITY_COLORS[p]) for p in Priority])}

TASKS_PROPERTIES: dict[str, Any] = {
    "Name": {"title": {}},
    "Status": {"select": _options([(STATUS_NAMES[s], _STATUS_COLORS[s]) for s in TaskStatus])},
    "Priority": PRIORITY_SCHEMA,
    "Due": {"date": {}},
    "Scheduled": {"date": {}},
    "Estimate": {"number": {"format": "number"}},  # minutes
    "Tags": {"multi_select": {"options": []}},
    "Notes": {"rich_text": {}},
    "Splittable": {"checkbox": {}},
    "Min chunk": {"number": {"format": "number"}},  # minutes
}

ROUTINES_PROPERTIES: dict[str, Any] = {
    "Name": {"title": {}},
    "Recurrence": {"select": _options([("Daily", "blue"), ("Weekdays", "green"), ("Weekly", "purple")])},
    "Days": {"multi_select": _options([(day, "default") for day in WEEKDAY_NAMES])},
    "Window start": {"rich_text": {}},  # "HH:MM"
    "Window end": {"rich_text": {}},
    "Duration": {"number": {"format": "number"}},  # minutes
    "Priority": PRIORITY_SCHEMA,
    "Active": {"checkbox": {}},
}


@dataclass(frozen=True)
class DatabaseTemplate:
    """A database to create: its title, icon and the schema of its one data source."""

    title: str
    emoji: str
    properties: Mapping[str, Any] = field(default_factory=dict)

    def create_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``NotionGateway.create_database`` (besides parent and tenant)."""
        return {
            "title": self.title,
            "properties": copy.deepcopy(dict(self.properties)),
            "icon": {"type": "emoji", "emoji": self.emoji},
        }

    def missing_properties(self, data_source: Mapping[str, Any]) -> dict[str, Any]:
        """The template's properties an existing data source lacks (by name), as an update body.

        The title is never added: a data source always has exactly one, maybe named differently.
        """
        existing = data_source.get("properties") or {}
        return {
            name: copy.deepcopy(schema)
            for name, schema in self.properties.items()
            if name not in existing and "title" not in schema
        }


TASKS_TEMPLATE = DatabaseTemplate(title="Tasks", emoji="\u2705", properties=TASKS_PROPERTIES)
ROUTINES_TEMPLATE = DatabaseTemplate(title="Routines", emoji="\U0001f501", properties=ROUTINES_PROPERTIES)
