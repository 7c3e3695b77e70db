"""shared.idempotency on every document store adapter (the ``store`` fixture of tests/shared)."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import Conflict
from shared.idempotency import (
    COMPLETED,
    INPROGRESS,
    Completed,
    IdempotencyInProgress,
    IdempotencyResultError,
    IdempotencyStore,
    InvalidIdempotencyKey,
    Lease,
    idempotent,
    record_path,
    run_once,
)

T = "tenant-a"
LOCK = timedelta(minutes=9)
TTL = timedelta(days=1)
WAIT = 60  # a safety net against hangs, never a speed assertion


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    # The store judges expiry by real time; start there so both clocks agree until advanced.
    return Clock(datetime.now(timezone.utc))


class Effects:
    """A side effect we can count (thread-safe)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def happen(self) -> int:
        with self._lock:
            self.count += 1
            return self.count


def test_record_path_is_the_sha256_of_the_key():
    assert record_path("task-1") == "idempotency/" + hashlib.sha256(b"task-1").hexdigest()
    with pytest.raises(InvalidIdempotencyKey) as caught:
        record_path("")
    assert caught.value.status == 400 and caught.value.field == "key"


def test_two_concurrent_deliveries_run_the_handler_once(store_factory, store, clock):
    effects = Effects()
    loser_done = threading.Event()  # the other delivery has finished
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    winner: list[threading.Thread] = []

    def handler() -> dict:
        winner.append(threading.current_thread())
        assert loser_done.wait(WAIT)  # hold the lock until the duplicate has been turned away
        return {"effect": effects.happen()}

    def deliver(name: str) -> None:
        own = store_factory(clock=clock)  # each delivery: its own process-like store instance
        start.wait(WAIT)
        try:
            outcomes[name] = run_once(
                own, handler, tenant_id=T, key="task-42", lock_timeout=LOCK, result_ttl=TTL, clock=clock
            )
        except IdempotencyInProgress as exc:
            outcomes[name] = exc
        finally:
            if threading.current_thread() not in winner:
                loser_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(deliver, name) for name in ("first", "second")]
        for future in futures:
            future.result(timeout=WAIT)

    assert effects.count == 1
    results = sorted(outcomes.values(), key=lambda value: isinstance(value, Exception))
    assert results[0] == {"effect": 1}
    busy = results[1]
    assert isinstance(busy, IdempotencyInProgress) and isinstance(busy, Conflict)
    assert busy.status == 409 and 1 <= busy.retry_after <= LOCK.total_seconds()
    assert busy.headers()["Retry-After"] == str(busy.retry_after)
    # a third, later delivery gets the saved result without running
    again = run_once(store, handler, tenant_id=T, key="task-42", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert again == {"effect": 1} and effects.count == 1


def test_a_delivery_after_a_failure_runs_again_and_the_effect_happens_once(store, clock):
    effects = Effects()
    attempts = []

    def handler() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("Notion returned 502")  # fails before its effect
        effects.happen()
        return "done"

    with pytest.raises(RuntimeError):
        run_once(store, handler, tenant_id=T, key="task-7", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert store.get(record_path("task-7"), tenant_id=T) is None  # released for the redelivery

    assert run_once(store, handler, tenant_id=T, key="task-7", lock_timeout=LOCK, result_ttl=TTL, clock=clock) == "done"
    assert run_once(store, handler, tenant_id=T, key="task-7", lock_timeout=LOCK, result_ttl=TTL, clock=clock) == "done"
    assert len(attempts) == 2 and effects.count == 1


def test_an_expired_in_progress_lock_is_taken_over(store, clock):
    records = IdempotencyStore(store, clock=clock)
    crashed = records.begin(tenant_id=T, key="task-9", lock_timeout=LOCK)  # the holder dies here
    assert isinstance(crashed, Lease)
    effects = Effects()

    clock.advance(LOCK - timedelta(seconds=1))  # still held
    with pytest.raises(IdempotencyInProgress) as caught:
        run_once(records, effects.happen, tenant_id=T, key="task-9", lock_timeout=LOCK, result_ttl=TTL)
    assert caught.value.retry_after == 1

    clock.advance(timedelta(seconds=1))  # expired: taken over
    assert run_once(records, effects.happen, tenant_id=T, key="task-9", lock_timeout=LOCK, result_ttl=TTL) == 1
    assert effects.count == 1

    # the crashed holder waking up late neither overwrites nor deletes its successor's record
    records.complete(crashed, "stale", result_ttl=TTL)
    records.release(crashed)
    assert run_once(records, effects.happen, tenant_id=T, key="task-9", lock_timeout=LOCK, result_ttl=TTL) == 1
    assert effects.count == 1


def test_a_lock_the_store_itself_sees_expired_is_recreated(store):
    # The holder's clock was an hour behind: by the store's clock the lock expired long ago.
    past = Clock(datetime.now(timezone.utc) - timedelta(hours=1))
    assert isinstance(IdempotencyStore(store, clock=past).begin(tenant_id=T, key="k", lock_timeout=LOCK), Lease)
    assert run_once(store, lambda: "ran", tenant_id=T, key="k", lock_timeout=LOCK, result_ttl=TTL) == "ran"


def test_completed_returns_the_saved_result_without_running(store, clock):
    effects = Effects()

    def handler() -> dict:
        effects.happen()
        return {"pages": 3, "ids": ("a", "b"), "nested": {"ok": True}}

    first = run_once(store, handler, tenant_id=T, key="sync-1", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert first == {"pages": 3, "ids": ("a", "b"), "nested": {"ok": True}}
    clock.advance(TTL - timedelta(seconds=1))
    replay = run_once(store, handler, tenant_id=T, key="sync-1", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert replay == {"pages": 3, "ids": ["a", "b"], "nested": {"ok": True}}  # its JSON form
    assert effects.count == 1

    record = store.get(record_path("sync-1"), tenant_id=T)
    assert record["status"] == COMPLETED
    assert record["expires_at"] == record["completed_at"] + TTL

    clock.advance(timedelta(seconds=1))  # the saved result expired: the key runs again
    run_once(store, handler, tenant_id=T, key="sync-1", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert effects.count == 2


def test_the_context_manager_form(store, clock):
    effects = Effects()

    def deliver() -> object:
        with idempotent(store, tenant_id=T, key="evt-1", expires_after=LOCK, result_ttl=TTL, clock=clock) as execution:
            if not execution.replayed:
                execution.result = {"effect": effects.happen()}
        return execution.result

    assert deliver() == {"effect": 1}
    assert deliver() == {"effect": 1}
    assert effects.count == 1


def test_in_progress_record_layout(store, clock):
    lease = IdempotencyStore(store, clock=clock).begin(tenant_id=T, key="task-1", lock_timeout=LOCK)
    record = store.get(record_path("task-1"), tenant_id=T)
    assert record["status"] == INPROGRESS and record["holder"] == lease.holder
    assert record["expires_at"] == clock.now + LOCK == lease.expires_at
    assert "task-1" not in str(record)  # the raw key is not stored


def test_keys_are_per_tenant(store, clock):
    effects = Effects()
    for tenant in ("tenant-a", "tenant-b"):
        run_once(store, effects.happen, tenant_id=tenant, key="same", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert effects.count == 2


def test_an_unserialisable_result_is_an_error_and_frees_the_key(store, clock):
    with pytest.raises(IdempotencyResultError) as caught:
        run_once(
            store, lambda: {"when": object()}, tenant_id=T, key="bad", lock_timeout=LOCK, result_ttl=TTL, clock=clock
        )
    assert caught.value.status == 500
    assert store.get(record_path("bad"), tenant_id=T) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": ""}, "key"),
        ({"key": None}, "key"),
        ({"lock_timeout": timedelta(0)}, "lock_timeout"),
        ({"result_ttl": timedelta(seconds=-1)}, "result_ttl"),
        ({"lock_timeout": 60}, "lock_timeout"),
    ],
)
def test_invalid_arguments_are_refused_before_running(store, clock, kwargs, field):
    effects = Effects()
    arguments = {"tenant_id": T, "key": "k", "lock_timeout": LOCK, "result_ttl": TTL, "clock": clock, **kwargs}
    with pytest.raises(InvalidIdempotencyKey) as caught:
        run_once(store, effects.happen, **arguments)
    assert caught.value.field == field and effects.count == 0
    assert store.query("idempotency", tenant_id=T) == []


def test_begin_reports_completed(store, clock):
    run_once(store, lambda: [1, 2], tenant_id=T, key="k", lock_timeout=LOCK, result_ttl=TTL, clock=clock)
    assert IdempotencyStore(store, clock=clock).begin(tenant_id=T, key="k", lock_timeout=LOCK) == Completed([1, 2])
