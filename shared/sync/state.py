"""What the sync remembers per tenant: cursors per data source, and page deletions from webhooks.

``sync/state`` holds, per kind (``task``/``routine``), the data source synced and its cursor: when
the last successful read of that data source started (the next read asks Notion for rows edited
since the cursor minus a safety margin, see :mod:`shared.sync.fetch`).

``sync_deletions/{page_id}`` records the latest ``page.deleted``/``page.undeleted`` (or a move out
of a synced data source) seen for a page, keyed by the event's timestamp so an older event that
arrives late cannot overrule a newer one. The sync job applies pending deletions without asking
Notion about each page; applied records are kept until they expire so a late duplicate is still
compared against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from shared.ids import validate_segment
from shared.store.base import EXPIRES_AT, DocumentStore, Filter

STATE_PATH = "sync/state"
DELETIONS = "sync_deletions"
DELETION_TTL = timedelta(days=7)  # longer than Notion's ~24 h of delivery retries

Kind = Literal["task", "routine"]
KINDS: tuple[Kind, ...] = ("task", "routine")


@dataclass
class SourceCursor:
    """Where the sync of one kind stands: its data source and the latest edit seen there."""

    data_source_id: str
    cursor: datetime | None = None
    last_full_at: datetime | None = None

    def to_doc(self) -> dict[str, Any]:
        return {"data_source_id": self.data_source_id, "cursor": self.cursor, "last_full_at": self.last_full_at}

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> "SourceCursor":
        return cls(str(data.get("data_source_id") or ""), _aware(data.get("cursor")), _aware(data.get("last_full_at")))


@dataclass
class SyncState:
    sources: dict[str, SourceCursor] = field(default_factory=dict)
    last_run_at: datetime | None = None
    last_result: dict[str, Any] = field(default_factory=dict)


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


class SyncStateRepository:
    """Reads and writes ``sync/state`` of a tenant."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def load(self, *, tenant_id: str) -> SyncState:
        data = self.store.get(STATE_PATH, tenant_id=tenant_id) or {}
        sources = {kind: SourceCursor.from_doc(doc) for kind, doc in (data.get("sources") or {}).items()
                   if isinstance(doc, dict)}
        return SyncState(sources=sources, last_run_at=_aware(data.get("last_run_at")),
                         last_result=dict(data.get("last_result") or {}))

    def save(self, state: SyncState, *, tenant_id: str) -> None:
        self.store.set(STATE_PATH, {
            "sources": {kind: source.to_doc() for kind, source in state.sources.items()},
            "last_run_at": state.last_run_at,
            "last_result": state.last_result,
        }, tenant_id=tenant_id)

    def record_result(self, result: dict[str, Any], *, tenant_id: str, now: datetime) -> None:
        """Note the outcome of a run that did not advance any cursor (a failure, a skip)."""
        self.store.set(STATE_PATH, {"last_run_at": now, "last_result": result}, tenant_id=tenant_id, merge=True)


@dataclass(frozen=True)
class PendingDeletion:
    page_id: str
    at: datetime


class DeletionLog:
    """``sync_deletions/{page_id}``: page deletions learnt from webhooks, applied by the sync job."""

    def __init__(self, store: DocumentStore, *, ttl: timedelta = DELETION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    def record(self, page_id: str, *, deleted: bool, at: datetime, now: datetime, tenant_id: str) -> bool:
        """Record that ``page_id`` was deleted (or restored) at ``at``; False if a newer record wins."""
        path = f"{DELETIONS}/{validate_segment(page_id, field='page_id')}"

        def write(txn) -> bool:
            current = txn.get(path)
            if current is not None and _aware(current.get("at")) and _aware(current["at"]) > at:
                return False  # a newer event about this page was already recorded
            # A restoration needs no action: it is born applied, and only overrules older deletions.
            txn.set(path, {"page_id": page_id, "deleted": deleted, "at": at, "applied": not deleted,
                           EXPIRES_AT: now + self.ttl})
            return True

        return self.store.transaction(write, tenant_id=tenant_id)

    def pending(self, *, tenant_id: str, limit: int = 1000) -> list[PendingDeletion]:
        """Deletions not applied yet, oldest first."""
        docs = self.store.query(DELETIONS, tenant_id=tenant_id, filters=[Filter("applied", "==", False)], limit=limit)
        found = [PendingDeletion(doc.data["page_id"], _aware(doc.data["at"]))
                 for doc in docs if doc.data.get("deleted") and doc.data.get("page_id")]
        return sorted(found, key=lambda item: item.at)

    def mark_applied(self, pending: list[PendingDeletion], *, tenant_id: str) -> None:
        """Mark records applied, unless a newer event replaced them meanwhile."""
        for item in pending:
            path = f"{DELETIONS}/{item.page_id}"

            def mark(txn, path=path, item=item) -> None:
                current = txn.get(path)
                if current is not None and _aware(current.get("at")) == item.at:
                    txn.set(path, {**current, "applied": True})

            self.store.transaction(mark, tenant_id=tenant_id)


DIRTY = "sync_dirty"


@dataclass(frozen=True)
class DirtyMark:
    """A kind whose data source changed since the last sync (``full``: needs a full listing)."""

    kind: str
    full: bool
    raw: dict[str, Any]


class DirtyMarks:
    """``sync_dirty/{kind}``: which data sources webhooks reported changed, so a sync queries only
    those. Set with merge (``at`` for an incremental change, ``full_at`` for one that needs a full
    listing) so concurrent webhooks never lose each other's mark; cleared by the job only if no
    webhook touched the mark while it ran."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def mark(self, kind: str, *, full: bool, now: datetime, tenant_id: str) -> None:
        field_name = "full_at" if full else "at"
        path = f"{DIRTY}/{validate_segment(kind, field='kind')}"
        self.store.set(path, {field_name: now, EXPIRES_AT: now + DELETION_TTL}, tenant_id=tenant_id, merge=True)

    def load(self, *, tenant_id: str) -> dict[str, DirtyMark]:
        marks = {}
        for kind in KINDS:
            data = self.store.get(f"{DIRTY}/{kind}", tenant_id=tenant_id)
            if data:
                marks[kind] = DirtyMark(kind, bool(data.get("full_at")), data)
        return marks

    def clear(self, marks: list[DirtyMark], *, tenant_id: str) -> None:
        for mark in marks:
            path = f"{DIRTY}/{mark.kind}"

            def clear_if_unchanged(txn, path=path, mark=mark) -> None:
                current = txn.get(path)
                if current is not None and current.get("at") == mark.raw.get("at") \
                        and current.get("full_at") == mark.raw.get("full_at"):
                    txn.delete(path)

            self.store.transaction(clear_if_unchanged, tenant_id=tenant_id)
