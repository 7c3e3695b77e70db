"""Worker functions for the multi-process SQLite tests (importable by spawned processes)."""

from __future__ import annotations

from pathlib import Path

from shared.store.sqlite import SqliteDocumentStore


def increment_many(path: str, tenant_id: str, doc: str, times: int) -> None:
    store = SqliteDocumentStore(Path(path))
    try:
        for _ in range(times):
            store.increment(doc, {"n": 1}, tenant_id=tenant_id)
    finally:
        store.close()


def read_modify_write_many(path: str, tenant_id: str, doc: str, times: int) -> None:
    store = SqliteDocumentStore(Path(path))

    def bump(txn):
        current = txn.get(doc) or {"n": 0}
        txn.set(doc, {"n": current["n"] + 1})

    try:
        for _ in range(times):
            store.transaction(bump, tenant_id=tenant_id)
    finally:
        store.close()


def use_inherited_store(store: SqliteDocumentStore, tenant_id: str, doc: str) -> None:
    """Run in a forked child: the parent's store object must open its own connection."""
    store.increment(doc, {"n": 1}, tenant_id=tenant_id)
