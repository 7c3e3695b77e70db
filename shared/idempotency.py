"""Run a handler at most once per key, across redeliveries (modelled on AWS Powertools' idempotency).

Cloud Tasks, Scheduler and Notion webhooks deliver at least once: a task can arrive twice, even
concurrently. A handler wrapped here has its effect once per ``(tenant_id, key)``:

* the first delivery creates ``idempotency/{sha256(key)}`` in the tenant's document store with a
  conditional write (``store.create``): status ``INPROGRESS``, ``expires_at = now + lock_timeout``
  (use the function timeout: a holder that crashed frees the key when it passes);
* on success the record becomes ``COMPLETED`` with the JSON-serialised result and
  ``expires_at = now + result_ttl``; later deliveries get that result without running;
* on failure the record is deleted (so a redelivery runs again) and the exception re-raised;
* a delivery that finds ``INPROGRESS`` raises :class:`IdempotencyInProgress` (409 with a retry
  hint): a task target answers non-2xx, so Cloud Tasks retries it later;
* an ``INPROGRESS`` record whose lock expired is taken over (a conditional update on the record's
  version, so two deliveries cannot both take it over). Each holder carries a random token, and a
  late holder that was taken over neither overwrites nor deletes its successor's record.

Usage::

    result = run_once(store, handler, tenant_id=t, key=task_name,
                      lock_timeout=timedelta(minutes=9), result_ttl=timedelta(days=1))

    with idempotent(store, tenant_id=t, key=event_id, expires_after=timedelta(minutes=9),
                    result_ttl=timedelta(days=1)) as execution:
        if not execution.replayed:
            execution.result = handle(event)
    return execution.result

The first run returns the handler's own value; a replay returns its JSON form (tuples as lists).

Exceptions (all :class:`shared.errors.AppError`)::

    IdempotencyError (500)                          a record is unreadable or inconsistent
    ├── IdempotencyInProgress (Conflict, 409)       another delivery holds the key; ``retry_after`` s
    ├── InvalidIdempotencyKey (InvalidRequest, 400) the key or a duration is unusable
    └── IdempotencyResultError (500)                the handler's result is not JSON-serialisable
                                                    (the record is released: the effect may repeat)

Store failures pass through as ``shared.store.errors.StoreError`` (503).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from shared.errors import AppError, Conflict, InvalidRequest
from shared.models._base import utcnow
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.store.errors import AlreadyExists, PreconditionFailed

logger = logging.getLogger(__name__)

T = TypeVar("T")

COLLECTION = "idempotency"
INPROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"
_ATTEMPTS = 3  # create / re-read / take-over rounds before giving up as "in progress"


class IdempotencyError(AppError):
    code = "idempotency_error"
    default_message = "The request's idempotency record is inconsistent."


class IdempotencyInProgress(IdempotencyError, Conflict):
    """Another delivery of the same key is running; retry after ``retry_after`` seconds."""

    code = "idempotency_in_progress"
    default_message = "This request is already being processed; retry later."

    def __init__(self, message: str | None = None, *, retry_after: int = 30) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}


class InvalidIdempotencyKey(IdempotencyError, InvalidRequest):
    code = "invalid_idempotency_key"
    default_message = "The idempotency key is invalid."


class IdempotencyResultError(IdempotencyError):
    code = "idempotency_result_error"
    default_message = "The handler's result cannot be saved."


@dataclass(frozen=True)
class Lease:
    """The right to run the handler for one key (until ``expires_at``)."""

    tenant_id: str
    path: str
    holder: str
    expires_at: datetime


@dataclass(frozen=True)
class Completed:
    """A key whose handler already ran: its saved result."""

    result: Any


def record_path(key: str) -> str:
    """The record's path for ``key`` (relative to the tenant)."""
    if not isinstance(key, str) or not key:
        raise InvalidIdempotencyKey(field="key")
    return f"{COLLECTION}/{hashlib.sha256(key.encode()).hexdigest()}"


def _positive(value: object, field: str) -> timedelta:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidIdempotencyKey(f"The {field} must be a positive duration.", field=field)
    return value


class IdempotencyStore:
    """Idempotency records on a :class:`DocumentStore`; ``clock`` decides what has expired."""

    def __init__(self, store: DocumentStore, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    def begin(self, *, tenant_id: str, key: str, lock_timeout: timedelta) -> Lease | Completed:
        """Take the key (a :class:`Lease`) or return the saved result (:class:`Completed`); raise
        :class:`IdempotencyInProgress` if another delivery holds it."""
        path = record_path(key)
        _positive(lock_timeout, "lock_timeout")
        retry_after = math.ceil(lock_timeout.total_seconds())
        for _ in range(_ATTEMPTS):
            now = self._clock()
            lease = Lease(tenant_id, path, secrets.token_hex(16), now + lock_timeout)
            record = {"status": INPROGRESS, "holder": lease.holder, "started_at": now, EXPIRES_AT: lease.expires_at}
            try:
                self._store.create(path, record, tenant_id=tenant_id)
                return lease
            except AlreadyExists:
                pass
            existing = self._store.get_document(path, tenant_id=tenant_id)
            if existing is None:
                continue  # it expired or was released in between: try to create again
            data = existing.data
            expires = data.get(EXPIRES_AT)
            if isinstance(expires, datetime) and expires <= now:
                # Expired by our clock (the store's may lag): take it over, unless someone else
                # does first — the version check lets only one delivery win.
                try:
                    self._store.update_if_unchanged(path, record, tenant_id=tenant_id, update_time=existing.update_time)
                except PreconditionFailed:
                    continue
                if data.get("status") == INPROGRESS:
                    logger.warning("idempotency lock expired; a new delivery takes it over")
                return lease
            if data.get("status") == COMPLETED:
                return Completed(result=_load_result(data))
            if data.get("status") != INPROGRESS:
                raise IdempotencyError()
            if isinstance(expires, datetime):
                retry_after = math.ceil((expires - now).total_seconds())
            raise IdempotencyInProgress(retry_after=retry_after)
        raise IdempotencyInProgress(retry_after=1)

    def complete(self, lease: Lease, result: Any, *, result_ttl: timedelta) -> None:
        """Save ``result`` as the key's outcome (unless another delivery took the key over)."""
        _positive(result_ttl, "result_ttl")
        try:
            payload = json.dumps(result, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise IdempotencyResultError() from exc
        now = self._clock()
        record = {
            "status": COMPLETED,
            "holder": lease.holder,
            "result": payload,
            "completed_at": now,
            EXPIRES_AT: now + result_ttl,
        }

        def save(txn) -> bool:
            current = txn.get(lease.path)
            if current is not None and current.get("holder") != lease.holder:
                return False
            txn.set(lease.path, record)
            return True

        if not self._store.transaction(save, tenant_id=lease.tenant_id):
            logger.warning("idempotency lock was taken over before completion; result not saved")

    def release(self, lease: Lease) -> None:
        """Delete the record so that a redelivery runs again (only if this lease still holds it)."""

        def drop(txn) -> None:
            current = txn.get(lease.path)
            if current is not None and current.get("holder") == lease.holder:
                txn.delete(lease.path)

        self._store.transaction(drop, tenant_id=lease.tenant_id)


def _load_result(data: dict[str, Any]) -> Any:
    try:
        return json.loads(data["result"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IdempotencyError() from exc


class Execution:
    """What the ``with idempotent(...)`` body sees: ``replayed`` (a saved result exists, do not run)
    and ``result`` (the saved result, or set it to the value to save)."""

    def __init__(self, *, replayed: bool, result: Any = None) -> None:
        self.replayed = replayed
        self.result = result


def _records(store: DocumentStore | IdempotencyStore, clock: Callable[[], datetime] | None) -> IdempotencyStore:
    if isinstance(store, IdempotencyStore):
        return store
    return IdempotencyStore(store, clock=clock or utcnow)


@contextlib.contextmanager
def idempotent(
    store: DocumentStore | IdempotencyStore,
    *,
    tenant_id: str,
    key: str,
    expires_after: timedelta,
    result_ttl: timedelta,
    clock: Callable[[], datetime] | None = None,
) -> Iterator[Execution]:
    """Hold the key for the body (``expires_after`` = the lock timeout, i.e. the function
    timeout): save ``execution.result`` on success, release the key on an exception."""
    records = _records(store, clock)
    _positive(result_ttl, "result_ttl")
    outcome = records.begin(tenant_id=tenant_id, key=key, lock_timeout=expires_after)
    if isinstance(outcome, Completed):
        yield Execution(replayed=True, result=outcome.result)
        return
    execution = Execution(replayed=False)
    try:
        yield execution
    except BaseException:
        _release_quietly(records, outcome)
        raise
    try:
        records.complete(outcome, execution.result, result_ttl=result_ttl)
    except IdempotencyResultError:
        _release_quietly(records, outcome)
        raise


def _release_quietly(records: IdempotencyStore, lease: Lease) -> None:
    # The handler's own error matters more; an unreleased lock frees itself at expires_at.
    try:
        records.release(lease)
    except Exception:  # noqa: BLE001
        logger.exception("could not release an idempotency lock; it expires by itself")


def run_once(
    store: DocumentStore | IdempotencyStore,
    fn: Callable[[], T],
    *,
    tenant_id: str,
    key: str,
    lock_timeout: timedelta,
    result_ttl: timedelta,
    clock: Callable[[], datetime] | None = None,
) -> T:
    """Call ``fn`` unless this key already completed (then return the saved result)."""
    with idempotent(
        store, tenant_id=tenant_id, key=key, expires_after=lock_timeout, result_ttl=result_ttl, clock=clock
    ) as execution:
        if not execution.replayed:
            execution.result = fn()
    return execution.result
