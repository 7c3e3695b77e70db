"""Tasks and routines as read from the tenant's Notion data sources (normalised)."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum, IntEnum

from pydantic import Field, field_validator, model_validator

from shared.models._base import DomainModel


class TaskStatus(str, Enum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


class Priority(IntEnum):
    """Higher value = more important. Mapped from Notion select options by name."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    URGENT = 4


class Task(DomainModel):
    id: str  # the Notion page id
    title: str
    status: TaskStatus = TaskStatus.TODO
    priority: Priority = Priority.MEDIUM
    due: datetime | date | None = None  # a date alone means "by the end of that day"
    scheduled_start: datetime | None = None  # a fixed time set by the user
    estimate_minutes: int = Field(default=30, ge=1, le=24 * 60)
    splittable: bool = False
    min_chunk_minutes: int = Field(default=30, ge=5, le=24 * 60)
    tags: list[str] = Field(default_factory=list)
    notes: str = ""
    url: str | None = None
    last_edited_time: datetime | None = None
    carried_over_days: int = Field(default=0, ge=0)  # days this task was planned but left unfinished

    @field_validator("due", mode="before")
    @classmethod
    def _date_only_stays_a_date(cls, value: object) -> object:
        # "2026-03-30" (Notion's date without time, and what stores hold) is a whole day, not
        # midnight: pydantic's lax datetime parsing would otherwise make it "due at 00:00".
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        return value


class Recurrence(DomainModel):
    """When a routine happens: every day, on weekdays, or on the listed ISO weekdays."""

    kind: str = Field(default="daily", pattern="^(daily|weekdays|weekly)$")
    days: list[int] = Field(default_factory=list)  # ISO weekdays for kind == "weekly"

    @model_validator(mode="after")
    def _days(self) -> "Recurrence":
        if self.kind == "weekly" and (not self.days or any(d < 1 or d > 7 for d in self.days)):
            raise ValueError("a weekly recurrence lists ISO weekdays 1..7")
        return self

    def occurs_on(self, day: date) -> bool:
        weekday = day.isoweekday()
        if self.kind == "daily":
            return True
        if self.kind == "weekdays":
            return weekday <= 5
        return weekday in self.days


class Routine(DomainModel):
    id: str
    title: str
    recurrence: Recurrence = Field(default_factory=Recurrence)
    window_start: time = time(8, 0)
    window_end: time = time(18, 0)
    duration_minutes: int = Field(default=30, ge=1, le=24 * 60)
    priority: Priority = Priority.MEDIUM
    active: bool = True
    url: str | None = None
    last_edited_time: datetime | None = None

    @model_validator(mode="after")
    def _window(self) -> "Routine":
        if self.window_end <= self.window_start:
            raise ValueError("a routine's window must end after it starts")
        return self
