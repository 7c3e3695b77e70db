"""The daily planning dispatcher: Cloud Scheduler's tick (``POST /dispatch/planning``, every 5 min).

Each tenant's root document carries ``next_plan_at``: the UTC instant its next daily plan is due
(:mod:`shared.agent.planning_time` turns the local planning time into it, DST included). A tick

1. asks the store for the tenants with ``next_plan_at <= now`` — the named, indexed
   ``tenants_due`` query, ordered by that field, in batches — never a scan of all tenants;
2. for each, works out the local day that is due (its planning time has come and it is less than
   12 hours late), and unless the tenant is not connected or it is not one of their working days,
   enqueues that day's planning task under the name ``daily-{date}``
   (:mod:`shared.agent.queueing`): a second enqueue of the same day is refused by the queue;
3. then advances ``next_plan_at`` to the next local day's planning instant, in a transaction that
   only moves it if it is still due, so two dispatchers running at once advance it once.

Enqueue first, advance second: if the advance fails, the next tick enqueues the same name again,
which the queue refuses (and after the queue forgets the name, the planning job itself refuses a
second daily run of a date: ``plans/{date}.daily_done`` and the task-name idempotency record). A
tenant is therefore planned exactly once per local day, whatever the concurrency or redelivery.

:func:`schedule_next_plan` sets ``next_plan_at`` for a tenant that has none (a new connection) or
whose settings changed; the connection and settings code call it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pydantic

from shared.agent.planning_time import due_day, first_planning_instant, next_planning_instant
from shared.agent.queueing import daily_task_name, enqueue_once, plan_request
from shared.connections.tenants import CONFIG_PATH
from shared.errors import AppError
from shared.models import ConnectionStatus, UserConfig
from shared.observability import log_event
from shared.store.base import DocumentStore
from shared.taskqueue.base import TaskQueue

logger = logging.getLogger(__name__)

NEXT_PLAN_AT = "next_plan_at"
BATCH = 200
MAX_BATCHES = 25  # 5,000 tenants per tick; the rest are due on the next tick, 5 minutes later


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class DispatchReport:
    """What one tick did (the scheduler call's JSON answer)."""

    due: int = 0
    enqueued: int = 0
    already_enqueued: int = 0
    advanced: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due, "enqueued": self.enqueued, "already_enqueued": self.already_enqueued,
                "advanced": self.advanced, "skipped": dict(self.skipped)}


def _config(store: DocumentStore, *, tenant_id: str) -> UserConfig:
    data = store.get(CONFIG_PATH, tenant_id=tenant_id)
    try:
        return UserConfig.model_validate(data) if data else UserConfig()
    except pydantic.ValidationError:
        logger.warning("unreadable tenant configuration; planning with the defaults")
        return UserConfig()


def advance(store: DocumentStore, *, tenant_id: str, config: UserConfig, now: datetime) -> bool:
    """Move ``next_plan_at`` to the first planning instant after ``now`` if it is still due at
    ``now``; False if another dispatcher (or a settings change) already moved it."""
    following = next_planning_instant(config, after=now)

    def move(txn) -> bool:
        root = txn.get("") or {}
        current = root.get(NEXT_PLAN_AT)
        if not isinstance(current, datetime) or current > now:
            return False
        txn.set("", {NEXT_PLAN_AT: following}, merge=True)
        return True

    return store.transaction(move, tenant_id=tenant_id)


def schedule_next_plan(store: DocumentStore, *, tenant_id: str, config: UserConfig | None = None,
                       now: datetime | None = None, reschedule: bool = False) -> datetime | None:
    """Give the tenant a ``next_plan_at`` (see :func:`~shared.agent.planning_time.first_planning_instant`)
    if it has none, or recompute it when ``reschedule`` (the settings changed). Returns the value
    set, or ``None`` if the tenant already had one and nothing changed."""
    now = now or _utcnow()
    config = config or _config(store, tenant_id=tenant_id)
    first = first_planning_instant(config, now=now)

    def put(txn) -> datetime | None:
        root = txn.get("") or {}
        if isinstance(root.get(NEXT_PLAN_AT), datetime) and not reschedule:
            return None
        txn.set("", {NEXT_PLAN_AT: first}, merge=True)
        return first

    return store.transaction(put, tenant_id=tenant_id)


def dispatch_planning(store: DocumentStore, tasks: TaskQueue, *, now: datetime | None = None,
                      clock: Callable[[], datetime] = _utcnow, batch: int = BATCH,
                      max_batches: int = MAX_BATCHES) -> DispatchReport:
    """One scheduler tick at ``now`` (default: the clock); see the module doc."""
    now = now or clock()
    report = DispatchReport()
    seen: set[str] = set()
    for _ in range(max_batches):
        rows = [row for row in store.tenants_due(NEXT_PLAN_AT, before=now, limit=batch) if row.tenant_id not in seen]
        for row in rows:
            seen.add(row.tenant_id)
            report.due += 1
            try:
                _dispatch_one(store, tasks, row.tenant_id, row.data, now=now, report=report)
            except AppError as exc:
                # One tenant's failure must not starve the others; it stays due for the next tick.
                logger.warning("planning dispatch failed for one tenant: %s", exc.code)
                report.skipped["error"] += 1
        if len(rows) < batch:
            break
    log_event("planning_dispatch", logger=logger, **report.to_dict())
    return report


def _dispatch_one(store: DocumentStore, tasks: TaskQueue, tenant_id: str, root: dict[str, Any], *,
                  now: datetime, report: DispatchReport) -> None:
    config = _config(store, tenant_id=tenant_id)
    day = due_day(config, now)
    if root.get("connection_status", ConnectionStatus.CONNECTED.value) != ConnectionStatus.CONNECTED.value:
        report.skipped["not_connected"] += 1  # checked again tomorrow; a reconnect reschedules
    elif day is None:
        report.skipped["late"] += 1
    elif day.isoweekday() not in config.working_hours.days:
        report.skipped["day_off"] += 1
    else:
        request = plan_request(tenant_id=tenant_id, day=day, mode="daily",
                               name=daily_task_name(tenant_id=tenant_id, day=day), reason="daily plan")
        if enqueue_once(tasks, request):
            report.enqueued += 1
        else:
            report.already_enqueued += 1
    if advance(store, tenant_id=tenant_id, config=config, now=now):
        report.advanced += 1
