"""The document store on Cloud Firestore (the gcp profile's adapter).

Documents live at ``{root_collection}/{tenant_id}/...`` (``users`` by default); values are stored
natively (datetimes as timestamps, so TTL policies on ``expires_at`` and range queries work).

Expiry: Firestore's TTL deletes expired documents lazily (typically within a day), so this adapter
hides them itself — reads skip them, ``create`` treats them as absent, and queries drop them after
the fact; a query with ``limit`` then reads further pages to make up for them (a bounded number:
past that it may return fewer documents than the limit). ``set(merge=True)`` and ``increment`` act
on the stored body even if it expired (as on SQLite).

Errors: the client retries transient failures itself; what still fails (ServiceUnavailable,
DeadlineExceeded, InternalServerError, an exhausted retry, or any other API error) becomes
``StoreError``; a transaction that keeps aborting becomes ``ContentionError``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import firestore
from google.cloud.firestore_v1 import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.errors import InvalidRequest
from shared.ids import validate_segment
from shared.store import _evaluate, _paths, _values
from shared.store._txn import ReadTracker
from shared.store.base import Document, Filter, TenantRow
from shared.store.errors import AlreadyExists, ContentionError, PreconditionFailed, StoreError

if TYPE_CHECKING:
    from shared.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

_OPS = {
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "in": "in",
    "array-contains": "array_contains",
}
_DIRECTIONS = {"asc": firestore.Query.ASCENDING, "desc": firestore.Query.DESCENDING}
_BATCH_SIZE = 500  # Firestore's limit of writes per batch
_BASE_BACKOFF_SECONDS = 0.05  # pause before re-running an aborted transaction, doubling per attempt
_MAX_BACKOFF_SECONDS = 2.0
_MAX_TOP_UPS = 10  # extra pages a limited query reads to replace expired documents


@contextmanager
def _translate() -> Iterator[None]:
    """Map what the client could not retry away to the store's errors."""
    try:
        yield
    except gexc.Aborted as exc:
        logger.warning("firestore aborted an operation: %s", exc.__class__.__name__)
        raise ContentionError() from exc
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.RetryError) as exc:
        logger.warning("firestore unavailable: %s", exc.__class__.__name__)
        raise StoreError() from exc
    except gexc.GoogleAPIError as exc:
        # Permissions, a missing index, a bad request: not the caller's fault and not retryable.
        logger.error("firestore call failed: %s: %s", exc.__class__.__name__, getattr(exc, "message", ""))
        raise StoreError() from exc


class _FirestoreTransaction:
    """A :class:`shared.store.base.Transaction` over a ``google.cloud.firestore.Transaction``."""

    def __init__(self, store: FirestoreDocumentStore, txn: firestore.Transaction, tenant: str) -> None:
        self._store = store
        self._txn = txn
        self._tenant = tenant
        self._tracker = ReadTracker()

    def get(self, path: str) -> dict[str, Any] | None:
        parts = _paths.document(path)
        self._tracker.before_read()
        snapshot = self._store._ref(self._tenant, parts).get(transaction=self._txn, **self._store._call)
        data = self._store._live(snapshot)
        self._tracker.record_read("/".join(parts), data is not None)
        return data

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        parts = _paths.document(path)
        body = _values.plain(_values.check_data(data))
        self._txn.set(self._store._ref(self._tenant, parts), body, merge=merge)
        self._tracker.record_write("/".join(parts), True)

    def create(self, path: str, data: dict[str, Any]) -> None:
        parts = _paths.document(path)
        body = _values.plain(_values.check_data(data))
        key = "/".join(parts)
        if self._tracker.known(key) is None:
            self.get(key)  # an expired document counts as absent, so it has to be read
        if self._tracker.known(key):
            raise AlreadyExists()
        # The read is part of the transaction: a concurrent create aborts and retries this one.
        self._txn.set(self._store._ref(self._tenant, parts), body)
        self._tracker.record_write(key, True)

    def delete(self, path: str) -> None:
        parts = _paths.document(path)
        self._txn.delete(self._store._ref(self._tenant, parts))
        self._tracker.record_write("/".join(parts), False)


class FirestoreDocumentStore:
    """:class:`shared.store.base.DocumentStore` on Cloud Firestore."""

    def __init__(
        self,
        client: firestore.Client,
        root_collection: str = "users",
        *,
        clock: Callable[[], datetime] = _values.utcnow,
        retry: Retry | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``retry``/``timeout`` override the client's per-call policy (None keeps its defaults,
        which already retry transient errors); ``clock`` decides what has expired; ``sleep`` is the
        pause between attempts of an aborted transaction."""
        self._client = client
        self._sleep = sleep
        self._root = validate_segment(root_collection, field="root_collection")
        self._clock = clock
        self._call: dict[str, Any] = {}
        if retry is not None:
            self._call["retry"] = retry
        if timeout is not None:
            self._call["timeout"] = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreDocumentStore:
        """A store on the project and database named by the settings (ADC credentials)."""
        client = firestore.Client(project=settings.gcp_project or None, database=settings.firestore_database)
        return cls(client)

    # --- helpers --------------------------------------------------------------------------------
    def _ref(self, tenant: str, parts: tuple[str, ...]) -> firestore.DocumentReference:
        return (
            self._client.collection(self._root).document(tenant)
            if not parts
            else self._client.document(self._root, tenant, *parts)
        )

    def _relative(self, tenant: str, reference: firestore.DocumentReference) -> str:
        prefix = f"{self._root}/{tenant}"
        path = reference.path
        return "" if path == prefix else path.removeprefix(prefix + "/")

    def _live(self, snapshot: firestore.DocumentSnapshot) -> dict[str, Any] | None:
        if not snapshot.exists:
            return None
        data = snapshot.to_dict() or {}
        return None if _values.is_expired(data, self._clock()) else data

    def _live_results(self, query: Any, limit: int | None) -> list[tuple[firestore.DocumentSnapshot, dict[str, Any]]]:
        """Run ``query`` dropping expired documents; while some were dropped, page on (after the
        last snapshot) to fill ``limit`` — at most :data:`_MAX_TOP_UPS` extra pages, after which
        fewer than ``limit`` may be returned (logged)."""
        found: list[tuple[firestore.DocumentSnapshot, dict[str, Any]]] = []
        page, cursor = 0, None
        while True:
            page_query = query if cursor is None else query.start_after(cursor)
            wanted = None if limit is None else limit - len(found)
            if wanted is not None:
                page_query = page_query.limit(wanted)
            with _translate():
                snapshots = list(page_query.stream(**self._call))
            for snapshot in snapshots:
                data = self._live(snapshot)
                if data is not None:
                    found.append((snapshot, data))
            if wanted is None or len(snapshots) < wanted or len(found) >= limit:
                return found
            page, cursor = page + 1, snapshots[-1]
            if page > _MAX_TOP_UPS:
                logger.warning("query returned fewer than its limit: too many expired documents await deletion")
                return found

    def _run_transaction(self, fn: Callable[[firestore.Transaction], T], max_attempts: int) -> T:
        """Run ``fn`` in a transaction, re-running it after a jittered exponential pause each time
        it aborts on contention. The client library re-runs an aborted transaction at once, which
        lets symmetric contenders abort each other again and again (Firestore's pessimistic locks
        end each deadlock with a lock timeout); the random pause breaks that symmetry."""
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidRequest("max_attempts must be a positive integer.", field="max_attempts")
        transactional = firestore.transactional(fn)
        for attempt in range(max_attempts):
            try:
                with _translate():
                    return transactional(self._client.transaction(max_attempts=1))
            except ValueError as exc:
                # The client gives up on an aborted transaction with a bare ValueError.
                if not (isinstance(exc.__cause__, gexc.Aborted) or str(exc).startswith("Failed to commit transaction")):
                    raise
                if attempt + 1 == max_attempts:
                    logger.warning("firestore transaction gave up after %d attempts", max_attempts)
                    raise ContentionError() from exc
            self._sleep(random.uniform(0, min(_MAX_BACKOFF_SECONDS, _BASE_BACKOFF_SECONDS * 2 ** attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- single documents -------------------------------------------------------------------------
    def get(self, path: str, *, tenant_id: str) -> dict[str, Any] | None:
        document = self.get_document(path, tenant_id=tenant_id)
        return document.data if document else None

    def get_document(self, path: str, *, tenant_id: str) -> Document | None:
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        with _translate():
            snapshot = self._ref(tenant, parts).get(**self._call)
        data = self._live(snapshot)
        if data is None:
            return None
        return Document(path="/".join(parts), data=data, update_time=snapshot.update_time)

    def set(self, path: str, data: dict[str, Any], *, tenant_id: str, merge: bool = False) -> None:
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        body = _values.plain(_values.check_data(data))
        with _translate():
            self._ref(tenant, parts).set(body, merge=merge, **self._call)

    def create(self, path: str, data: dict[str, Any], *, tenant_id: str) -> None:
        """Write only if absent or expired; else raise ``AlreadyExists``."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        body = _values.plain(_values.check_data(data))
        reference = self._ref(tenant, parts)
        with _translate():
            try:
                reference.create(body, **self._call)
                return
            except (gexc.AlreadyExists, gexc.Conflict):
                pass

        # It exists; it may have expired (TTL deletion lags), which counts as absent.
        def replace_if_expired(txn: firestore.Transaction) -> None:
            if self._live(reference.get(transaction=txn)) is not None:
                raise AlreadyExists()
            txn.set(reference, body)

        self._run_transaction(replace_if_expired, max_attempts=5)

    def update_if_unchanged(self, path: str, data: dict[str, Any], *, tenant_id: str, update_time: datetime) -> None:
        """Overwrite only if the document's ``update_time`` is still ``update_time`` (a
        ``last_update_time`` precondition); else ``PreconditionFailed`` (also when it is gone)."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        body = _values.plain(_values.check_data(data))
        if not isinstance(update_time, datetime) or update_time.tzinfo is None:
            raise InvalidRequest("The update_time must be a timezone-aware datetime.", field="update_time")
        reference = self._ref(tenant, parts)
        with _translate():
            snapshot = reference.get(**self._call)
        if not snapshot.exists or snapshot.update_time != update_time:
            raise PreconditionFailed()
        # ``update`` is the write that takes a precondition; fields not in ``data`` are deleted so
        # it overwrites. The key set read above is current as long as the precondition holds.
        updates: dict[str, Any] = {
            FieldPath(key).to_api_repr(): firestore.DELETE_FIELD for key in snapshot.to_dict() or {}
        }
        updates.update({FieldPath(key).to_api_repr(): value for key, value in body.items()})
        if not updates:
            return  # an empty document replaced by an empty document, unchanged since read
        with _translate():
            try:
                reference.update(updates, option=self._client.write_option(last_update_time=update_time), **self._call)
            except (gexc.FailedPrecondition, gexc.NotFound) as exc:
                raise PreconditionFailed() from exc

    def delete(self, path: str, *, tenant_id: str) -> None:
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        with _translate():
            self._ref(tenant, parts).delete(**self._call)

    def increment(
        self,
        path: str,
        deltas: dict[str, int | float],
        *,
        tenant_id: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Atomically add ``deltas`` (``Increment`` transforms, merged) and merge ``extra``."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        amounts, more = _values.check_increment(deltas, extra)
        more = _values.plain(more)
        body = {**more, **{key: firestore.Increment(value) for key, value in amounts.items()}}
        with _translate():
            self._ref(tenant, parts).set(body, merge=True, **self._call)

    # --- collections ------------------------------------------------------------------------------
    def query(
        self,
        collection: str,
        *,
        tenant_id: str,
        filters: Sequence[Filter] = (),
        order_by: Sequence[tuple[str, Literal["asc", "desc"]]] = (),
        limit: int | None = None,
        start_after: Sequence[Any] | None = None,
    ) -> list[Document]:
        """Run the query on Firestore; expired documents are dropped afterwards (and replaced from
        further pages, a bounded number of them: past that ``limit`` may return fewer)."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.collection(collection)
        _evaluate.check_query(filters, order_by, start_after, limit)
        query: Any = self._client.collection(self._root, tenant, *parts)
        for item in filters:
            value = list(item.value) if item.op == "in" else item.value
            query = query.where(filter=FieldFilter(item.field, _OPS[item.op], value))
        for field, direction in order_by:
            query = query.order_by(field, direction=_DIRECTIONS[direction])
        if start_after is not None:
            if len(start_after) == len(order_by) + 1:  # the last value is a document id
                last = order_by[-1][1] if order_by else "asc"
                query = query.order_by(FieldPath.document_id(), direction=_DIRECTIONS[last])
            query = query.start_after(list(start_after))
        return [
            Document(path=self._relative(tenant, snapshot.reference), data=data, update_time=snapshot.update_time)
            for snapshot, data in self._live_results(query, limit)
        ]

    # --- transactions -----------------------------------------------------------------------------
    def transaction(self, fn: Callable[[Any], T], *, tenant_id: str, max_attempts: int = 5) -> T:
        """Run ``fn`` in a Firestore transaction, re-run on contention up to ``max_attempts`` times
        (then ``ContentionError``)."""
        tenant = _paths.tenant(tenant_id)
        return self._run_transaction(lambda txn: fn(_FirestoreTransaction(self, txn, tenant)), max_attempts)

    # --- whole tenant -----------------------------------------------------------------------------
    def _walk(self, tenant: str, *, ids_only: bool) -> Iterator[firestore.DocumentSnapshot]:
        """The tenant's root snapshot (even if missing) and every existing descendant."""
        root = self._ref(tenant, ())
        yield root.get(**self._call)
        for collection in root.collections(**self._call):
            query = collection.recursive()
            if ids_only:
                query = query.select([FieldPath.document_id()])
            yield from query.stream(**self._call)

    def export_tenant(self, *, tenant_id: str) -> dict[str, dict[str, Any]]:
        """Every live document of the tenant, keyed by relative path ("" = root)."""
        tenant = _paths.tenant(tenant_id)
        exported: dict[str, dict[str, Any]] = {}
        with _translate():
            for snapshot in self._walk(tenant, ids_only=False):
                data = self._live(snapshot)
                if data is not None:
                    exported[self._relative(tenant, snapshot.reference)] = data
        return dict(sorted(exported.items()))

    def delete_tenant(self, *, tenant_id: str) -> int:
        """Delete every document of the tenant (expired ones too), root included; return how many."""
        tenant = _paths.tenant(tenant_id)
        deleted = 0
        with _translate():
            references = [snapshot.reference for snapshot in self._walk(tenant, ids_only=True) if snapshot.exists]
            for start in range(0, len(references), _BATCH_SIZE):
                batch = self._client.batch()
                for reference in references[start : start + _BATCH_SIZE]:
                    batch.delete(reference)
                batch.commit(**self._call)
                deleted += len(references[start : start + _BATCH_SIZE])
        return deleted

    # --- named cross-tenant queries ------------------------------------------------------------------
    def tenants_due(self, field: str, *, before: datetime, limit: int = 500) -> list[TenantRow]:
        """Tenants whose root ``field <= before``, ordered by it (a single-field range query)."""
        _paths.field_path(field)
        if not isinstance(before, datetime) or before.tzinfo is None:
            raise InvalidRequest("before must be a timezone-aware datetime.", field="before")
        _check_limit(limit)
        query = self._client.collection(self._root).where(filter=FieldFilter(field, "<=", before)).order_by(field)
        return self._tenant_rows(query, limit)

    def tenants_where(
        self, field: str, value: Any, *, limit: int = 500, start_after: str | None = None
    ) -> list[TenantRow]:
        """Tenants whose root ``field == value``, ordered by tenant id, paged with ``start_after``."""
        _paths.field_path(field)
        _check_limit(limit)
        query = (
            self._client.collection(self._root)
            .where(filter=FieldFilter(field, "==", value))
            .order_by(FieldPath.document_id())
        )
        if start_after is not None:
            query = query.start_after([validate_segment(start_after, field="start_after")])
        return self._tenant_rows(query, limit)

    def _tenant_rows(self, query: Any, limit: int) -> list[TenantRow]:
        return [TenantRow(tenant_id=snapshot.id, data=data) for snapshot, data in self._live_results(query, limit)]

    def close(self) -> None:
        self._client.close()


def _check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("The limit must be a positive integer.", field="limit")
