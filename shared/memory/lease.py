"""The per-tenant writer lease of the memory: one document, ``leases/chroma``, in the document store.

Two processes writing one Chroma folder lose vectors silently, so each tenant has one writer at a
time. The lease is an optimisation for that rule, not the guarantee: the guarantee is the
manifest's generation precondition (see :mod:`shared.memory.snapshot`), which makes a writer whose
lease expired under it lose its commit and start again rather than overwrite.

The document is ``{"holder": <random token>, "expires_at": <aware datetime>}``. ``create`` treats
an expired document as absent (the document-store port's rule), so taking a lease whose holder died
is the same call as taking a free one. Renewal and release are transactions that act only while the
caller is still the holder.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.memory.errors import LeaseBusy
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.store.errors import AlreadyExists

logger = logging.getLogger(__name__)

LEASE_PATH = "leases/chroma"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Lease:
    """A lease held (or once held) by this process on one tenant's memory."""

    def __init__(self, documents: DocumentStore, *, tenant_id: str, ttl: timedelta,
                 clock: Callable[[], datetime]) -> None:
        self._documents = documents
        self.tenant_id = tenant_id
        self._ttl = ttl
        self._clock = clock
        self.holder = uuid.uuid4().hex

    def _body(self) -> dict[str, Any]:
        return {"holder": self.holder, EXPIRES_AT: self._clock() + self._ttl}

    def try_take(self) -> bool:
        """Take the lease if it is free, expired, or already ours; return whether we hold it."""
        try:
            self._documents.create(LEASE_PATH, self._body(), tenant_id=self.tenant_id)
            return True
        except AlreadyExists:
            return self.renew()

    def renew(self) -> bool:
        """Extend the lease if we still hold it; return False if another writer has it."""

        def extend(txn) -> bool:
            current = txn.get(LEASE_PATH)
            if current is not None and current.get("holder") != self.holder:
                return False
            txn.set(LEASE_PATH, self._body())
            return True

        return self._documents.transaction(extend, tenant_id=self.tenant_id)

    def release(self) -> None:
        """Delete the lease if we still hold it (never another writer's)."""

        def drop(txn) -> None:
            current = txn.get(LEASE_PATH)
            if current is not None and current.get("holder") == self.holder:
                txn.delete(LEASE_PATH)

        try:
            self._documents.transaction(drop, tenant_id=self.tenant_id)
        except Exception:  # an unreleased lease only delays the next writer until it expires
            logger.warning("memory lease release failed (tenant %s); it will expire", self.tenant_id)


class LeaseManager:
    """Takes tenants' leases, waiting a bounded number of polls for a busy one."""

    def __init__(self, documents: DocumentStore, *, ttl: timedelta = timedelta(minutes=2),
                 wait: float = 20.0, poll: float = 0.5, clock: Callable[[], datetime] = _utcnow,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._documents = documents
        self._ttl = ttl
        self._polls = max(0, int(wait / poll)) if poll > 0 else 0
        self._poll = poll
        self._clock = clock
        self._sleep = sleep

    def acquire(self, *, tenant_id: str) -> Lease:
        """Return a held lease; :class:`LeaseBusy` if another writer keeps it past the wait."""
        lease = Lease(self._documents, tenant_id=tenant_id, ttl=self._ttl, clock=self._clock)
        self.reacquire(lease)
        return lease

    def reacquire(self, lease: Lease) -> None:
        """Make sure ``lease`` is held again (after it may have expired and been taken)."""
        for attempt in range(self._polls + 1):
            if lease.try_take():
                return
            if attempt < self._polls:
                self._sleep(self._poll)
        logger.info("memory lease busy (tenant %s)", lease.tenant_id)
        raise LeaseBusy()
