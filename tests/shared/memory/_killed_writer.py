"""Child process of test_killed_writer: a memory writer that dies (``os._exit``, no cleanup, lease
left held) at a chosen point of its publish. Usage::

    python -m tests.shared.memory._killed_writer BLOB_ROOT DOCUMENTS_DB CACHE_DIR {upload|manifest}
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from shared.blobs.local import LocalBlobStore
from shared.memory.documents import MemoryDocument
from shared.memory.memory import MemoryService
from shared.memory.snapshot import MANIFEST_KEY
from shared.store.sqlite import SqliteDocumentStore
from tests.shared.memory.conftest import TrafficBlobStore

KILLED_DOCUMENTS = [MemoryDocument("page-2", "Buy groceries: milk, eggs and bread", {"status": "todo"}),
                    MemoryDocument("page-3", "Morning run, 5 km in the park", {"status": "done"})]
EXIT_CODE = 9


class DyingBlobStore(TrafficBlobStore):
    def __init__(self, inner, die_at: str) -> None:
        super().__init__(inner)
        self.die_at = die_at
        self.snapshot_writes = 0

    def write(self, key, data, *, tenant_id, if_generation_match=None, content_type="application/octet-stream"):
        if key == MANIFEST_KEY and self.die_at == "manifest":
            os._exit(EXIT_CODE)  # after every snapshot file was uploaded, before the commit
        if key != MANIFEST_KEY:
            self.snapshot_writes += 1
            if self.die_at == "upload" and self.snapshot_writes == 2:
                os._exit(EXIT_CODE)  # half-way through the upload
        return super().write(key, data, tenant_id=tenant_id, if_generation_match=if_generation_match,
                             content_type=content_type)


def main(blob_root: str, documents_db: str, cache_dir: str, die_at: str) -> None:
    memory = MemoryService(DyingBlobStore(LocalBlobStore(Path(blob_root)), die_at),
                           SqliteDocumentStore(documents_db), cache_dir=Path(cache_dir))
    memory.upsert(KILLED_DOCUMENTS, tenant_id="tenant-a")
    sys.exit(0)  # not reached


if __name__ == "__main__":
    main(*sys.argv[1:5])
