"""A writer process killed mid-publish: the last committed snapshot stays readable, its lease
expires, and the next writer completes the work."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from shared.blobs.local import LocalBlobStore
from shared.memory.documents import MemoryDocument
from shared.memory.errors import LeaseBusy
from shared.memory.lease import LEASE_PATH
from shared.memory.memory import MemoryService
from shared.memory.snapshot import MANIFEST_KEY, SNAPSHOTS_PREFIX
from shared.store.sqlite import SqliteDocumentStore
from tests.shared.memory._killed_writer import EXIT_CODE, KILLED_DOCUMENTS
from tests.shared.memory.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[3]
T = "tenant-a"


@pytest.mark.parametrize("die_at", ["upload", "manifest"])
def test_killed_writer_leaves_the_last_snapshot_and_the_next_writer_finishes(die_at, tmp_path, embedder):
    clock = FakeClock()
    clock.now = datetime.now(timezone.utc)  # the child stamps its lease with the real time
    blobs = LocalBlobStore(tmp_path / "blobs")
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3", clock=clock)
    options = {"clock": clock, "sleep": clock.sleep, "lease_wait": 0.0}
    first = MemoryService(blobs, documents, embedder, tmp_path / "cache", **options)
    first.upsert([MemoryDocument("page-1", "Write the quarterly report for finance", {})], tenant_id=T)
    committed = blobs.read(MANIFEST_KEY, tenant_id=T)

    child = subprocess.run(
        [sys.executable, "-m", "tests.shared.memory._killed_writer", str(tmp_path / "blobs"),
         str(tmp_path / "documents.sqlite3"), str(tmp_path / "child-cache"), die_at],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=120,
    )
    assert child.returncode == EXIT_CODE, child.stderr.decode()[-2000:]

    # Nothing was committed: the manifest is the same and a fresh reader sees the old state.
    assert blobs.read(MANIFEST_KEY, tenant_id=T).generation == committed.generation
    uploaded = {i.key.split("/")[2] for i in blobs.list(SNAPSHOTS_PREFIX, tenant_id=T)}
    assert len(uploaded) == 2  # the committed snapshot and the dead writer's partial one
    reader = MemoryService(blobs, documents, embedder, tmp_path / "cache", **options)
    assert reader.ids(tenant_id=T) == {"page-1"}

    # The dead writer still holds the lease until it expires.
    assert documents.get(LEASE_PATH, tenant_id=T) is not None
    with pytest.raises(LeaseBusy):
        reader.upsert(KILLED_DOCUMENTS, tenant_id=T)
    clock.advance(minutes=3)
    reader.upsert(KILLED_DOCUMENTS, tenant_id=T)  # the redelivered sync job
    assert first.ids(tenant_id=T) == {"page-1", "page-2", "page-3"}
    assert first.search("groceries", tenant_id=T, k=1)[0].id == "page-2"
    # The orphan upload is older than the grace period now: collected with the publish.
    assert len({i.key.split("/")[2] for i in blobs.list(SNAPSHOTS_PREFIX, tenant_id=T)}) == 2
    for service in (first, reader):
        service.close()
    documents.close()
