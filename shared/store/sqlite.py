"""The document store on one SQLite file (the local profile's adapter).

Safe across threads and processes sharing the file (the local stack runs several function
processes on one database): WAL journal, a busy timeout, and every write — single-document writes,
``increment`` and whole transactions — inside ``BEGIN IMMEDIATE``, which serialises writers while
readers keep reading the last committed state. Within a process one connection is shared under a
lock (re-opened after ``fork``).

Table ``documents`` is keyed by ``(tenant_id, path)`` and stores the parent collection path, the
body as tagged JSON (see ``_json``: datetimes round-trip as aware UTC and sort correctly),
``update_time`` (strictly increasing per document, so ``update_if_unchanged`` never sees an ABA)
and ``expires_at``. Expired documents are invisible to reads and to ``create``; they are purged
when the store opens and by :meth:`SqliteDocumentStore.purge_expired`.

Like Firestore, ``set(merge=True)`` and ``increment`` act on the stored body even if it expired
(Firestore's TTL deletes lazily too): put a window in the path for windowed counters.

Indexes backing the named cross-tenant queries (expression indexes on the root document,
``path = ''``): ``tenants_due`` on :data:`INDEXED_DUE_FIELDS`, ``tenants_where`` on
:data:`INDEXED_EQUALITY_FIELDS`. Other fields work too but scan every tenant's root document.
``query`` reads the collection through the ``(tenant_id, parent)`` index and filters and orders in
Python with Firestore's semantics (``_evaluate``): fine for one tenant's collections.
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from shared.errors import InvalidRequest
from shared.ids import validate_segment
from shared.store import _evaluate, _json, _paths, _values
from shared.store._txn import ReadTracker, TransactionMisuse
from shared.store.base import Document, Filter, TenantRow
from shared.store.errors import AlreadyExists, ContentionError, PreconditionFailed, StoreError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Root-document fields with an expression index (extend here; the index is created on open).
INDEXED_DUE_FIELDS: tuple[str, ...] = ("next_plan_at",)
INDEXED_EQUALITY_FIELDS: tuple[str, ...] = ("workspace_id", "connection_status")

_SCHEMA_VERSION = 1
_ONE_MICROSECOND = timedelta(microseconds=1)


def _json_path(field: str, *, suffix: str = "") -> str:
    # Segments are [A-Za-z_][A-Za-z0-9_]* (checked by _paths.field_path): safe to embed in SQL.
    return "'$." + ".".join(_paths.field_path(field)) + suffix + "'"


def _due_expr(field: str) -> str:
    return f"json_extract(data, {_json_path(field, suffix='.' + _json.DT_TAG)})"


def _eq_expr(field: str) -> str:
    return f"json_extract(data, {_json_path(field)})"


def _schema() -> list[str]:
    statements = [
        """CREATE TABLE IF NOT EXISTS documents (
               tenant_id   TEXT NOT NULL,
               path        TEXT NOT NULL,
               parent      TEXT,
               data        TEXT NOT NULL,
               update_time TEXT NOT NULL,
               expires_at  TEXT,
               PRIMARY KEY (tenant_id, path)
           ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS documents_by_parent ON documents (tenant_id, parent)",
        "CREATE INDEX IF NOT EXISTS documents_by_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS roots ON documents (tenant_id) WHERE path = ''",
    ]
    for field in INDEXED_DUE_FIELDS:
        statements.append(
            f"CREATE INDEX IF NOT EXISTS roots_due_{field.replace('.', '_')} "
            f"ON documents ({_due_expr(field)}, tenant_id) WHERE path = ''"
        )
    for field in INDEXED_EQUALITY_FIELDS:
        statements.append(
            f"CREATE INDEX IF NOT EXISTS roots_eq_{field.replace('.', '_')} "
            f"ON documents ({_eq_expr(field)}, tenant_id) WHERE path = ''"
        )
    return statements


def tenants_due_sql(field: str) -> str:
    """The SQL of :meth:`SqliteDocumentStore.tenants_due` (parameters: before, now, limit)."""
    expr = _due_expr(field)
    return (
        f"SELECT tenant_id, data FROM documents WHERE path = '' AND {expr} <= ? "
        f"AND (expires_at IS NULL OR expires_at > ?) ORDER BY {expr}, tenant_id LIMIT ?"
    )


def tenants_where_sql(field: str, value: Any) -> tuple[str, list[Any]] | None:
    """SQL and leading parameters of :meth:`SqliteDocumentStore.tenants_where` for scalar values
    (then: start_after, now, limit); None for values compared in Python."""
    expr = _eq_expr(field)
    kind = f"json_type(data, {_json_path(field)})"
    if isinstance(value, bool):
        condition, params = f"{kind} = ?", ["true" if value else "false"]
    elif isinstance(value, (int, float)) and math.isfinite(value):
        condition, params = f"{kind} IN ('integer', 'real') AND {expr} = ?", [value]
    elif isinstance(value, str):
        condition, params = f"{expr} = ? AND {kind} = 'text'", [value]
    elif value is None:
        condition, params = f"{kind} = 'null'", []
    elif isinstance(value, datetime):
        condition, params = f"{_due_expr(field)} = ?", [_json.format_time(value)]
    else:
        return None
    sql = (
        f"SELECT tenant_id, data FROM documents WHERE path = '' AND {condition} AND tenant_id > ? "
        f"AND (expires_at IS NULL OR expires_at > ?) ORDER BY tenant_id LIMIT ?"
    )
    return sql, params


@dataclass(frozen=True)
class _Row:
    data: dict[str, Any]
    update_time: str
    expires_at: str | None

    def live(self, now: str) -> bool:
        return self.expires_at is None or self.expires_at > now


class _SqliteTransaction:
    """A :class:`shared.store.base.Transaction` inside one ``BEGIN IMMEDIATE`` (writes buffered)."""

    def __init__(self, store: SqliteDocumentStore, conn: sqlite3.Connection, tenant: str) -> None:
        self._store = store
        self._conn = conn
        self._tenant = tenant
        self._tracker = ReadTracker()
        self._writes: list[tuple[str, tuple[str, ...], dict[str, Any] | None]] = []

    def get(self, path: str) -> dict[str, Any] | None:
        parts = _paths.document(path)
        self._tracker.before_read()
        row = self._store._load(self._conn, self._tenant, parts)
        live = row is not None and row.live(self._store._now_text())
        self._tracker.record_read("/".join(parts), live)
        return row.data if live else None

    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None:
        parts = _paths.document(path)
        body = _values.check_data(data)
        self._writes.append(("merge" if merge else "set", parts, body))
        self._tracker.record_write("/".join(parts), True)

    def create(self, path: str, data: dict[str, Any]) -> None:
        parts = _paths.document(path)
        body = _values.check_data(data)
        key = "/".join(parts)
        if self._tracker.known(key) is None:
            self.get(key)
        if self._tracker.known(key):
            raise AlreadyExists()
        self._writes.append(("set", parts, body))
        self._tracker.record_write(key, True)

    def delete(self, path: str) -> None:
        parts = _paths.document(path)
        self._writes.append(("delete", parts, None))
        self._tracker.record_write("/".join(parts), False)

    def _apply(self) -> None:
        for kind, parts, body in self._writes:
            if kind == "delete":
                self._store._remove(self._conn, self._tenant, parts)
                continue
            if kind == "merge":
                row = self._store._load(self._conn, self._tenant, parts)
                body = _values.merge(row.data if row else {}, body or {})
            self._store._put(self._conn, self._tenant, parts, body or {})


class SqliteDocumentStore:
    """:class:`shared.store.base.DocumentStore` on a SQLite file."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = 30.0,
        clock: Callable[[], datetime] = _values.utcnow,
    ) -> None:
        self._path = str(path)
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._lock = threading.RLock()
        self._conn_obj: sqlite3.Connection | None = None
        self._conn_pid: int | None = None
        self._closed = False
        with self._lock, self._translate():
            conn = self._conn()
            # Switching to WAL needs a moment with no other writer: retried by busy_timeout.
            conn.execute("PRAGMA journal_mode=WAL")
            with self._immediate(conn):
                for statement in _schema():
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        self.purge_expired()

    # --- connection and error plumbing ------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("The store is closed.")
        if self._conn_obj is None or self._conn_pid != os.getpid():
            # After fork the parent's connection must not be used (nor closed) by the child.
            conn = sqlite3.connect(
                self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn_obj, self._conn_pid = conn, os.getpid()
        return self._conn_obj

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            logger.warning("sqlite store operation failed: %s", exc.__class__.__name__)
            raise StoreError() from exc
        except sqlite3.DatabaseError as exc:
            logger.error("sqlite store error: %s", exc.__class__.__name__)
            raise StoreError() from exc

    @contextmanager
    def _immediate(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        if conn.in_transaction:
            # Only this thread can hold the shared connection: it is inside transaction().
            raise TransactionMisuse("Use the transaction object, not the store, inside a transaction.")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translate():
            with self._immediate(self._conn()) as conn:
                yield conn

    def _now(self) -> datetime:
        return self._clock()

    def _now_text(self) -> str:
        return _json.format_time(self._now())

    # --- row primitives (callers hold the lock and, for writes, an immediate transaction) ---------
    def _load(self, conn: sqlite3.Connection, tenant: str, parts: tuple[str, ...]) -> _Row | None:
        found = conn.execute(
            "SELECT data, update_time, expires_at FROM documents WHERE tenant_id = ? AND path = ?",
            (tenant, "/".join(parts)),
        ).fetchone()
        return _Row(_json.loads(found[0]), found[1], found[2]) if found else None

    def _put(self, conn: sqlite3.Connection, tenant: str, parts: tuple[str, ...], data: dict[str, Any]) -> None:
        path = "/".join(parts)
        text = _json.dumps(data)
        previous = conn.execute(
            "SELECT update_time, data FROM documents WHERE tenant_id = ? AND path = ?", (tenant, path)
        ).fetchone()
        now = self._now()
        if previous is not None:
            if previous[1] == text:
                return  # as on Firestore, a write that changes nothing keeps the update_time
            # Strictly increasing per document: two writes in one microsecond still differ.
            now = max(now, _json.parse_time(previous[0]) + _ONE_MICROSECOND)
        expires = _values.expires_at(data)
        conn.execute(
            "INSERT OR REPLACE INTO documents (tenant_id, path, parent, data, update_time, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                tenant,
                path,
                _paths.parent(parts),
                text,
                _json.format_time(now),
                _json.format_time(expires) if expires else None,
            ),
        )

    def _remove(self, conn: sqlite3.Connection, tenant: str, parts: tuple[str, ...]) -> None:
        conn.execute("DELETE FROM documents WHERE tenant_id = ? AND path = ?", (tenant, "/".join(parts)))

    # --- single documents -------------------------------------------------------------------------
    def get(self, path: str, *, tenant_id: str) -> dict[str, Any] | None:
        document = self.get_document(path, tenant_id=tenant_id)
        return document.data if document else None

    def get_document(self, path: str, *, tenant_id: str) -> Document | None:
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        with self._lock, self._translate():
            row = self._load(self._conn(), tenant, parts)
        if row is None or not row.live(self._now_text()):
            return None
        return Document(path="/".join(parts), data=row.data, update_time=_json.parse_time(row.update_time))

    def set(self, path: str, data: dict[str, Any], *, tenant_id: str, merge: bool = False) -> None:
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        body = _values.check_data(data)
        with self._write() as conn:
            if merge:
                row = self._load(conn, tenant, parts)
                body = _values.merge(row.data if row else {}, body)
            self._put(conn, tenant, parts, _values.plain(body))

    def create(self, path: str, data: dict[str, Any], *, tenant_id: str) -> None:
        """Write only if absent or expired; else raise ``AlreadyExists``."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        body = _values.check_data(data)
        with self._write() as conn:
            row = self._load(conn, tenant, parts)
            if row is not None and row.live(self._now_text()):
                raise AlreadyExists()
            self._put(conn, tenant, parts, _values.plain(body))

    def update_if_unchanged(self, path: str, data: dict[str, Any], *, tenant_id: str, update_time: datetime) -> None:
        """Overwrite only if the stored ``update_time`` is still ``update_time``; else
        ``PreconditionFailed`` (also when the document is gone)."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        body = _values.check_data(data)
        if not isinstance(update_time, datetime) or update_time.tzinfo is None:
            raise InvalidRequest("The update_time must be a timezone-aware datetime.", field="update_time")
        with self._write() as conn:
            row = self._load(conn, tenant, parts)
            if row is None or row.update_time != _json.format_time(update_time):
                raise PreconditionFailed()
            self._put(conn, tenant, parts, _values.plain(body))

    def delete(self, path: str, *, tenant_id: str) -> None:
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        with self._write() as conn:
            self._remove(conn, tenant, parts)

    def increment(
        self,
        path: str,
        deltas: dict[str, int | float],
        *,
        tenant_id: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Atomically add ``deltas`` (missing fields start at 0) and merge ``extra``."""
        tenant = _paths.tenant(tenant_id)
        parts = _paths.document(path)
        amounts, more = _values.check_increment(deltas, extra)
        with self._write() as conn:
            row = self._load(conn, tenant, parts)
            body = _values.apply_increment(_values.merge(row.data if row else {}, more), amounts)
            self._put(conn, tenant, parts, body)

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
        tenant = _paths.tenant(tenant_id)
        parts = _paths.collection(collection)
        _evaluate.check_query(filters, order_by, start_after, limit)
        now = self._now_text()
        parent = "/".join(parts)
        with self._lock, self._translate():
            rows = (
                self._conn()
                .execute(
                    "SELECT path, data, update_time FROM documents WHERE tenant_id = ? AND parent = ? "
                    "AND (expires_at IS NULL OR expires_at > ?)",
                    (tenant, parent, now),
                )
                .fetchall()
            )
        times = {path: update_time for path, _, update_time in rows}
        docs = [(path.rsplit("/", 1)[-1], _json.loads(data)) for path, data, _ in rows]
        found = _evaluate.run(docs, filters=filters, order_by=order_by, limit=limit, start_after=start_after)
        return [
            Document(
                path=f"{parent}/{doc_id}",
                data=data,
                update_time=_json.parse_time(times[f"{parent}/{doc_id}"]),
            )
            for doc_id, data in found
        ]

    # --- transactions -----------------------------------------------------------------------------
    def transaction(self, fn: Callable[[Any], T], *, tenant_id: str, max_attempts: int = 5) -> T:
        """Run ``fn`` inside ``BEGIN IMMEDIATE`` (writers are serialised, so ``fn`` runs once unless
        the lock cannot be had: then it is retried up to ``max_attempts`` times before
        ``ContentionError``). Writes are buffered and applied when ``fn`` returns."""
        tenant = _paths.tenant(tenant_id)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidRequest("max_attempts must be a positive integer.", field="max_attempts")
        last: Exception | None = None
        with self._lock:
            for _ in range(max_attempts):
                with self._translate():
                    conn = self._conn()
                if conn.in_transaction:
                    raise TransactionMisuse("Transactions cannot be nested.")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        with self._translate():
                            raise
                    last = exc
                    continue
                try:
                    with self._translate():
                        txn = _SqliteTransaction(self, conn, tenant)
                        result = fn(txn)
                        txn._apply()
                        conn.execute("COMMIT")
                    return result
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
        logger.warning("sqlite transaction gave up after %d attempts", max_attempts)
        raise ContentionError() from last

    # --- whole tenant -----------------------------------------------------------------------------
    def export_tenant(self, *, tenant_id: str) -> dict[str, dict[str, Any]]:
        """Every live document of the tenant, keyed by relative path ("" = root)."""
        tenant = _paths.tenant(tenant_id)
        with self._lock, self._translate():
            rows = (
                self._conn()
                .execute(
                    "SELECT path, data FROM documents WHERE tenant_id = ? "
                    "AND (expires_at IS NULL OR expires_at > ?) ORDER BY path",
                    (tenant, self._now_text()),
                )
                .fetchall()
            )
        return {path: _json.loads(data) for path, data in rows}

    def delete_tenant(self, *, tenant_id: str) -> int:
        """Delete every document of the tenant (expired ones too), root included; return how many."""
        tenant = _paths.tenant(tenant_id)
        with self._write() as conn:
            return conn.execute("DELETE FROM documents WHERE tenant_id = ?", (tenant,)).rowcount

    # --- named cross-tenant queries -----------------------------------------------------------------
    def tenants_due(self, field: str, *, before: datetime, limit: int = 500) -> list[TenantRow]:
        """Tenants whose root ``field`` (a datetime) is ``<= before``, ordered by it. Index-backed
        for :data:`INDEXED_DUE_FIELDS`; other fields scan the root documents."""
        _paths.field_path(field)
        if not isinstance(before, datetime) or before.tzinfo is None:
            raise InvalidRequest("before must be a timezone-aware datetime.", field="before")
        _check_limit(limit)
        with self._lock, self._translate():
            rows = (
                self._conn()
                .execute(tenants_due_sql(field), (_json.format_time(before), self._now_text(), limit))
                .fetchall()
            )
        return [TenantRow(tenant_id=tenant, data=_json.loads(data)) for tenant, data in rows]

    def tenants_where(
        self, field: str, value: Any, *, limit: int = 500, start_after: str | None = None
    ) -> list[TenantRow]:
        """Tenants whose root ``field == value``, ordered by tenant id, paged with ``start_after``.
        Index-backed for :data:`INDEXED_EQUALITY_FIELDS` with a string or number value."""
        parts = _paths.field_path(field)
        _check_limit(limit)
        after = "" if start_after is None else validate_segment(start_after, field="start_after")
        now = self._now_text()
        planned = tenants_where_sql(field, value)
        with self._lock, self._translate():
            if planned is not None:
                sql, params = planned
                rows = self._conn().execute(sql, (*params, after, now, limit)).fetchall()
                return [TenantRow(tenant_id=tenant, data=_json.loads(data)) for tenant, data in rows]
            rows = (
                self._conn()
                .execute(
                    "SELECT tenant_id, data FROM documents WHERE path = '' AND tenant_id > ? "
                    "AND (expires_at IS NULL OR expires_at > ?) ORDER BY tenant_id",
                    (after, now),
                )
                .fetchall()
            )
        wanted = _evaluate.sort_key(value)
        found = []
        for tenant, text in rows:
            data = _json.loads(text)
            current = _evaluate.get_field(data, parts)
            if current is not _evaluate.MISSING and _evaluate.sort_key(current) == wanted:
                found.append(TenantRow(tenant_id=tenant, data=data))
                if len(found) == limit:
                    break
        return found

    # --- maintenance --------------------------------------------------------------------------------
    def purge_expired(self) -> int:
        """Delete every expired document (all tenants); return how many."""
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ?", (self._now_text(),)
            ).rowcount

    def close(self) -> None:
        with self._lock:
            if self._conn_obj is not None and self._conn_pid == os.getpid():
                self._conn_obj.close()
            self._conn_obj = None
            self._closed = True


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """True if another connection holds the lock (as opposed to a broken file or statement)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidRequest("The limit must be a positive integer.", field="limit")
