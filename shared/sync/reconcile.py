"""The periodic reconcile: one full-sync task per connected tenant, for what webhooks never said.

Notion delivers webhooks at most once and gives up after 8 attempts; a deletion whose event was
lost is invisible to an incremental sync (trashed rows are not returned by a query). Cloud
Scheduler calls ``/dispatch/reconcile`` (hourly, ``infra/scheduler.json``); this enqueues, for every
tenant whose connection is ``connected`` (the named ``tenants_where`` query, paged by tenant id), a
task named after the tenant and the period, so a repeated dispatch in the same period enqueues
nothing. Tasks are spread over ``spread`` so the tenants do not all start in the same second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.models import ConnectionStatus
from shared.store.base import DocumentStore
from shared.sync.schedule import enqueue_reconcile, window_start
from shared.taskqueue.base import TaskQueue

logger = logging.getLogger(__name__)

DEFAULT_PERIOD = timedelta(hours=1)
DEFAULT_SPREAD = timedelta(minutes=10)
PAGE = 500


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ReconcileDispatch:
    period_start: datetime
    tenants: int
    enqueued: int
    already_enqueued: int

    def to_dict(self) -> dict[str, object]:
        return {"period_start": self.period_start.isoformat(), "tenants": self.tenants,
                "enqueued": self.enqueued, "already_enqueued": self.already_enqueued}


def dispatch_reconcile(store: DocumentStore, tasks: TaskQueue, *, clock: Callable[[], datetime] = _utcnow,
                       period: timedelta = DEFAULT_PERIOD, spread: timedelta = DEFAULT_SPREAD,
                       page_size: int = PAGE) -> ReconcileDispatch:
    """Enqueue this period's reconcile task of every connected tenant."""
    now = clock()
    start = window_start(now, period)
    tenants = enqueued = 0
    after: str | None = None
    while True:
        rows = store.tenants_where("connection_status", ConnectionStatus.CONNECTED.value, limit=page_size,
                                   start_after=after)
        for row in rows:
            tenants += 1
            _, created = enqueue_reconcile(tasks, tenant_id=row.tenant_id, period_start=start, now=now, spread=spread)
            enqueued += created
        if len(rows) < page_size:
            break
        after = rows[-1].tenant_id
    logger.info("reconcile dispatch: %d tenants, %d tasks enqueued", tenants, enqueued)
    return ReconcileDispatch(start, tenants, enqueued, tenants - enqueued)
