"""The document store port: tenant-scoped documents, transactions and named cross-tenant queries.

Layout (the same on every adapter)::

    users/{tenant_id}                      the tenant's root document  (path "")
    users/{tenant_id}/{collection}/{id}    the tenant's documents      (path "collection/id")
    users/{tenant_id}/a/b/c/d              nested sub-collections      (path "a/b/c/d")

Every data method takes ``tenant_id`` as a required keyword-only argument and can only address
documents under ``users/{tenant_id}``: paths are relative, validated segment by segment, and no
method accepts an absolute path. The only calls that read across tenants are the explicitly named
scheduler/routing queries at the bottom of the protocol.

Values are JSON-like (str, int, float, bool, None, list, dict) plus timezone-aware ``datetime``
(stored natively, so Firestore TTL policies and range queries work). ``Decimal`` must be stored as a
string by the caller (the domain models serialise it so).

Expiring records carry :data:`EXPIRES_AT` (an aware datetime). A document whose ``expires_at`` is in
the past is treated as absent by every read and by ``create`` (Firestore's TTL deletes it later;
SQLite purges lazily), so a lock that outlives its holder frees itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

EXPIRES_AT = "expires_at"

T = TypeVar("T")

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "array-contains"]


@dataclass(frozen=True)
class Filter:
    field: str
    op: Op
    value: Any


@dataclass(frozen=True)
class Document:
    """A document as read: its path relative to the tenant, its data, and its last update time."""

    path: str
    data: dict[str, Any]
    update_time: datetime | None = None

    @property
    def id(self) -> str:
        return self.path.rsplit("/", 1)[-1] if self.path else ""


@dataclass(frozen=True)
class TenantRow:
    """A tenant root document returned by a named cross-tenant query."""

    tenant_id: str
    data: dict[str, Any] = field(default_factory=dict)


class Transaction(Protocol):
    """A read-modify-write unit bound to one tenant. Reads come before writes (Firestore's rule);
    writes are applied atomically when the callable returns, and the callable may be re-run if a
    concurrent writer wins, so it must have no side effects outside the transaction."""

    def get(self, path: str) -> dict[str, Any] | None: ...
    def set(self, path: str, data: dict[str, Any], *, merge: bool = False) -> None: ...
    def create(self, path: str, data: dict[str, Any]) -> None: ...  # AlreadyExists at commit/get
    def delete(self, path: str) -> None: ...


@runtime_checkable
class DocumentStore(Protocol):
    # --- single documents -----------------------------------------------------------------
    def get(self, path: str, *, tenant_id: str) -> dict[str, Any] | None: ...
    def get_document(self, path: str, *, tenant_id: str) -> Document | None: ...
    def set(self, path: str, data: dict[str, Any], *, tenant_id: str, merge: bool = False) -> None: ...
    def create(self, path: str, data: dict[str, Any], *, tenant_id: str) -> None:
        """Write only if absent (or expired); else raise AlreadyExists."""
    def update_if_unchanged(self, path: str, data: dict[str, Any], *, tenant_id: str, update_time: datetime) -> None:
        """Overwrite only if the document's update_time is still ``update_time``; else PreconditionFailed."""
    def delete(self, path: str, *, tenant_id: str) -> None: ...
    def increment(self, path: str, deltas: dict[str, int | float], *, tenant_id: str, extra: dict[str, Any] | None = None) -> None:
        """Atomically add ``deltas`` to numeric fields (creating the document/fields at 0) and merge ``extra``."""

    # --- collections ----------------------------------------------------------------------
    def query(
        self,
        collection: str,
        *,
        tenant_id: str,
        filters: Sequence[Filter] = (),
        order_by: Sequence[tuple[str, Literal["asc", "desc"]]] = (),
        limit: int | None = None,
        start_after: Sequence[Any] | None = None,
    ) -> list[Document]: ...

    # --- transactions ---------------------------------------------------------------------
    def transaction(self, fn: Callable[[Transaction], T], *, tenant_id: str, max_attempts: int = 5) -> T: ...

    # --- whole tenant ---------------------------------------------------------------------
    def export_tenant(self, *, tenant_id: str) -> dict[str, dict[str, Any]]:
        """Every live document of the tenant, keyed by relative path ("" = root)."""
    def delete_tenant(self, *, tenant_id: str) -> int:
        """Delete every document of the tenant, root included; return how many."""

    # --- named cross-tenant queries (scheduler and routing only) ---------------------------
    def tenants_due(self, field: str, *, before: datetime, limit: int = 500) -> list[TenantRow]:
        """Tenants whose root document has ``field <= before``, ordered by that field (an indexed
        range query; callers advance the field, so the next call sees the next batch)."""
    def tenants_where(self, field: str, value: Any, *, limit: int = 500, start_after: str | None = None) -> list[TenantRow]:
        """Tenants whose root document has ``field == value``, ordered by tenant id, paged with
        ``start_after`` (routing webhooks by workspace, listing connected tenants)."""

    def close(self) -> None: ...
