"""Per-tenant leases on the document store: a lock that frees itself when its holder dies.

A lease is a document ``leases/{name}`` created with a conditional write and an ``expires_at``
(the store treats it as absent once expired, so a crashed holder blocks others for at most the
lease's ttl). Release deletes it only if it still belongs to this holder (checked in a
transaction), so a holder that overran its ttl cannot delete its successor's lease.

Used for the Notion token refresh (one refresher per connection, Nango-style) and for the
single writer of a tenant's vector store.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator

from shared.errors import Unavailable
from shared.ids import validate_segment
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.store.errors import AlreadyExists

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class LeaseBusy(Unavailable):
    """Another holder kept the lease for longer than we were willing to wait (503, retry later)."""

    code = "lease_busy"
    default_message = "Another operation for this account is in progress; try again shortly."


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Lease:
    def __init__(self, store: DocumentStore, name: str, *, tenant_id: str, ttl: timedelta,
                 clock: Clock = _utcnow) -> None:
        self.store = store
        self.path = f"leases/{validate_segment(name, field='lease')}"
        self.tenant_id = tenant_id
        self.ttl = ttl
        self.clock = clock
        self.holder = secrets.token_hex(8)

    def try_acquire(self) -> bool:
        try:
            self.store.create(self.path, {"holder": self.holder, EXPIRES_AT: self.clock() + self.ttl},
                              tenant_id=self.tenant_id)
            return True
        except AlreadyExists:
            return False

    def release(self) -> None:
        def release_if_ours(txn) -> None:
            current = txn.get(self.path)
            if current is not None and current.get("holder") == self.holder:
                txn.delete(self.path)

        self.store.transaction(release_if_ours, tenant_id=self.tenant_id)


@asynccontextmanager
async def hold_lease(store: DocumentStore, name: str, *, tenant_id: str, ttl: timedelta, wait: timedelta,
                     clock: Clock = _utcnow, sleep: Sleep = asyncio.sleep,
                     poll_seconds: float = 0.1) -> AsyncIterator[Lease]:
    """Hold ``leases/{name}`` of the tenant for the block; wait up to ``wait`` for it (LeaseBusy)."""
    lease = Lease(store, name, tenant_id=tenant_id, ttl=ttl, clock=clock)
    deadline = clock() + wait
    delay = poll_seconds
    while not lease.try_acquire():
        if clock() >= deadline:
            raise LeaseBusy()
        await sleep(delay)
        delay = min(delay * 2, 2.0)
    try:
        yield lease
    finally:
        lease.release()
