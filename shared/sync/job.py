"""The per-tenant sync job: Notion's Tasks and Routines data sources into the document store and
the tenant's memory.

One run, under the tenant's ``leases/sync`` lease (two runs of one tenant never interleave; a
second one answers :class:`SyncBusy` and Cloud Tasks retries it):

1. **Plan** which data sources to read. Webhook-driven runs read only the sources a webhook marked
   dirty (``sync_dirty/{kind}``): incrementally, or in full when the mark asks for it. A ``full``
   run (the periodic reconcile) lists every source; a ``poll`` run reads every source
   incrementally. A source read for the first time, or swapped for another one in the tenant's
   configuration, is listed in full.
2. **Read** each planned source (:func:`shared.sync.fetch.read_source`): one query per 100 changed
   rows, nothing per unchanged row. Pending page deletions from webhooks need no Notion call.
3. **Decide** per row: trashed/archived → delete; mapped value equal to the stored copy → nothing;
   otherwise write. A full listing also deletes stored rows Notion no longer has; a data source
   the tenant unselected takes its rows with it. A pending deletion is skipped if the page came
   back live in this run's results.
4. **Write** the memory first (one publish for the whole run), then the store, then mark the
   deletions applied, save the cursors (when each source's read started) and
   clear the dirty marks that did not change meanwhile. A failure before the end leaves the
   cursor where it was, so the next run redoes the work; every step is idempotent.

Outcomes: a rejected token (:class:`NotionAuthError`) or a missing connection ends the run with a
report (HTTP 200: retrying cannot help) and the connection marked ``needs_reauth``; a data source
that is gone or not shared ends it the same way with ``failed``; Notion's transient errors and the
memory's propagate (503) so Cloud Tasks retries.

Every run that did work is metered (a ``sync`` usage record, plus a ``notion_requests`` record
with the number of Notion calls) and logs ``sync_completed`` with ``lag_seconds``, the age of the
oldest change it applied (the webhook marks' times, else the previous cursor): the sync-lag alert's
metric. A sync that changed tasks of today asks the agent to replan the rest of the day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from shared.connections.errors import NotConnected
from shared.connections.tenants import TenantRepository
from shared.locks import LeaseBusy, hold_lease
from shared.memory.documents import MemoryDocument
from shared.models import ConnectionStatus, OperationType, Routine, Task, UsageRecord
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionAuthError, NotionNotFound, NotionPermissionDenied, NotionValidationError
from shared.notion.mapping import page_to_routine, page_to_task
from shared.observability import SYNC_COMPLETED, log_event
from shared.store.base import DocumentStore
from shared.sync.errors import SyncBusy
from shared.sync.fetch import DEFAULT_MARGIN, SourceRead, read_source
from shared.sync.memory_docs import routine_document, task_document
from shared.sync.state import (
    DeletionLog,
    DirtyMark,
    DirtyMarks,
    PendingDeletion,
    SourceCursor,
    SyncStateRepository,
)

logger = logging.getLogger(__name__)

COLLECTIONS = {"task": "tasks", "routine": "routines"}
SYNC_LEASE = "sync"


class MemoryWriter(Protocol):
    """The part of :class:`shared.memory.MemoryService` the sync uses."""

    def batch(self, *, tenant_id: str) -> AbstractContextManager[Any]: ...
    def ids(self, *, tenant_id: str) -> set[str]: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class SyncReport:
    """What a run did (the task's JSON answer, and the idempotency record's saved result)."""

    tenant_id: str
    status: str = "ok"  # ok | nothing_to_do | not_connected | needs_reauth | failed
    mode: str = "incremental"  # incremental | full | poll
    sources: dict[str, str] = field(default_factory=dict)  # kind -> "incremental" | "full"
    notion_requests: int = 0
    rows_read: int = 0
    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    unmappable: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Plan:
    kind: str
    data_source_id: str
    full: bool
    previous: SourceCursor | None


@dataclass
class _Changes:
    writes: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # id -> (collection, doc)
    memory_puts: list[MemoryDocument] = field(default_factory=list)
    deletes: set[tuple[str, str]] = field(default_factory=set)  # (collection, id)
    live: set[str] = field(default_factory=set)


@dataclass
class SyncJob:
    store: DocumentStore
    tenants: TenantRepository
    memory: MemoryWriter
    gateway_factory: Callable[[], NotionGateway]
    clock: Callable[[], datetime] = _utcnow
    margin: timedelta = DEFAULT_MARGIN
    lease_ttl: timedelta = timedelta(minutes=9)  # the function timeout: a crashed run frees it
    lease_wait: timedelta = timedelta(seconds=5)
    meter: Any = None  # shared.usage.meter.UsageMeter; None in tests that do not look at usage

    async def run(self, *, tenant_id: str, full: bool = False, poll: bool = False) -> SyncReport:
        """Sync the tenant once (see the module doc)."""
        report = SyncReport(tenant_id, mode="full" if full else "poll" if poll else "incremental")
        tenant = self.tenants.get(tenant_id=tenant_id)
        if tenant is None or tenant.connection_status != ConnectionStatus.CONNECTED:
            report.status = "not_connected"
            return report
        try:
            async with hold_lease(self.store, SYNC_LEASE, tenant_id=tenant_id, ttl=self.lease_ttl,
                                  wait=self.lease_wait, clock=self.clock):
                await self._run_locked(report, full=full, poll=poll)
        except LeaseBusy:
            raise SyncBusy() from None
        self._meter(report)
        return report

    def _meter(self, report: SyncReport) -> None:
        if self.meter is None or report.status == "nothing_to_do":
            return
        now = self.clock()
        detail = f"{report.mode}: {report.written} written, {report.deleted} deleted"
        self.meter.record(UsageRecord(operation=OperationType.SYNC, detail=detail, timestamp=now),
                          tenant_id=report.tenant_id)
        if report.notion_requests:
            self.meter.record(UsageRecord(operation=OperationType.NOTION_REQUESTS, timestamp=now,
                                          detail=f"{report.notion_requests} requests (sync)"), tenant_id=report.tenant_id)

    async def _run_locked(self, report: SyncReport, *, full: bool, poll: bool) -> None:
        tenant_id = report.tenant_id
        config = self.tenants.get_config(tenant_id=tenant_id)
        states = SyncStateRepository(self.store)
        state = states.load(tenant_id=tenant_id)
        marks = DirtyMarks(self.store).load(tenant_id=tenant_id)
        deletions = DeletionLog(self.store)
        pending = deletions.pending(tenant_id=tenant_id)
        sources = {"task": config.tasks_data_source_id, "routine": config.routines_data_source_id}
        plans = self._plan(sources, state.sources, marks, full=full, poll=poll)
        # Kinds synced before whose data source the tenant has since unselected: their rows go.
        dropped = [kind for kind in state.sources if kind in COLLECTIONS and not sources.get(kind)]
        if not plans and not pending and not dropped:
            DirtyMarks(self.store).clear(list(marks.values()), tenant_id=tenant_id)
            report.status = "nothing_to_do"
            return

        try:
            reads = await self._read(plans, tenant_id=tenant_id, report=report)
        except (NotionAuthError, NotConnected):
            logger.warning("sync stopped: the Notion connection needs re-authorisation")
            self.tenants.set_status(ConnectionStatus.NEEDS_REAUTH, tenant_id=tenant_id)
            report.status = "needs_reauth"
            states.record_result(report.to_dict(), tenant_id=tenant_id, now=self.clock())
            return
        except (NotionNotFound, NotionPermissionDenied, NotionValidationError) as error:
            # The configured data source is gone, not shared, or refuses our query: retrying
            # the same request cannot succeed, so the run ends here and says why.
            logger.warning("sync failed permanently: %s", error.code)
            report.status, report.error = "failed", error.code
            states.record_result(report.to_dict(), tenant_id=tenant_id, now=self.clock())
            return

        changes = self._decide(plans, reads, pending, tenant_id=tenant_id, report=report)
        for kind in dropped:
            changes.deletes.update((COLLECTIONS[kind], page_id)
                                   for page_id in self._stored_ids(COLLECTIONS[kind], tenant_id=tenant_id))
        self._write(changes, tenant_id=tenant_id, report=report)
        deletions.mark_applied(pending, tenant_id=tenant_id)

        now = self.clock()
        for plan in plans:
            read = reads[plan.kind]
            previous = plan.previous if plan.previous and plan.previous.data_source_id == plan.data_source_id else None
            cursor = max(filter(None, [previous.cursor if previous else None, read.started_at]))
            last_full = now if plan.full else (previous.last_full_at if previous else None)
            state.sources[plan.kind] = SourceCursor(plan.data_source_id, cursor, last_full)
        for kind in dropped:
            del state.sources[kind]
        state.last_run_at = now
        state.last_result = report.to_dict()
        states.save(state, tenant_id=tenant_id)
        used = [marks[plan.kind] for plan in plans if plan.kind in marks]
        stale = [mark for kind, mark in marks.items() if not sources.get(kind)]
        DirtyMarks(self.store).clear(used + stale, tenant_id=tenant_id)
        log_event(SYNC_COMPLETED, logger=logger, lag_seconds=_lag_seconds(now, used, plans), mode=report.mode,
                  written=report.written, deleted=report.deleted, notion_requests=report.notion_requests)
        # A change that matters to today's plan replans the rest of the day. Imported here: the
        # agent's planning code is needed only when a sync actually changed something.
        from shared.agent.replan import replan_after_sync

        replan_after_sync(self.store, tenant_id=tenant_id, changed=changes.writes,
                          deleted=(page_id for _, page_id in changes.deletes), now=now)

    # --- planning and reading -------------------------------------------------------------------

    @staticmethod
    def _plan(sources: dict[str, str | None], cursors: dict[str, SourceCursor], marks: dict[str, DirtyMark], *,
              full: bool, poll: bool) -> list[_Plan]:
        plans = []
        for kind, data_source_id in sources.items():
            if not data_source_id:
                continue
            previous = cursors.get(kind)
            fresh = previous is None or previous.data_source_id != data_source_id or previous.cursor is None
            mark = marks.get(kind)
            if full or fresh or (mark is not None and mark.full):
                plans.append(_Plan(kind, data_source_id, True, previous))
            elif poll or mark is not None:
                plans.append(_Plan(kind, data_source_id, False, previous))
        return plans

    async def _read(self, plans: list[_Plan], *, tenant_id: str, report: SyncReport) -> dict[str, SourceRead]:
        reads: dict[str, SourceRead] = {}
        if not plans:
            return reads
        async with self.gateway_factory() as gateway:
            for plan in plans:
                cursor = None if plan.full else plan.previous.cursor
                read = await read_source(gateway, plan.data_source_id, tenant_id=tenant_id, cursor=cursor,
                                         now=self.clock(), margin=self.margin)
                reads[plan.kind] = read
                report.sources[plan.kind] = "full" if plan.full else "incremental"
                report.notion_requests += read.requests
                report.rows_read += len(read.pages)
        return reads

    # --- deciding -------------------------------------------------------------------------------

    def _decide(self, plans: list[_Plan], reads: dict[str, SourceRead], pending: list[PendingDeletion], *,
                tenant_id: str, report: SyncReport) -> _Changes:
        changes = _Changes()
        for plan in plans:
            collection = COLLECTIONS[plan.kind]
            read = reads[plan.kind]
            for page in read.pages:
                page_id = str(page.get("id") or "")
                if not page_id:
                    continue
                if page.get("in_trash") or page.get("archived"):
                    changes.deletes.add((collection, page_id))
                    continue
                changes.live.add(page_id)
                value = self._map(plan.kind, page)
                if value is None:
                    report.unmappable += 1
                    continue  # keep whatever copy we have: one odd row never deletes data
                document = value.model_dump(mode="json")
                stored = self.store.get(f"{collection}/{page_id}", tenant_id=tenant_id)
                if stored == document:
                    report.unchanged += 1
                    continue
                changes.writes[page_id] = (collection, document)
                changes.memory_puts.append(self._memory_document(plan.kind, value, plan.data_source_id))
            if plan.full:
                for page_id in self._stored_ids(collection, tenant_id=tenant_id) - changes.live:
                    changes.deletes.add((collection, page_id))
        for item in pending:
            if item.page_id in changes.live:
                continue  # it is back: the query result is newer than the event
            for collection in COLLECTIONS.values():
                changes.deletes.add((collection, item.page_id))
        if any(plan.full for plan in plans):
            self._repair_memory(plans, changes, tenant_id=tenant_id)
        return changes

    @staticmethod
    def _map(kind: str, page: dict[str, Any]) -> Task | Routine | None:
        mapped = page_to_task(page) if kind == "task" else page_to_routine(page)
        for warning in mapped.warnings:
            logger.info("sync mapping: %s", warning)
        return mapped.value

    @staticmethod
    def _memory_document(kind: str, value: Task | Routine, data_source_id: str) -> MemoryDocument:
        if kind == "task":
            return task_document(value, data_source_id=data_source_id)
        return routine_document(value, data_source_id=data_source_id)

    def _stored_ids(self, collection: str, *, tenant_id: str) -> set[str]:
        ids: set[str] = set()
        after: list[Any] | None = None
        while True:
            page = self.store.query(collection, tenant_id=tenant_id, order_by=[("id", "asc")], limit=500,
                                    start_after=after)
            ids.update(doc.id for doc in page)
            if len(page) < 500:
                return ids
            after = [page[-1].data.get("id")]

    def _repair_memory(self, plans: list[_Plan], changes: _Changes, *, tenant_id: str) -> None:
        """A full run also re-adds rows the memory lacks (e.g. a publish lost in a crash)."""
        remembered = self.memory.ids(tenant_id=tenant_id)
        queued = {doc.id for doc in changes.memory_puts}
        for plan in plans:
            if not plan.full:
                continue
            collection = COLLECTIONS[plan.kind]
            for page_id in self._stored_ids(collection, tenant_id=tenant_id) & changes.live:
                if page_id in remembered or page_id in queued:
                    continue
                stored = self.store.get(f"{collection}/{page_id}", tenant_id=tenant_id)
                if stored is None:
                    continue
                model = Task if plan.kind == "task" else Routine
                changes.memory_puts.append(self._memory_document(plan.kind, model.model_validate(stored),
                                                                 plan.data_source_id))

    # --- writing --------------------------------------------------------------------------------

    def _write(self, changes: _Changes, *, tenant_id: str, report: SyncReport) -> None:
        deleted_ids = sorted({page_id for _, page_id in changes.deletes} - set(changes.writes))
        if changes.memory_puts or deleted_ids:
            # Memory first: if it fails, the store (which decides "unchanged") is untouched and the
            # next run redoes both.
            with self.memory.batch(tenant_id=tenant_id) as batch:
                if changes.memory_puts:
                    batch.upsert(changes.memory_puts)
                if deleted_ids:
                    batch.delete(deleted_ids)
        for page_id, (collection, document) in changes.writes.items():
            self.store.set(f"{collection}/{page_id}", document, tenant_id=tenant_id)
        report.written = len(changes.writes)
        removed = 0
        for collection, page_id in sorted(changes.deletes):
            if page_id in changes.writes:
                continue
            if self.store.get(f"{collection}/{page_id}", tenant_id=tenant_id) is not None:
                self.store.delete(f"{collection}/{page_id}", tenant_id=tenant_id)
                removed += 1
        report.deleted = removed


def _lag_seconds(now: datetime, marks: list[Any], plans: list[_Plan]) -> float:
    """Age of the oldest change this run applied: the earliest webhook mark it consumed, else (a
    reconcile or poll) the previous cursor of the sources it read."""
    times = [value for mark in marks for value in (mark.raw.get("at"), mark.raw.get("full_at"))
             if isinstance(value, datetime)]
    if not times:
        times = [plan.previous.cursor for plan in plans if plan.previous and plan.previous.cursor]
    return round(max(0.0, (now - min(times)).total_seconds()), 3) if times else 0.0
