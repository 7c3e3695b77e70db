"""Today's plan for display: the plan the agent stored for the tenant's local date
(``plans/{date}``), else a live preview computed with the planning engine from the synced tasks
and routines, or from Notion when nothing is synced yet (right after onboarding).

A preview is never written anywhere: the agent writes the real plan at the planning time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from shared.agent.plans import StoredPlan, load_plan
from shared.dashboard.items import notion_items, stored_items
from shared.models import Routine, Task, UserConfig
from shared.planning import PlanRequest, SolverOptions, plan_day
from shared.store.base import DocumentStore

# A page view should not wait long: a small deterministic budget (the agent's job uses more).
PREVIEW_SOLVER = SolverOptions(deterministic_time_limit=1.0, wall_time_limit_seconds=10.0)


@dataclass(frozen=True)
class BlockView:
    start: str  # HH:MM local
    end: str
    title: str
    kind: str  # task | routine
    minutes: int
    fixed: bool = False
    chunk: int = 1
    chunks: int = 1


@dataclass(frozen=True)
class LeftOutView:
    title: str
    kind: str
    reason: str
    message: str
    minutes: int


@dataclass(frozen=True)
class TodayView:
    day: date
    timezone: str
    source: Literal["stored", "preview"]
    items_from: Literal["plan", "synced", "notion"]
    blocks: list[BlockView] = field(default_factory=list)
    left_out: list[LeftOutView] = field(default_factory=list)
    generated_at: datetime | None = None
    page_url: str | None = None

    @property
    def planned_minutes(self) -> int:
        return sum(block.minutes for block in self.blocks)


def _clock(value: datetime, config: UserConfig) -> str:
    return value.astimezone(config.zone).strftime("%H:%M")


def from_stored(plan: StoredPlan, config: UserConfig) -> TodayView:
    return TodayView(
        day=plan.date, timezone=plan.timezone, source="stored", items_from="plan",
        blocks=[BlockView(start=_clock(b.start, config), end=_clock(b.end, config), title=b.title, kind=b.kind,
                          minutes=b.minutes, fixed=b.fixed, chunk=b.chunk, chunks=b.chunks) for b in plan.blocks],
        left_out=[LeftOutView(title=i.title, kind=i.kind, reason=i.reason, message=i.message, minutes=i.minutes)
                  for i in plan.left_out],
        generated_at=plan.generated_at, page_url=plan.page_url,
    )


def preview(config: UserConfig, tasks: list[Task], routines: list[Routine], *, day: date, now: datetime,
            items_from: Literal["synced", "notion"]) -> TodayView:
    """What the engine would plan for ``day`` from ``now`` on (nothing is stored)."""
    plan = plan_day(PlanRequest.from_config(config, day=day, tasks=tasks, routines=routines, now=now,
                                            solver=PREVIEW_SOLVER))
    return TodayView(
        day=day, timezone=config.timezone, source="preview", items_from=items_from,
        blocks=[BlockView(start=_clock(b.start, config), end=_clock(b.end, config), title=b.title, kind=b.kind.value,
                          minutes=b.minutes, fixed=b.fixed, chunk=b.chunk, chunks=b.chunks)
                for b in plan.blocks_on(day)],
        left_out=[LeftOutView(title=u.title, kind=u.kind.value, reason=u.reason.value, message=u.message,
                              minutes=u.minutes) for u in plan.unscheduled],
    )


async def today_view(store: DocumentStore, config: UserConfig, *, tenant_id: str, now: datetime,
                     read_notion: Callable[[], Awaitable[tuple[list[Task], list[Routine]]]] | None = None,
                     fresh: bool = False) -> TodayView:
    """The stored plan of the tenant's local today, else a preview (see the module doc).

    ``read_notion`` reads the items from Notion; it is called when nothing is synced yet, or
    always with ``fresh`` (onboarding: the databases were just chosen, the synced copy may be of
    others), which also skips the stored plan."""
    day = now.astimezone(config.zone).date()
    if not fresh:
        stored = load_plan(store, day, tenant_id=tenant_id)
        if stored is not None:
            return from_stored(stored, config)
        items = stored_items(store, tenant_id=tenant_id)
        if items is not None:
            return preview(config, *items, day=day, now=now, items_from="synced")
    if read_notion is None:
        return preview(config, [], [], day=day, now=now, items_from="synced")
    tasks, routines = await read_notion()
    return preview(config, tasks, routines, day=day, now=now, items_from="notion")


__all__ = ["BlockView", "LeftOutView", "TodayView", "from_stored", "notion_items", "preview", "today_view"]
