"""Local copies of tenants' committed snapshots, kept warm between requests.

A process keeps, per tenant, the folder of the last snapshot it downloaded or published, labelled
with the manifest generation it came from. While the manifest's generation is unchanged (checked
with a metadata-only ``stat``) nothing is downloaded: readers query the open copy and writers start
from a file copy of it. Every copy lives in a fresh folder (Chroma caches clients per path), and
its client is closed before the folder is copied, replaced or removed.

Not thread-safe per tenant: the caller serialises work on one tenant (see ``MemoryService``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.blobs.errors import BlobNotFound
from shared.memory.errors import MemoryServiceError, SnapshotCorrupt
from shared.memory.snapshot import Committed, SnapshotStore

logger = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 3  # a snapshot can be collected while we download it: read the manifest again


@dataclass
class Replica:
    """A tenant's local copy of one committed snapshot."""

    tenant_id: str
    committed: Committed
    path: Path
    _client: Any = field(default=None, repr=False)
    _collection: Any = field(default=None, repr=False)

    @property
    def generation(self) -> int:
        return self.committed.generation

    def collection(self, embedding_function: Any) -> Any:
        """The Chroma collection of this copy (its client opened on first use)."""
        if self._collection is None:
            from shared.memory.chroma_adapter import memory_collection, open_client

            self._client = open_client(self.path)
            self._collection = memory_collection(self._client, embedding_function)
        return self._collection

    def close(self) -> None:
        if self._client is not None:
            from shared.memory.chroma_adapter import close_client

            close_client(self._client)
        self._client = self._collection = None


class ReplicaCache:
    """Per-tenant warm copies under a folder private to this instance."""

    def __init__(self, snapshots: SnapshotStore, cache_dir: Path) -> None:
        self._snapshots = snapshots
        self._root = Path(cache_dir) / f"memory-{uuid.uuid4().hex[:12]}"
        # /tmp of a Cloud Function is memory: never leave copies behind, even without close().
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, True)
        self._replicas: dict[str, Replica] = {}
        self._lock = threading.Lock()
        self.bytes_downloaded = 0  # for tests and benchmarks

    def fresh_dir(self, tenant_id: str) -> Path:
        path = self._root / tenant_id / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    @staticmethod
    def remove_dir(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def latest(self, tenant_id: str) -> Replica | None:
        """The copy of the tenant's committed snapshot, downloaded only if the manifest changed."""
        generation = self._snapshots.current_generation(tenant_id=tenant_id)
        cached = self._get(tenant_id)
        if cached is not None and cached.generation == generation:
            return cached
        if generation == 0:
            self.forget(tenant_id)
            return None
        path = self.fresh_dir(tenant_id)
        try:
            committed = self._download_latest(tenant_id, path)
        except BaseException:
            self.remove_dir(path)
            raise
        if committed is None:
            self.remove_dir(path)
            self.forget(tenant_id)
            return None
        return self.adopt(tenant_id, path, committed)

    def checkout(self, tenant_id: str) -> tuple[Committed | None, Path]:
        """A private working folder holding the latest committed state, and what it was based on."""
        generation = self._snapshots.current_generation(tenant_id=tenant_id)
        cached = self._get(tenant_id)
        path = self.fresh_dir(tenant_id)
        try:
            if cached is not None and cached.generation == generation:
                cached.close()  # Chroma's files are complete only once its client is closed
                shutil.copytree(cached.path, path, dirs_exist_ok=True)
                return cached.committed, path
            return self._download_latest(tenant_id, path), path
        except BaseException:
            self.remove_dir(path)
            raise

    def adopt(self, tenant_id: str, path: Path, committed: Committed) -> Replica:
        """Make ``path`` (holding ``committed``) the tenant's warm copy, dropping the previous one."""
        replica = Replica(tenant_id, committed, path)
        with self._lock:
            previous = self._replicas.get(tenant_id)
            self._replicas[tenant_id] = replica
        if previous is not None:
            previous.close()
            self.remove_dir(previous.path)
        return replica

    def forget(self, tenant_id: str) -> None:
        with self._lock:
            replica = self._replicas.pop(tenant_id, None)
        if replica is not None:
            replica.close()
            self.remove_dir(replica.path)

    def close(self) -> None:
        with self._lock:
            tenants = list(self._replicas)
        for tenant_id in tenants:
            self.forget(tenant_id)
        self._cleanup()

    def _get(self, tenant_id: str) -> Replica | None:
        with self._lock:
            return self._replicas.get(tenant_id)

    def _download_latest(self, tenant_id: str, path: Path) -> Committed | None:
        corrupt = False
        for attempt in range(DOWNLOAD_ATTEMPTS):
            committed = self._snapshots.read_manifest(tenant_id=tenant_id)
            if committed is None:
                return None
            try:
                self.bytes_downloaded += self._snapshots.download(committed.manifest, path, tenant_id=tenant_id)
                return committed
            except (BlobNotFound, SnapshotCorrupt) as exc:
                corrupt = isinstance(exc, SnapshotCorrupt)
                # Collected under us, or a bad read: start over from the manifest in a clean folder.
                logger.warning("memory snapshot download retried (tenant %s, attempt %d)", tenant_id, attempt + 1)
                shutil.rmtree(path, ignore_errors=True)
                path.mkdir(parents=True)
        raise SnapshotCorrupt() if corrupt else MemoryServiceError()
