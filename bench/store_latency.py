"""Document store read/write latency per adapter, as ratios to the raw backend call.

For SQLite the baseline is a raw ``sqlite3`` key/value read or write on a file of its own (what
any adapter must pay); for Firestore it is the raw ``google-cloud-firestore`` client on the same
emulator. The ratio is the adapter's overhead: validation, tenant scoping, JSON tagging, expiry.
The Firestore part runs only when the official emulator is installed.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path

from bench._runner import measure, report

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TENANT = "bench-tenant"
DOC = {"title": "Write the quarterly report", "priority": 3, "tags": ["work", "writing"], "estimate_minutes": 90}


def _compare(backend: str, raw_name: str, raw_write, raw_read, store, ops: int, repeat: int) -> list[dict]:
    """Writes then reads of ``ops`` documents through the adapter, against the raw calls."""
    adapter = type(store).__name__

    def adapter_write():
        for i in range(ops):
            store.set(f"tasks/{i}", DOC, tenant_id=TENANT)

    def adapter_read():
        for i in range(ops):
            store.get(f"tasks/{i}", tenant_id=TENANT)

    rows = report(f"{backend} write, {ops} documents", measure(f"{raw_name} write", raw_write, repeat=repeat, warmup=1),
                  [measure(f"{adapter}.set", adapter_write, repeat=repeat, warmup=1)])
    rows += report(f"{backend} read, {ops} documents", measure(f"{raw_name} read", raw_read, repeat=repeat, warmup=1),
                   [measure(f"{adapter}.get", adapter_read, repeat=repeat, warmup=1)])
    return rows


def _sqlite(repeat: int, ops: int) -> list[dict]:
    from shared.store.sqlite import SqliteDocumentStore

    with tempfile.TemporaryDirectory() as tmp:
        raw = sqlite3.connect(Path(tmp) / "raw.sqlite3", isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous = NORMAL")  # the adapter's setting: compare like with like
        raw.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")
        store = SqliteDocumentStore(Path(tmp) / "documents.sqlite3")
        body = json.dumps(DOC)

        def raw_write():
            for i in range(ops):
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (f"tasks/{i}", body))
                raw.execute("COMMIT")

        def raw_read():
            for i in range(ops):
                json.loads(raw.execute("SELECT v FROM kv WHERE k = ?", (f"tasks/{i}",)).fetchone()[0])

        rows = _compare("SQLite", "raw sqlite3", raw_write, raw_read, store, ops, repeat)
        store.close()
        return rows


def _firestore(repeat: int, ops: int) -> list[dict]:
    try:
        from tests.support.firestore_emulator import EmulatorUnavailable, firestore_emulator
    except ImportError:
        return []
    from shared.store.firestore import FirestoreDocumentStore

    try:
        context = firestore_emulator()
        emulator = context.__enter__()
    except EmulatorUnavailable as exc:
        print(f"\n(Firestore emulator unavailable: {exc}; skipped)")
        return []
    try:
        client = emulator.client()
        store = FirestoreDocumentStore(client)
        raw = client.collection("raw")

        def raw_write():
            for i in range(ops):
                raw.document(f"d{i}").set(DOC)

        def raw_read():
            for i in range(ops):
                raw.document(f"d{i}").get().to_dict()

        return _compare("Firestore emulator", "raw firestore client", raw_write, raw_read, store, ops, repeat)
    finally:
        context.__exit__(None, None, None)


def run(repeat: int = 5, ops: int = 200) -> list[dict]:
    return _sqlite(repeat, ops) + _firestore(repeat, max(20, ops // 4))


if __name__ == "__main__":
    run()
