"""The engine's input (:class:`PlanRequest`) and output (:class:`Plan`) types.

The request wraps the domain model (``Task``, ``Routine``, ``WorkingHours``) with what a plan also
needs: the day, the user's IANA timezone, busy blocks from calendars, daily breaks, the buffer
between blocks, the focus cap, the planning horizon, the current instant and the solver budget.
Everything is plain data: the engine does no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.models import Priority, Routine, Task, UserConfig, WorkingHours
from shared.models._base import DomainModel
from shared.planning.errors import InvalidPlanRequest

ALL_DAYS = [1, 2, 3, 4, 5, 6, 7]
GRANULARITIES = (1, 5, 10, 15, 30)  # divisors of every real UTC-offset change, so the grid survives DST


class BusyBlock(DomainModel):
    """A fixed commitment (a calendar event): nothing is planned over it or within the buffer around it."""

    start: AwareDatetime
    end: AwareDatetime
    title: str = Field(default="Busy", max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> BusyBlock:
        if self.end <= self.start:
            raise ValueError("a busy block must end after it starts")
        return self


class Break(DomainModel):
    """A daily pause in local wall-clock time (lunch, say) on the listed ISO weekdays."""

    start: time
    end: time
    title: str = Field(default="Break", max_length=500)
    days: list[int] = Field(default_factory=lambda: list(ALL_DAYS))

    @model_validator(mode="after")
    def _ordered(self) -> Break:
        if self.end <= self.start:
            raise ValueError("a break must end after it starts")
        if any(d < 1 or d > 7 for d in self.days):
            raise ValueError("break days are ISO weekdays 1..7")
        return self


class SolverOptions(DomainModel):
    """How hard the engine works.

    ``deterministic_time_limit`` bounds CP-SAT in its *deterministic* time unit (a count of work,
    roughly a second on a laptop core), so the same input gives the same plan on any machine and
    under any load. ``wall_time_limit_seconds`` is only a safety net against a pathological
    input; if it fires, the plan is still valid but may differ between runs.
    """

    use_solver: bool = True
    deterministic_time_limit: float = Field(default=2.0, gt=0, le=600)
    wall_time_limit_seconds: float = Field(default=60.0, gt=0, le=3600)


class PlanRequest(DomainModel):
    """One user's day (or a few days) to plan."""

    day: date
    timezone: str = "UTC"
    now: AwareDatetime | None = None  # nothing is planned before this instant
    tasks: list[Task] = Field(default_factory=list)
    routines: list[Routine] = Field(default_factory=list)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    breaks: list[Break] = Field(default_factory=list)
    busy: list[BusyBlock] = Field(default_factory=list)
    buffer_minutes: int = Field(default=5, ge=0, le=120)
    focus_cap_minutes: int = Field(default=330, ge=0, le=24 * 60)  # task minutes per day
    horizon_days: int = Field(default=1, ge=1, le=7)
    granularity_minutes: int = 5  # planned (non-fixed) blocks start on this grid of local time
    solver: SolverOptions = Field(default_factory=SolverOptions)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("timezone must be an IANA name such as Europe/Paris") from None
        return value

    @field_validator("granularity_minutes")
    @classmethod
    def _grid(cls, value: int) -> int:
        if value not in GRANULARITIES:
            raise ValueError(f"granularity_minutes must be one of {', '.join(map(str, GRANULARITIES))}")
        return value

    @field_validator("tasks", "routines")
    @classmethod
    def _unique_ids(cls, items: list) -> list:
        ids = [item.id for item in items]
        if len(ids) != len(set(ids)):
            raise ValueError("ids must be unique")
        return items

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_config(
        cls,
        config: UserConfig,
        *,
        day: date,
        tasks: list[Task],
        routines: list[Routine] = (),  # type: ignore[assignment]
        busy: list[BusyBlock] = (),  # type: ignore[assignment]
        breaks: list[Break] = (),  # type: ignore[assignment]
        now: datetime | None = None,
        horizon_days: int = 1,
        solver: SolverOptions | None = None,
    ) -> PlanRequest:
        """A request for ``day`` using the user's timezone, working hours, buffer and focus cap."""
        return cls(
            day=day,
            timezone=config.timezone,
            now=now,
            tasks=list(tasks),
            routines=list(routines),
            working_hours=config.working_hours,
            breaks=list(breaks),
            busy=list(busy),
            buffer_minutes=config.buffer_minutes,
            focus_cap_minutes=config.focus_cap_minutes,
            horizon_days=horizon_days,
            solver=solver or SolverOptions(),
        )


def parse_request(data: dict[str, Any]) -> PlanRequest:
    """Validate a JSON-shaped request; raise :class:`InvalidPlanRequest` naming the first bad field."""
    try:
        return PlanRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        # pydantic's message describes the rule, never the rejected value.
        raise InvalidPlanRequest(f"{field or 'request'}: {first.get('msg', 'invalid value')}", field=field) from None


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class ItemKind(str, Enum):
    TASK = "task"
    ROUTINE = "routine"


class ReasonCode(str, Enum):
    """Why (part of) an item is not in the plan. See docs/planning.md for each one."""

    DONE = "done"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"
    INACTIVE = "inactive"  # routine switched off
    NOT_DUE = "not_due"  # routine does not recur on any planned day
    SCHEDULED_LATER = "scheduled_later"  # its fixed time lies after the horizon
    DEADLINE_PASSED = "deadline_passed"
    FIXED_TIME_PASSED = "fixed_time_passed"
    FIXED_TIME_UNAVAILABLE = "fixed_time_unavailable"  # outside working hours, in a break or busy block
    FIXED_TIME_AFTER_DEADLINE = "fixed_time_after_deadline"
    NO_FREE_TIME = "no_free_time"  # no free time on the planned days (or in the routine's window)
    OUTSIDE_WORKING_HOURS = "outside_working_hours"  # a routine's window lies outside working hours
    NO_TIME_BEFORE_DEADLINE = "no_time_before_deadline"
    TOO_LONG = "too_long"  # needs a longer uninterrupted stretch than any free window offers
    FOCUS_CAP = "focus_cap"  # the day's focus cap is reached
    LOWER_PRIORITY = "lower_priority"  # the time it could use went to more important work
    BETTER_FIT = "better_fit"  # the time went to a combination of items worth more in total
    FIXED_TIME_CONFLICT = "fixed_time_conflict"  # its fixed time overlaps more valuable planned work


class PlanBlock(DomainModel):
    """One block of the plan: a task (or a chunk of a splittable task) or a routine occurrence."""

    kind: ItemKind
    item_id: str
    title: str
    start: datetime  # aware, in the user's timezone
    end: datetime
    minutes: int
    priority: Priority
    day: date  # local date of the start
    fixed: bool = False  # placed at the task's own scheduled_start
    chunk: int = 1  # 1-based index among the task's chunks
    chunks: int = 1


class Unscheduled(DomainModel):
    """An item (or the unplanned rest of a splittable task) left out, and why."""

    kind: ItemKind
    item_id: str
    title: str
    reason: ReasonCode
    message: str
    minutes: int  # minutes not planned
    day: date | None = None  # for a routine: the occurrence's date


class Plan(DomainModel):
    """The time-blocked plan. Identical input gives an identical ``Plan`` (no timings inside)."""

    day: date
    timezone: str
    horizon_days: int
    blocks: list[PlanBlock]
    unscheduled: list[Unscheduled]
    objective: int  # the plan's value under shared.planning.objective
    method: Literal["cp-sat", "greedy", "empty"]
    proven_optimal: bool
    focus_minutes: dict[date, int]  # planned task minutes per day (<= focus_cap_minutes)

    def blocks_on(self, day: date) -> list[PlanBlock]:
        return [block for block in self.blocks if block.day == day]
