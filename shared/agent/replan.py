"""Replanning the rest of the day when the user changes something in Notion.

The sync calls :func:`replan_after_sync` after it stored a batch of changed rows (webhook-driven or
reconcile). It enqueues a replan only when all of these hold:

* the tenant has a plan for its current local day (``plans/{today}``): before the daily plan is
  made there is nothing to revise — the daily plan will read the change anyway;
* today's working hours have not ended (there is a rest of the day to plan);
* a change matters to that plan: a task or routine the plan was made from now reads differently
  (its fingerprint, :func:`plan_inputs`), a new open task appeared, or an item of the plan was
  deleted. The echo of the planner's own Scheduled writes does not count: a Scheduled time equal to
  the planner's last write is read as "not fixed" both when planning and here, so it leaves the
  fingerprint unchanged and cannot start a loop.

:func:`request_replan` enqueues the replan task. Its name is keyed ``replan-{local date}-{HHMM}``
by the start of a :data:`REPLAN_WINDOW` window and it runs at the window's end, so a burst of edits
(ten rows changed in a minute) is one replan. Only the dispatcher's queue sees these names: the
chat's "replan my day" runs the job directly.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from shared.agent.planning_time import local_today, occurrence
from shared.agent.plans import fingerprint, load_plan
from shared.agent.queueing import enqueue_once, plan_request, replan_task_name
from shared.agent.scheduled import ScheduledWrites
from shared.agent.workload import get_routine, get_task
from shared.connections.tenants import TenantRepository
from shared.errors import AppError
from shared.models import Routine, Task, TaskStatus, UserConfig
from shared.observability import log_event
from shared.store.base import DocumentStore
from shared.taskqueue.base import TaskQueue

logger = logging.getLogger(__name__)

REPLAN_WINDOW = timedelta(minutes=2)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_OPEN = frozenset({TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED})


def routine_fingerprint(routine: Routine) -> str:
    data = routine.model_dump(mode="json", exclude={"url", "last_edited_time"})
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def plan_inputs(tasks: Iterable[Task], routines: Iterable[Routine], writes: ScheduledWrites) -> dict[str, str]:
    """Fingerprints of everything a plan is made from: task ids, and ``routine:{id}`` keys."""
    inputs = {task.id: fingerprint(task, fixed_start=writes.user_fixed_start(task)) for task in tasks}
    inputs.update({f"routine:{routine.id}": routine_fingerprint(routine) for routine in routines})
    return inputs


def _window_start(now: datetime, window: timedelta) -> datetime:
    span = window.total_seconds()
    return _EPOCH + timedelta(seconds=((now - _EPOCH).total_seconds() // span) * span)


def request_replan(tasks: TaskQueue, *, tenant_id: str, reason: str, now: datetime, config: UserConfig,
                   window: timedelta = REPLAN_WINDOW) -> tuple[str, bool]:
    """Enqueue a replan of the tenant's current local day at the end of the current window.

    Returns ``(task_name, created)``; ``created`` is False when this window already has one."""
    day = local_today(config, now)
    start = _window_start(now, window)
    name = replan_task_name(tenant_id=tenant_id, day=day, window=start.astimezone(timezone.utc).strftime("%H%M"))
    created = enqueue_once(tasks, plan_request(tenant_id=tenant_id, day=day, mode="replan", name=name,
                                               reason=reason, schedule_time=start + window))
    return name, created


def changes_matter(store: DocumentStore, *, tenant_id: str, changed: Iterable[str], deleted: Iterable[str],
                   now: datetime, config: UserConfig) -> str | None:
    """Why the changes call for a replan of today (a short reason), or ``None``."""
    day = local_today(config, now)
    plan = load_plan(store, day, tenant_id=tenant_id)
    if plan is None:
        return None
    if day.isoweekday() not in config.working_hours.days or now >= occurrence(day, config.working_hours.end,
                                                                              config.zone):
        return None
    planned = {block.item_id for block in plan.blocks}
    for page_id in deleted:
        if page_id in planned or page_id in plan.inputs or f"routine:{page_id}" in plan.inputs:
            return "an item of today's plan was deleted in Notion"
    writes: ScheduledWrites | None = None
    for page_id in changed:
        task = get_task(store, page_id, tenant_id=tenant_id)
        if task is not None:
            writes = writes or ScheduledWrites.load(store, tenant_id=tenant_id)
            before = plan.inputs.get(task.id)
            if before is None:
                if task.status in _OPEN:
                    return "a task was added in Notion"
                continue
            if before != fingerprint(task, fixed_start=writes.user_fixed_start(task)):
                return "a task changed in Notion"
            continue
        routine = get_routine(store, page_id, tenant_id=tenant_id)
        if routine is not None:
            if plan.inputs.get(f"routine:{routine.id}") != routine_fingerprint(routine):
                return "a routine changed in Notion"
    return None


def replan_after_sync(store: DocumentStore, *, tenant_id: str, changed: Iterable[str], deleted: Iterable[str] = (),
                      now: datetime | None = None, tasks: TaskQueue | None = None) -> str | None:
    """The sync's hook: enqueue a replan of the rest of today if the stored changes matter to
    today's plan (see the module doc). Returns the replan task's name, or ``None``.

    ``tasks`` defaults to the process's queue, looked up only when a replan is actually needed. A
    queue failure is logged, not raised: it must not fail the sync that called."""
    now = now or datetime.now(timezone.utc)
    config = TenantRepository(store).get_config(tenant_id=tenant_id)
    reason = changes_matter(store, tenant_id=tenant_id, changed=list(changed), deleted=list(deleted), now=now,
                            config=config)
    if reason is None:
        return None
    if tasks is None:
        from shared.backends import get_backends

        tasks = get_backends().tasks
    try:
        name, created = request_replan(tasks, tenant_id=tenant_id, reason=reason, now=now, config=config)
    except AppError as exc:
        # The sync's own work is done and must not be redone for this: the next change, or the
        # next daily plan, catches up.
        logger.warning("replan could not be enqueued: %s", exc.code)
        return None
    log_event("replan_requested", logger=logger, reason=reason, coalesced=not created)
    return name
