"""The planning job: one tenant's day planned by the engine and written to Notion.

One run, under the tenant's ``leases/plan`` lease (a daily plan, a replan and a chat replan never
interleave; a second run waits a little, then answers :class:`~shared.agent.errors.PlanBusy`):

1. **Check**: the tenant is connected; a ``daily`` run of a date whose daily plan already ran does
   nothing (``already_planned``); a date that is over is not planned (``day_over``).
2. **Count** the plan against the tier's plans-per-day quota (``QuotaService.reserve_plan``); over
   quota the run ends with ``quota_exceeded`` (retrying before midnight UTC cannot help).
3. **Plan**: tasks and routines from the store, the user's settings, ``now`` as the earliest start
   on the current day (a replan plans the rest of the day). A task whose Scheduled time is the
   planner's own earlier choice is planned freely; one the user set is kept where the user put it
   (:mod:`shared.agent.scheduled`). Tasks planned on earlier days count as carried over.
4. **Write** to Notion: the Scheduled property (start and end) of each planned task whose value
   changes, the clearing of the planner's own stale times on open tasks no longer planned, and the
   date's "Daily plan" page (:mod:`shared.agent.plan_page`) with the time blocks and the reasons for
   what was left out. Writes that would not change anything are not made, so a repeated run of the
   same plan writes nothing.
5. **Record** ``plans/{date}`` (what ``GET /plan/today`` shows), the planner's writes, a ``plan``
   usage record, and the log event ``plan_written``.
6. **Notify** (daily plans only) the user's HTTPS webhook, if one is configured, through
   :mod:`shared.agent.notify`. A refused or failing webhook is reported, not retried: the plan is
   already in Notion.

A rejected Notion token marks the connection ``needs_reauth`` and ends the run (retrying cannot
help); Notion's transient errors propagate (503) so the task is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from shared.agent.errors import NotificationFailed, PlanBusy, UnsafeWebhookUrl
from shared.agent.notify import WebhookNotifier
from shared.agent.plan_page import PlanPageWriter, content_hash, render
from shared.agent.planning_time import local_today
from shared.agent.plans import (
    Mode,
    StoredPlan,
    blocks_of,
    left_out_of,
    load_plan,
    save_plan,
)
from shared.agent.replan import plan_inputs
from shared.agent.scheduled import ScheduledWrites
from shared.agent.workload import load_routines, load_tasks
from shared.connections.errors import NotConnected
from shared.connections.tenants import TenantRepository
from shared.locks import LeaseBusy, hold_lease
from shared.models import ConnectionStatus, OperationType, Routine, Task, TaskStatus, UsageRecord, UserConfig
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionAuthError
from shared.notion.mapping import task_to_properties
from shared.notion.properties import DateValue
from shared.observability import PLAN_WRITTEN, log_event
from shared.planning import Plan, PlanRequest, SolverOptions, plan_day
from shared.store.base import DocumentStore
from shared.usage.errors import QuotaExceeded
from shared.usage.meter import UsageMeter
from shared.usage.quotas import QuotaService

logger = logging.getLogger(__name__)

PLAN_LEASE = "plan"
_OPEN = frozenset({TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED})


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class PlanReport:
    """What a run did (the task's JSON answer, and what the chat's replan tool reports)."""

    tenant_id: str
    date: str
    mode: str
    status: str = "ok"  # ok | already_planned | day_over | not_connected | needs_reauth | quota_exceeded
    blocks: int = 0
    left_out: int = 0
    scheduled_written: int = 0
    scheduled_cleared: int = 0
    page: str = "none"  # created | adopted | replaced | unchanged | none | skipped
    page_url: str | None = None
    notification: str = "none"  # none | sent | refused | failed
    retry_after: int | None = None
    plan: dict[str, Any] | None = field(default=None, repr=False)  # the stored plan's public form

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PlanningJob:
    store: DocumentStore
    tenants: TenantRepository
    gateway_factory: Callable[[], NotionGateway]
    quotas: QuotaService
    meter: UsageMeter
    notifier: WebhookNotifier | None = None
    clock: Callable[[], datetime] = _utcnow
    solver: SolverOptions | None = None
    lease_ttl: timedelta = timedelta(minutes=9)  # the function timeout: a crashed run frees it
    lease_wait: timedelta = timedelta(seconds=10)

    async def run(self, *, tenant_id: str, day: date, mode: Mode = "daily", reason: str = "",
                  request_id: str = "") -> PlanReport:
        """Plan ``day`` (a local date) for the tenant; see the module doc."""
        report = PlanReport(tenant_id, day.isoformat(), mode)
        tenant = self.tenants.get(tenant_id=tenant_id)
        if tenant is None or tenant.connection_status != ConnectionStatus.CONNECTED:
            report.status = "not_connected"
            return report
        try:
            async with hold_lease(self.store, PLAN_LEASE, tenant_id=tenant_id, ttl=self.lease_ttl,
                                  wait=self.lease_wait, clock=self.clock):
                await self._run_locked(report, day=day, mode=mode, reason=reason, request_id=request_id)
        except LeaseBusy:
            raise PlanBusy() from None
        return report

    async def _run_locked(self, report: PlanReport, *, day: date, mode: Mode, reason: str, request_id: str) -> None:
        tenant_id = report.tenant_id
        config = self.tenants.get_config(tenant_id=tenant_id)
        existing = load_plan(self.store, day, tenant_id=tenant_id)
        if mode == "daily" and existing is not None and existing.daily_done:
            report.status = "already_planned"
            report.plan = existing.public()
            return
        now = self.clock()
        today = local_today(config, now)
        if day < today:
            report.status = "day_over"
            return
        try:
            self.quotas.reserve_plan(tenant_id=tenant_id)
        except QuotaExceeded as exc:
            logger.warning("plan not made: the plans-per-day quota is used up")
            report.status, report.retry_after = "quota_exceeded", exc.retry_after
            return

        planned_from = now if day == today else None
        tasks = load_tasks(self.store, tenant_id=tenant_id)
        routines = load_routines(self.store, tenant_id=tenant_id)
        writes = ScheduledWrites.load(self.store, tenant_id=tenant_id)
        engine_tasks = [self._engine_task(task, writes, day) for task in tasks]
        plan = plan_day(PlanRequest.from_config(config, day=day, tasks=engine_tasks, routines=routines,
                                                now=planned_from, solver=self.solver))

        stored = self._stored_plan(plan, existing, config=config, day=day, mode=mode, reason=reason, now=now,
                                   planned_from=planned_from, tasks=tasks, routines=routines, writes=writes)
        try:
            await self._write_notion(report, stored, plan, config=config, tasks=tasks, writes=writes)
        except (NotionAuthError, NotConnected):
            logger.warning("plan not written: the Notion connection needs re-authorisation")
            self.tenants.set_status(ConnectionStatus.NEEDS_REAUTH, tenant_id=tenant_id)
            report.status = "needs_reauth"
            return
        writes.save(self.store, tenant_id=tenant_id, keep=[task.id for task in tasks])
        save_plan(self.store, stored, tenant_id=tenant_id)
        self.meter.record(UsageRecord(operation=OperationType.PLAN, timestamp=now, request_id=request_id,
                                      detail=f"{mode}:{day.isoformat()}"), tenant_id=tenant_id)
        report.blocks, report.left_out = len(stored.blocks), len(stored.left_out)
        report.plan = stored.public()
        if mode == "daily":
            await self._notify(report, stored, config)
        log_event(PLAN_WRITTEN, logger=logger, plan_date=report.date, mode=mode, blocks=report.blocks,
                  left_out=report.left_out, page=report.page, scheduled_written=report.scheduled_written,
                  scheduled_cleared=report.scheduled_cleared, method=plan.method)

    # --- planning -------------------------------------------------------------------------------

    @staticmethod
    def _engine_task(task: Task, writes: ScheduledWrites, day: date) -> Task:
        carried = max(task.carried_over_days, writes.carried_over_days(task.id, day))
        return task.model_copy(update={"scheduled_start": writes.user_fixed_start(task),
                                       "carried_over_days": carried})

    @staticmethod
    def _stored_plan(plan: Plan, existing: StoredPlan | None, *, config: UserConfig, day: date, mode: Mode,
                     reason: str, now: datetime, planned_from: datetime | None, tasks: list[Task],
                     routines: list[Routine], writes: ScheduledWrites) -> StoredPlan:
        blocks = blocks_of(plan, day)
        if existing is not None and planned_from is not None:
            # Keep what already happened today, unless the item is planned again later.
            planned = {block.item_id for block in blocks}
            earlier = [b for b in existing.blocks if b.end <= planned_from and b.item_id not in planned]
            blocks = sorted(earlier + blocks, key=lambda b: (b.start, b.item_id))
        return StoredPlan(
            date=day, timezone=config.timezone, mode=mode, reason=reason, generated_at=now,
            planned_from=planned_from, blocks=blocks, left_out=left_out_of(plan), method=plan.method,
            objective=plan.objective, daily_done=bool(existing and existing.daily_done) or mode == "daily",
            runs=(existing.runs if existing else 0) + 1,
            page_id=existing.page_id if existing else None, page_url=existing.page_url if existing else None,
            content_hash=existing.content_hash if existing else "",
            inputs=plan_inputs(tasks, routines, writes),
        )

    # --- writing --------------------------------------------------------------------------------

    async def _write_notion(self, report: PlanReport, stored: StoredPlan, plan: Plan, *, config: UserConfig,
                            tasks: list[Task], writes: ScheduledWrites) -> None:
        tenant_id = report.tenant_id
        if not config.tasks_data_source_id:
            report.page = "skipped"
            return
        by_id = {task.id: task for task in tasks}
        async with self.gateway_factory() as gateway:
            source = await gateway.retrieve_data_source(config.tasks_data_source_id, tenant_id=tenant_id)
            schema = source.get("properties") if isinstance(source.get("properties"), dict) else None
            chosen = self._chosen_times(plan, stored.date)
            to_write: list[tuple[Task, DateValue]] = []
            for task_id, (start, end) in chosen.items():
                task = by_id.get(task_id)
                if task is None or writes.user_fixed_start(task) is not None:
                    continue  # unknown, or fixed by the user: the time is theirs
                if task.scheduled_start != start and writes.last_start(task_id) != start:
                    to_write.append((task, DateValue(start, end)))
                writes.record(task_id, start=start, end=end, day=stored.date)
            to_clear = [task for task in tasks
                        if task.id not in chosen and task.status in _OPEN and writes.is_own(task)]
            # Recorded before writing: whatever happens to a write, the value in Notion is known as ours.
            writes.save(self.store, tenant_id=tenant_id, keep=by_id)
            for task, value in to_write:
                await self._set_scheduled(gateway, task, value, schema, tenant_id=tenant_id)
                report.scheduled_written += 1
            for task in to_clear:
                await self._set_scheduled(gateway, task, None, schema, tenant_id=tenant_id)
                writes.record(task.id, start=None, end=None, day=None)
                report.scheduled_cleared += 1
            if not config.notifications.notion_page:
                report.page = "skipped"
                return
            parent = (source.get("database_parent") or {}).get("page_id")
            if not parent:
                logger.warning("the Tasks database is not inside a page: no daily plan page is written")
                report.page = "skipped"
                return
            blocks = render(stored, urls={task.id: task.url for task in tasks if task.url})

            def remember(page_id: str, url: str | None) -> None:
                # Saved before anything else so that a crash now cannot lead to a second page.
                stored.page_id, stored.page_url, stored.content_hash = page_id, url, ""
                save_plan(self.store, stored, tenant_id=tenant_id)

            outcome = await PlanPageWriter(gateway, tenant_id=tenant_id).write(
                stored, blocks, parent_page_id=parent, on_created=remember)
            stored.page_id, stored.page_url, stored.content_hash = outcome.page_id, outcome.url, content_hash(blocks)
            report.page, report.page_url = outcome.action, outcome.url

    @staticmethod
    def _chosen_times(plan: Plan, day: date) -> dict[str, tuple[datetime, datetime]]:
        """Each planned task's first start and last end on ``day``."""
        chosen: dict[str, tuple[datetime, datetime]] = {}
        for block in plan.blocks_on(day):
            if block.kind.value != "task":
                continue
            start, end = chosen.get(block.item_id, (block.start, block.end))
            chosen[block.item_id] = (min(start, block.start), max(end, block.end))
        return chosen

    @staticmethod
    async def _set_scheduled(gateway: NotionGateway, task: Task, value: DateValue | None, schema: Any, *,
                             tenant_id: str) -> None:
        scheduled = value.start if value is not None else None
        properties = task_to_properties(task.model_copy(update={"scheduled_start": scheduled}), schema=schema,
                                        fields={"scheduled_start"}).value or {}
        if not properties:
            return  # the data source has no Scheduled property: nothing to write
        if value is not None:
            # Start and end: the task's time on the user's calendar views.
            name = next(iter(properties))
            properties[name] = {"date": {"start": value.start.isoformat(), "end": value.end.isoformat()}}
        await gateway.update_page(task.id, tenant_id=tenant_id, properties=properties)

    async def _notify(self, report: PlanReport, stored: StoredPlan, config: UserConfig) -> None:
        url = config.notifications.webhook_url
        if url is None or self.notifier is None:
            return
        try:
            await self.notifier.send(str(url), notification_message(stored, page_url=report.page_url))
            report.notification = "sent"
        except UnsafeWebhookUrl as exc:
            logger.warning("notification webhook refused: %s", exc.reason)
            report.notification = "refused"
        except NotificationFailed:
            report.notification = "failed"


def notification_message(plan: StoredPlan, *, page_url: str | None) -> dict[str, Any]:
    """The webhook body: Slack's ``{"text": ...}`` plus the plan as structured fields."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(plan.timezone)
    lines = [f"Your plan for {plan.date:%a} {plan.date.day} {plan.date:%b}:"]
    for block in plan.blocks[:20]:
        lines.append(f"• {block.start.astimezone(zone):%H:%M}–{block.end.astimezone(zone):%H:%M} {block.title}")
    if not plan.blocks:
        lines.append("Nothing is planned.")
    if page_url:
        lines.append(page_url)
    return {"text": "\n".join(lines), "date": plan.date.isoformat(), "blocks": len(plan.blocks)}
