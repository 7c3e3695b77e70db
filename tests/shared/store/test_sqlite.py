"""SQLite adapter specifics: file layout, indexes, WAL, maintenance and misuse."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import AppError
from shared.store import PreconditionFailed, StoreError
from shared.store.sqlite import (
    INDEXED_DUE_FIELDS,
    INDEXED_EQUALITY_FIELDS,
    SqliteDocumentStore,
    tenants_due_sql,
    tenants_where_sql,
)

T = "tenant-a"


@pytest.fixture
def db(tmp_path):
    store = SqliteDocumentStore(tmp_path / "db.sqlite3")
    yield store
    store.close()


@pytest.fixture
def raw(tmp_path, db):
    conn = sqlite3.connect(tmp_path / "db.sqlite3")
    yield conn
    conn.close()


def plan(raw, sql: str, params) -> str:
    return " ".join(row[-1] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_database_uses_wal(raw):
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rows_are_keyed_by_tenant_and_path_with_tagged_datetimes(db, raw):
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    expires = datetime(2999, 1, 1, tzinfo=timezone.utc)
    db.set("tasks/t/notes/n", {"at": at, "expires_at": expires}, tenant_id=T)
    tenant, path, parent, data, update_time, expires_at = raw.execute(
        "SELECT tenant_id, path, parent, data, update_time, expires_at FROM documents"
    ).fetchone()
    assert (tenant, path, parent) == (T, "tasks/t/notes/n", "tasks/t/notes")
    assert json.loads(data)["at"] == {"__dt__": "2025-01-02T02:04:05.000000Z"}
    assert expires_at == "2999-01-01T00:00:00.000000Z"
    assert len(update_time) == len("2025-01-02T02:04:05.000000Z")


@pytest.mark.parametrize("field", INDEXED_DUE_FIELDS)
def test_tenants_due_uses_an_index(raw, field):
    assert f"USING INDEX roots_due_{field}" in plan(raw, tenants_due_sql(field), ("x", "y", 1))


@pytest.mark.parametrize("field", INDEXED_EQUALITY_FIELDS)
def test_tenants_where_uses_an_index(raw, field):
    sql, params = tenants_where_sql(field, "value")
    assert f"USING INDEX roots_eq_{field}" in plan(raw, sql, (*params, "", "now", 10))


def test_other_fields_scan_only_root_documents(raw):
    sql, params = tenants_where_sql("tier", "pro")
    assert "INDEX roots" in plan(raw, sql, (*params, "", "now", 10))


def test_update_times_strictly_increase_even_with_a_frozen_clock(tmp_path):
    frozen = datetime(2030, 1, 1, tzinfo=timezone.utc)
    store = SqliteDocumentStore(tmp_path / "frozen.sqlite3", clock=lambda: frozen)
    store.set("d/1", {"v": 1}, tenant_id=T)
    first = store.get_document("d/1", tenant_id=T)
    store.set("d/1", {"v": 2}, tenant_id=T)
    second = store.get_document("d/1", tenant_id=T)
    assert second.update_time == first.update_time + timedelta(microseconds=1)
    with pytest.raises(PreconditionFailed):
        store.update_if_unchanged("d/1", {"v": 3}, tenant_id=T, update_time=first.update_time)
    store.close()


def test_purge_expired_deletes_only_expired_rows(db, raw):
    now = datetime.now(timezone.utc)
    db.set("a/old", {"expires_at": now - timedelta(seconds=1)}, tenant_id=T)
    db.set("a/new", {"expires_at": now + timedelta(hours=1)}, tenant_id=T)
    db.set("a/forever", {"v": 1}, tenant_id="tenant-b")
    assert db.purge_expired() == 1
    assert sorted(row[0] for row in raw.execute("SELECT path FROM documents")) == ["a/forever", "a/new"]


def test_expired_rows_are_purged_when_a_store_opens(tmp_path):
    path = tmp_path / "purge.sqlite3"
    first = SqliteDocumentStore(path)
    first.set("a/old", {"expires_at": datetime.now(timezone.utc) - timedelta(seconds=1)}, tenant_id=T)
    first.close()
    SqliteDocumentStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] == 0


def test_a_closed_store_refuses_calls(tmp_path):
    store = SqliteDocumentStore(tmp_path / "closed.sqlite3")
    store.close()
    with pytest.raises(StoreError):
        store.get("a/b", tenant_id=T)


def test_an_unopenable_file_is_a_store_error(tmp_path):
    with pytest.raises(StoreError) as caught:
        SqliteDocumentStore(tmp_path)  # a directory
    assert caught.value.status == 503


def test_using_the_store_inside_its_own_transaction_is_refused(db):
    with pytest.raises(AppError) as caught:
        db.transaction(lambda txn: db.set("a/b", {"v": 1}, tenant_id=T), tenant_id=T)
    assert caught.value.code == "transaction_misuse"
    with pytest.raises(AppError) as nested:
        db.transaction(lambda txn: db.transaction(lambda inner: None, tenant_id=T), tenant_id=T)
    assert nested.value.code == "transaction_misuse"
    assert db.get("a/b", tenant_id=T) is None
    db.set("a/b", {"v": 2}, tenant_id=T)  # the connection is usable afterwards
    assert db.get("a/b", tenant_id=T) == {"v": 2}


def test_two_stores_on_one_file_see_each_other(tmp_path):
    first = SqliteDocumentStore(tmp_path / "two.sqlite3")
    second = SqliteDocumentStore(tmp_path / "two.sqlite3")
    first.set("a/b", {"v": 1}, tenant_id=T)
    assert second.get("a/b", tenant_id=T) == {"v": 1}
    first.close()
    second.close()
