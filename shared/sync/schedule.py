"""Enqueueing sync work: one named task per tenant per short window (webhook bursts coalesce),
and one named reconcile task per tenant per reconcile period.

A burst of webhooks for a tenant (a user editing ten rows in a minute) becomes a single sync: every
event of window ``[start, start + window)`` enqueues the same task name, scheduled at the window's
end; the first enqueue creates it and the others get :class:`TaskAlreadyExists`, which here means
"already coalesced". The job learns *what* changed from the store (dirty marks, deletions), not
from the task body, so nothing is lost by dropping the later enqueues.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone

from shared.taskqueue.base import TaskQueue, TaskRequest, task_name_for
from shared.taskqueue.errors import TaskAlreadyExists

logger = logging.getLogger(__name__)

SYNC_QUEUE = "sync"
SYNC_FUNCTION = "sync"
SYNC_PATH = "/tasks/sync"
DEFAULT_WINDOW = timedelta(seconds=20)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window containing ``now`` (windows are aligned on the epoch)."""
    span = window.total_seconds()
    elapsed = (now - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=(elapsed // span) * span)


def enqueue_coalesced_sync(tasks: TaskQueue, *, tenant_id: str, now: datetime,
                           window: timedelta = DEFAULT_WINDOW) -> tuple[str, bool]:
    """Make sure a sync of ``tenant_id`` runs at the end of the current window.

    Returns ``(task_name, created)``; ``created`` is False when an earlier event of the same window
    already enqueued it."""
    start = window_start(now, window)
    name = task_name_for("sync", tenant_id=tenant_id, key=f"webhook:{start.isoformat()}")
    request = TaskRequest(queue=SYNC_QUEUE, function=SYNC_FUNCTION, path=SYNC_PATH, tenant_id=tenant_id,
                          payload={"reason": "webhook"}, name=name, schedule_time=start + window)
    return name, _enqueue(tasks, request)


def enqueue_reconcile(tasks: TaskQueue, *, tenant_id: str, period_start: datetime, now: datetime,
                      spread: timedelta = timedelta(0)) -> tuple[str, bool]:
    """Enqueue the full sync of ``tenant_id`` for the reconcile period starting at ``period_start``
    (a second dispatch in the same period enqueues nothing).

    The task runs at ``now`` plus a per-tenant offset within ``spread`` (stable, derived from the
    tenant id), so a thousand tenants do not all hit Notion in the same second."""
    name = task_name_for("reconcile", tenant_id=tenant_id, key=period_start.isoformat())
    offset = timedelta(0)
    if spread > timedelta(0):
        digest = int(hashlib.sha256(tenant_id.encode()).hexdigest()[:8], 16)
        offset = timedelta(seconds=digest % max(1, int(spread.total_seconds())))
    request = TaskRequest(queue=SYNC_QUEUE, function=SYNC_FUNCTION, path=SYNC_PATH, tenant_id=tenant_id,
                          payload={"full": True, "reason": "reconcile"}, name=name,
                          schedule_time=now + offset)
    return name, _enqueue(tasks, request)


def _enqueue(tasks: TaskQueue, request: TaskRequest) -> bool:
    try:
        tasks.enqueue(request)
    except TaskAlreadyExists:
        return False
    return True

