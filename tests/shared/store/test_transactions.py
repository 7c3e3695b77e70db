"""Contract: transaction semantics (single-threaded), on every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import AppError, InvalidRequest
from shared.store import AlreadyExists

T = "tenant-a"


def test_read_modify_write_returns_the_callable_result(store):
    store.set("counters/c", {"n": 41}, tenant_id=T)

    def bump(txn):
        current = txn.get("counters/c")
        txn.set("counters/c", {"n": current["n"] + 1})
        return current["n"] + 1

    assert store.transaction(bump, tenant_id=T) == 42
    assert store.get("counters/c", tenant_id=T) == {"n": 42}


def test_writes_apply_together_at_the_end(store):
    store.set("a/1", {"v": 1}, tenant_id=T)
    store.set("a/2", {"v": 2}, tenant_id=T)

    def move(txn):
        first, second = txn.get("a/1"), txn.get("a/2")
        txn.set("b/1", {"v": first["v"] + second["v"]})
        txn.set("a/2", {"extra": True}, merge=True)
        txn.delete("a/1")

    store.transaction(move, tenant_id=T)
    assert store.get("a/1", tenant_id=T) is None
    assert store.get("a/2", tenant_id=T) == {"v": 2, "extra": True}
    assert store.get("b/1", tenant_id=T) == {"v": 3}


def test_an_exception_in_the_callable_discards_every_write(store):
    store.set("a/1", {"v": 1}, tenant_id=T)

    class Boom(Exception):
        pass

    def fail(txn):
        txn.get("a/1")
        txn.set("a/1", {"v": 2})
        txn.set("a/new", {"v": 3})
        raise Boom

    with pytest.raises(Boom):
        store.transaction(fail, tenant_id=T)
    assert store.get("a/1", tenant_id=T) == {"v": 1}
    assert store.get("a/new", tenant_id=T) is None


def test_create_in_a_transaction_conflicts_with_a_live_document(store):
    store.set("locks/l", {"owner": "a"}, tenant_id=T)

    def take(txn):
        txn.set("audit/x", {"tried": True})
        txn.create("locks/l", {"owner": "b"})

    # create reads the document (an expired one counts as absent), so after a write it breaks
    # the reads-before-writes rule on both adapters; nothing is written.
    with pytest.raises(AppError) as caught:
        store.transaction(take, tenant_id=T)
    assert caught.value.code == "transaction_misuse"
    assert store.get("audit/x", tenant_id=T) is None

    def take_properly(txn):
        txn.create("locks/l", {"owner": "b"})

    with pytest.raises(AlreadyExists):
        store.transaction(take_properly, tenant_id=T)
    assert store.get("locks/l", tenant_id=T) == {"owner": "a"}


def test_create_in_a_transaction_over_absent_and_expired_documents(store):
    store.set("locks/old", {"owner": "a", "expires_at": datetime.now(timezone.utc) - timedelta(seconds=1)}, tenant_id=T)

    def take(txn):
        # Reads first (create reads too): then both creates may follow each other.
        assert txn.get("locks/old") is None and txn.get("locks/new") is None
        txn.create("locks/old", {"owner": "b"})
        txn.create("locks/new", {"owner": "b"})

    store.transaction(take, tenant_id=T)
    assert store.get("locks/old", tenant_id=T) == {"owner": "b"}
    assert store.get("locks/new", tenant_id=T) == {"owner": "b"}


def test_create_after_reading_the_same_path(store):
    def read_then_create(txn):
        before = txn.get("locks/l")
        txn.create("locks/l", {"owner": "me"})
        return before

    assert store.transaction(read_then_create, tenant_id=T) is None
    with pytest.raises(AlreadyExists):
        store.transaction(read_then_create, tenant_id=T)


def test_create_after_writing_the_same_path_conflicts(store):
    def twice(txn):
        txn.set("x/1", {"v": 1})
        txn.create("x/1", {"v": 2})

    with pytest.raises(AlreadyExists):
        store.transaction(twice, tenant_id=T)
    assert store.get("x/1", tenant_id=T) is None


def test_read_after_write_is_refused_like_firestore(store):
    def bad(txn):
        txn.set("x/1", {"v": 1})
        txn.get("x/2")

    with pytest.raises(AppError) as caught:
        store.transaction(bad, tenant_id=T)
    assert caught.value.code == "transaction_misuse"
    assert store.get("x/1", tenant_id=T) is None


def test_transaction_validates_paths_and_data(store):
    with pytest.raises(InvalidRequest):
        store.transaction(lambda txn: txn.get("../x"), tenant_id=T)
    with pytest.raises(InvalidRequest):
        store.transaction(lambda txn: txn.set("x/1", {"at": datetime(2025, 1, 1)}), tenant_id=T)
    with pytest.raises(InvalidRequest):
        store.transaction(lambda txn: None, tenant_id=T, max_attempts=0)
    assert store.export_tenant(tenant_id=T) == {}
