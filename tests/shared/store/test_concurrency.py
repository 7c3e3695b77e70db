"""Contract: atomicity under concurrency (threads on every adapter, processes on SQLite).

Each thread opens its own store instance (its own SQLite connection or Firestore client), so the
backend's locking is what is tested, not a lock inside one adapter object. Nothing here measures
time: overlap is forced with barriers and events, and assertions are on final counts.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.store import ContentionError, StoreError
from shared.store.sqlite import SqliteDocumentStore
from tests.shared.store import _workers

T = "tenant-a"
JOIN_TIMEOUT = 120  # a safety net against hangs, not a speed assertion


def run_in_threads(count: int, target) -> None:
    barrier = threading.Barrier(count)

    def start(index: int) -> None:
        barrier.wait(timeout=JOIN_TIMEOUT)  # everyone starts together
        target(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        for future in [pool.submit(start, index) for index in range(count)]:
            future.result(timeout=JOIN_TIMEOUT)


def test_increment_is_exact_under_concurrent_threads(store_factory, store):
    stores = [store_factory() for _ in range(8)]

    def work(index: int) -> None:
        for _ in range(25):
            stores[index].increment("usage/day", {"calls": 1, "tokens": 2}, tenant_id=T, extra={"tier": "free"})

    run_in_threads(8, work)
    assert store.get("usage/day", tenant_id=T) == {"calls": 200, "tokens": 400, "tier": "free"}


def test_transactions_lose_no_update_under_concurrent_threads(store_factory, store, store_backend):
    # The Firestore emulator locks pessimistically and resolves each deadlock by a ~2 s lock
    # timeout: keep its contention small.
    threads, rounds = (8, 10) if store_backend == "sqlite" else (2, 2)
    stores = [store_factory() for _ in range(threads)]
    store.set("counters/c", {"n": 0}, tenant_id=T)

    def bump(txn):
        current = txn.get("counters/c")
        txn.set("counters/c", {"n": current["n"] + 1})

    def work(index: int) -> None:
        for _ in range(rounds):
            stores[index].transaction(bump, tenant_id=T, max_attempts=20)

    run_in_threads(threads, work)
    assert store.get("counters/c", tenant_id=T) == {"n": threads * rounds}


def test_concurrent_creates_have_exactly_one_winner(store_factory, store):
    stores = [store_factory() for _ in range(4)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            stores[index].create("locks/job", {"owner": index}, tenant_id=T)
            result = "won"
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    run_in_threads(4, work)
    assert sorted(outcomes) == ["AlreadyExists"] * 3 + ["won"]
    assert store.get("locks/job", tenant_id=T)["owner"] in range(4)


# SQLite serialises writers with BEGIN IMMEDIATE, so transactions cannot overlap there.
@pytest.mark.emulator
@pytest.mark.parametrize("store_backend", ["firestore"], indirect=True)
def test_firestore_overlapping_transactions_retry_and_both_apply(store_factory, store):
    first, second = store_factory(), store_factory()
    store.set("counters/c", {"n": 0}, tenant_id=T)
    both_read = threading.Barrier(2)
    calls = []

    def bump(txn):
        calls.append(1)
        current = txn.get("counters/c")
        if len(calls) <= 2:
            both_read.wait(timeout=JOIN_TIMEOUT)  # both hold a read of the same version
        txn.set("counters/c", {"n": current["n"] + 1})

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(s.transaction, bump, tenant_id=T, max_attempts=5) for s in (first, second)]
        for future in futures:
            future.result(timeout=JOIN_TIMEOUT)
    assert store.get("counters/c", tenant_id=T) == {"n": 2}
    assert len(calls) >= 3  # one of them was re-run


def test_contention_error_when_attempts_run_out(store_factory, store, store_backend, tmp_path):
    if store_backend == "sqlite":
        # Another connection holds the write lock for the whole call.
        blocked = SqliteDocumentStore(tmp_path / "store.sqlite3", busy_timeout=0.05)
        holder = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(ContentionError) as caught:
                blocked.transaction(lambda txn: txn.set("c/x", {"n": 1}), tenant_id=T, max_attempts=2)
            with pytest.raises(StoreError):
                blocked.set("c/x", {"n": 1}, tenant_id=T)
            assert blocked.get("c/x", tenant_id=T) is None  # readers are not blocked (WAL)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
            blocked.close()
        assert caught.value.status == 503
        return

    # Firestore: the first transaction holds its read until the second has given up, so the
    # second's commit times out on the lock and, with a single attempt, fails.
    first, second = store_factory(), store_factory()
    store.set("counters/c", {"n": 0}, tenant_id=T)
    first_read, second_done = threading.Event(), threading.Event()
    errors: dict[str, Exception] = {}

    def hold(txn):
        current = txn.get("counters/c")
        first_read.set()
        second_done.wait(timeout=JOIN_TIMEOUT)
        txn.set("counters/c", {"n": current["n"] + 1})

    def bump(txn):
        current = txn.get("counters/c")
        txn.set("counters/c", {"n": current["n"] + 1})

    def run_second() -> None:
        first_read.wait(timeout=JOIN_TIMEOUT)
        try:
            second.transaction(bump, tenant_id=T, max_attempts=1)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors["second"] = exc
        finally:
            second_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        holder = pool.submit(first.transaction, hold, tenant_id=T, max_attempts=1)
        pool.submit(run_second).result(timeout=JOIN_TIMEOUT)
        holder.result(timeout=JOIN_TIMEOUT)
    assert isinstance(errors.get("second"), ContentionError)
    assert store.get("counters/c", tenant_id=T) == {"n": 1}


def _spawn(target, *args) -> multiprocessing.Process:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args)
    process.start()
    return process


def test_sqlite_increment_and_transactions_across_processes(tmp_path):
    path = tmp_path / "shared.sqlite3"
    SqliteDocumentStore(path).close()  # create the schema once
    processes = [_spawn(_workers.increment_many, str(path), T, "usage/day", 25) for _ in range(3)]
    processes += [_spawn(_workers.read_modify_write_many, str(path), T, "counters/c", 10) for _ in range(3)]
    for process in processes:
        process.join(JOIN_TIMEOUT)
        assert process.exitcode == 0
    store = SqliteDocumentStore(path)
    try:
        assert store.get("usage/day", tenant_id=T) == {"n": 75}
        assert store.get("counters/c", tenant_id=T) == {"n": 30}
    finally:
        store.close()


def test_sqlite_store_reopens_its_connection_after_fork(tmp_path):
    store = SqliteDocumentStore(tmp_path / "forked.sqlite3")
    store.increment("c/x", {"n": 1}, tenant_id=T)
    process = multiprocessing.get_context("fork").Process(target=_workers.use_inherited_store, args=(store, T, "c/x"))
    process.start()
    process.join(JOIN_TIMEOUT)
    assert process.exitcode == 0
    store.increment("c/x", {"n": 1}, tenant_id=T)  # the parent's connection still works
    assert store.get("c/x", tenant_id=T) == {"n": 3}
    store.close()
