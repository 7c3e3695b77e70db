"""The stored plans of a tenant: ``plans/{YYYY-MM-DD}``, one document per local date.

A stored plan is what ``GET /plan/today`` and the chat's ``show_plan`` read, and what makes the
planning job idempotent towards Notion: it holds the id of the day's "Daily plan" page (so a
redelivered or repeated run finds and updates the same page), a hash of the page's content (so an
unchanged plan is not rewritten), and a fingerprint of every task the plan was made from (so the
replan hook can tell a user's edit from the echo of the planner's own writes).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.agent.errors import InvalidPlanDay
from shared.models import Task
from shared.store.base import DocumentStore

if TYPE_CHECKING:  # the engine (and ortools) load only where plans are made
    from shared.planning import Plan

COLLECTION = "plans"

Mode = Literal["daily", "replan"]


class StoredBlock(BaseModel):
    """One time block as stored and shown (times are aware, in the tenant's timezone)."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    item_id: str
    title: str
    start: datetime
    end: datetime
    minutes: int
    fixed: bool = False
    chunk: int = 1
    chunks: int = 1


class StoredLeftOut(BaseModel):
    """An item left out of the plan and why (``reason`` is a ``ReasonCode`` value)."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    item_id: str
    title: str
    reason: str
    message: str
    minutes: int


class StoredPlan(BaseModel):
    """``plans/{date}``: the latest plan of one local date and where it was written."""

    model_config = ConfigDict(extra="ignore")

    date: date
    timezone: str
    mode: Mode = "daily"
    reason: str = ""
    generated_at: datetime
    planned_from: datetime | None = None  # nothing was planned before this instant (replans)
    blocks: list[StoredBlock] = Field(default_factory=list)
    left_out: list[StoredLeftOut] = Field(default_factory=list)
    method: str = ""
    objective: int = 0
    daily_done: bool = False  # the scheduled daily plan of this date has run
    runs: int = 0
    page_id: str | None = None  # the "Daily plan" page in Notion
    page_url: str | None = None
    content_hash: str = ""  # of the page's blocks as last written
    inputs: dict[str, str] = Field(default_factory=dict)  # task id -> fingerprint at planning time

    def public(self) -> dict[str, Any]:
        """What the API and the chat show: the plan without the bookkeeping."""
        return {
            "date": self.date.isoformat(),
            "timezone": self.timezone,
            "mode": self.mode,
            "reason": self.reason,
            "generated_at": self.generated_at.isoformat(),
            "blocks": [block.model_dump(mode="json") for block in self.blocks],
            "left_out": [item.model_dump(mode="json") for item in self.left_out],
            "page_url": self.page_url,
        }


def parse_day(value: object, *, field: str = "date") -> date:
    """A ``YYYY-MM-DD`` string (or a date) as a date; :class:`InvalidPlanDay` otherwise."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidPlanDay(field=field)


def plan_path(day: date) -> str:
    return f"{COLLECTION}/{day.isoformat()}"


def load_plan(store: DocumentStore, day: date, *, tenant_id: str) -> StoredPlan | None:
    data = store.get(plan_path(day), tenant_id=tenant_id)
    return StoredPlan.model_validate(data) if data else None


def save_plan(store: DocumentStore, plan: StoredPlan, *, tenant_id: str) -> None:
    store.set(plan_path(plan.date), plan.model_dump(mode="json"), tenant_id=tenant_id)


def blocks_of(plan: "Plan", day: date) -> list[StoredBlock]:
    return [
        StoredBlock(kind=b.kind.value, item_id=b.item_id, title=b.title, start=b.start, end=b.end, minutes=b.minutes,
                    fixed=b.fixed, chunk=b.chunk, chunks=b.chunks)
        for b in plan.blocks_on(day)
    ]


def left_out_of(plan: "Plan") -> list[StoredLeftOut]:
    return [
        StoredLeftOut(kind=u.kind.value, item_id=u.item_id, title=u.title, reason=u.reason.value, message=u.message,
                      minutes=u.minutes)
        for u in plan.unscheduled
    ]


# The task fields a plan depends on. ``scheduled_start`` is left out on purpose: the planner
# writes it itself, and the replan hook compares it separately (see shared.agent.replan).
_PLANNING_FIELDS = ("title", "status", "priority", "due", "estimate_minutes", "splittable", "min_chunk_minutes")


def fingerprint(task: Task, *, fixed_start: datetime | None) -> str:
    """A short hash of what the planner read of ``task``; ``fixed_start`` is its user-fixed time
    (None when the task's scheduled time was the planner's own)."""
    data = task.model_dump(mode="json", include=set(_PLANNING_FIELDS))
    data["fixed_start"] = fixed_start.isoformat() if fixed_start else None
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
