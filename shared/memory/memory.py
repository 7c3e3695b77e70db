"""The memory API: one semantic memory per tenant, a Chroma collection kept in the blob store.

    memory = MemoryService(blobs, documents, embedder=get_embedder(), cache_dir=Path("/tmp/memory"))
    memory.upsert([MemoryDocument("page-1", "Write the report", {"status": "todo"})], tenant_id=t)
    with memory.batch(tenant_id=t) as batch:      # one publish for a whole sync batch
        batch.upsert(changed_pages)
        batch.delete(trashed_page_ids)
    hits = memory.search("report for finance", tenant_id=t, k=5, where={"status": "todo"})

Writing (:meth:`MemoryService.upsert`, :meth:`~MemoryService.delete`, a batch) embeds the texts
first, then under the tenant's lease: starts from the latest committed snapshot (the warm copy if
the manifest is unchanged, else a download), applies the writes, closes Chroma, uploads a new
snapshot and commits the manifest with a generation precondition. If another writer committed in
between (e.g. our lease expired), the snapshot is discarded and the same writes are applied again
on top of the new one, so no writer's vectors are lost. An upsert replaces the whole document,
metadata included.

Reading (:meth:`~MemoryService.search`) checks the manifest's generation (metadata only) and
queries the warm copy, downloading the snapshot only when it changed.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from shared.blobs.base import BlobStore
from shared.blobs.errors import GenerationMismatch
from shared.errors import AppError
from shared.ids import validate_tenant_id
from shared.memory.documents import (
    MAX_TEXT_LENGTH,
    MemoryDocument,
    MemoryHit,
    check_documents,
    check_id,
)
from shared.memory.embeddings import Embedder, get_embedder
from shared.memory.errors import InvalidMemoryDocument, PublishContention
from shared.memory.lease import Lease, LeaseManager
from shared.memory.replica import ReplicaCache
from shared.memory.snapshot import GC_GRACE, Committed, Manifest, SnapshotStore
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

MAX_K = 100


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class MemoryBatch:
    """Writes collected for one publish; the last write of an id wins."""

    tenant_id: str
    _puts: dict[str, MemoryDocument] = field(default_factory=dict)
    _deletes: set[str] = field(default_factory=set)

    def upsert(self, documents: Sequence[MemoryDocument]) -> None:
        for document in check_documents(documents):
            self._deletes.discard(document.id)
            self._puts[document.id] = document

    def delete(self, ids: Sequence[str]) -> None:
        if isinstance(ids, str) or not isinstance(ids, Sequence):
            raise InvalidMemoryDocument("The ids must be a list.", field="ids")
        for index, value in enumerate(ids):
            check_id(value, field=f"ids[{index}]")
            self._puts.pop(value, None)
            self._deletes.add(value)

    def __len__(self) -> int:
        return len(self._puts) + len(self._deletes)


@dataclass(frozen=True)
class _Writes:
    """A batch with its vectors computed, ready to be applied (again, after a lost race)."""

    puts: list[MemoryDocument]
    vectors: np.ndarray
    deletes: list[str]


class MemoryService:
    """Per-tenant semantic memory over a blob store (snapshots) and a document store (leases)."""

    def __init__(self, blobs: BlobStore, documents: DocumentStore, embedder: Embedder | None = None,
                 cache_dir: Path | None = None, *, clock: Callable[[], datetime] = _utcnow,
                 lease_ttl: timedelta = timedelta(minutes=2), lease_wait: float = 20.0, lease_poll: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = 5,
                 gc_grace: timedelta = GC_GRACE) -> None:
        self._embedder = embedder or get_embedder()
        self._snapshots = SnapshotStore(blobs, clock=clock, gc_grace=gc_grace)
        self._leases = LeaseManager(documents, ttl=lease_ttl, wait=lease_wait, poll=lease_poll,
                                    clock=clock, sleep=sleep)
        cache = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir()) / "planner-memory"
        self._replicas = ReplicaCache(self._snapshots, cache)
        self._max_attempts = max_attempts
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._embedding_function: Any = None
        self._warned_models: set[tuple[str, str]] = set()

    # --- writing ------------------------------------------------------------------------------------
    def upsert(self, documents: Sequence[MemoryDocument], *, tenant_id: str) -> None:
        """Add or replace documents (one publish for the whole list)."""
        with self.batch(tenant_id=tenant_id) as batch:
            batch.upsert(documents)

    def delete(self, ids: Sequence[str], *, tenant_id: str) -> None:
        """Forget documents by id (unknown ids are ignored)."""
        with self.batch(tenant_id=tenant_id) as batch:
            batch.delete(ids)

    @contextmanager
    def batch(self, *, tenant_id: str) -> Iterator[MemoryBatch]:
        """Collect writes and publish them once when the block ends without an exception."""
        batch = MemoryBatch(validate_tenant_id(tenant_id))
        yield batch
        self.apply(batch)

    def apply(self, batch: MemoryBatch) -> None:
        """Publish a batch (nothing happens for an empty one)."""
        if not len(batch):
            return
        puts = list(batch._puts.values())
        # Embedding is the slow part: done once, outside the lease, and reused by every retry.
        writes = _Writes(puts, self._embedder.embed([d.text for d in puts]), sorted(batch._deletes))
        with self._tenant_lock(batch.tenant_id):
            lease = self._leases.acquire(tenant_id=batch.tenant_id)
            try:
                self._publish(batch.tenant_id, writes, lease)
            finally:
                lease.release()

    def _publish(self, tenant_id: str, writes: _Writes, lease: Lease) -> None:
        for attempt in range(self._max_attempts):
            if attempt:
                self._leases.reacquire(lease)
            base, work = self._replicas.checkout(tenant_id)
            try:
                if base is None and not writes.puts:
                    self._replicas.remove_dir(work)  # deleting from an empty memory: nothing to publish
                    return
                self._apply_locally(work, writes)
                if not lease.renew():
                    # The precondition below still decides; the lease only avoids wasted work.
                    logger.info("memory lease taken over during a publish (tenant %s)", tenant_id)
                committed = self._commit(tenant_id, work, base)
            except BaseException:
                self._replicas.remove_dir(work)
                raise
            if committed is None:
                self._replicas.remove_dir(work)
                logger.info("memory publish lost a race, re-applying (tenant %s, attempt %d)", tenant_id, attempt + 1)
                continue
            self._replicas.adopt(tenant_id, work, committed)
            try:
                self._snapshots.collect_garbage(committed.manifest, tenant_id=tenant_id)
            except AppError:
                logger.warning("memory snapshot collection failed (tenant %s); the next publish retries", tenant_id)
            return
        raise PublishContention()

    def _commit(self, tenant_id: str, work: Path, base: Committed | None) -> Committed | None:
        """Upload ``work`` and make it live; None if another writer committed since ``base``."""
        manifest = self._snapshots.upload(work, tenant_id=tenant_id, previous=base.manifest if base else None,
                                          embedding_model=self._embedder.model_id)
        try:
            generation = self._snapshots.commit(manifest, tenant_id=tenant_id,
                                                expected_generation=base.generation if base else 0)
            return Committed(manifest, generation)
        except GenerationMismatch:
            live = self._snapshots.read_manifest(tenant_id=tenant_id)
            if live is not None and live.manifest.snapshot_id == manifest.snapshot_id:
                return live  # our write landed but its answer was lost, and the retry saw itself
            self._snapshots.discard(manifest.snapshot_id, tenant_id=tenant_id)
            return None

    def _apply_locally(self, work: Path, writes: _Writes) -> None:
        from shared.memory.chroma_adapter import close_client, memory_collection, open_client

        client = open_client(work)
        try:
            collection = memory_collection(client, self._chroma_embedding_function())
            # Delete then add, never Chroma's upsert: its upsert merges metadata, so a property
            # cleared in Notion would survive.
            replaced = writes.deletes + [d.id for d in writes.puts]
            step = max(1, int(client.get_max_batch_size()))
            for start in range(0, len(replaced), step):
                collection.delete(ids=replaced[start:start + step])
            for start in range(0, len(writes.puts), step):
                chunk = writes.puts[start:start + step]
                collection.add(
                    ids=[d.id for d in chunk],
                    embeddings=writes.vectors[start:start + step],
                    documents=[d.text for d in chunk],
                    metadatas=[dict(d.metadata) or None for d in chunk],
                )
        finally:
            close_client(client)

    def delete_all(self, *, tenant_id: str) -> None:
        """Erase the tenant's memory from the blob store and this process (account deletion)."""
        tenant_id = validate_tenant_id(tenant_id)
        with self._tenant_lock(tenant_id):
            lease = self._leases.acquire(tenant_id=tenant_id)
            try:
                self._snapshots.delete_all(tenant_id=tenant_id)
                self._replicas.forget(tenant_id)
            finally:
                lease.release()

    # --- reading ------------------------------------------------------------------------------------
    def search(self, query: str, *, tenant_id: str, k: int = 5,
               where: Mapping[str, Any] | None = None) -> list[MemoryHit]:
        """The ``k`` documents closest in meaning to ``query``, best first, optionally filtered by a
        Chroma ``where`` clause on metadata."""
        tenant_id = validate_tenant_id(tenant_id)
        if not isinstance(query, str) or not query.strip() or len(query) > MAX_TEXT_LENGTH:
            raise InvalidMemoryDocument("The query must be a non-empty string.", field="query")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InvalidMemoryDocument(f"k must be an integer from 1 to {MAX_K}.", field="k")
        if where is not None and (not isinstance(where, Mapping) or not where):
            raise InvalidMemoryDocument("The where filter must be a non-empty mapping.", field="where")
        vector = self._embedder.embed([query])
        from shared.memory.chroma_adapter import CHROMA_INVALID_ARGUMENT

        with self._tenant_lock(tenant_id):
            replica = self._replicas.latest(tenant_id)
            if replica is None:
                return []
            self._check_model(tenant_id, replica.committed.manifest)
            collection = replica.collection(self._chroma_embedding_function())
            try:
                result = collection.query(query_embeddings=vector, n_results=k,
                                          where=dict(where) if where else None,
                                          include=["documents", "metadatas", "distances"])
            except CHROMA_INVALID_ARGUMENT as exc:
                raise InvalidMemoryDocument("The where filter is invalid.", field="where") from exc
        return [
            MemoryHit(id=hit_id, text=text or "", metadata=dict(metadata or {}), score=1.0 - float(distance))
            for hit_id, text, metadata, distance in zip(result["ids"][0], result["documents"][0],
                                                        result["metadatas"][0], result["distances"][0])
        ]

    def count(self, *, tenant_id: str) -> int:
        """How many documents the tenant's committed memory holds."""
        tenant_id = validate_tenant_id(tenant_id)
        with self._tenant_lock(tenant_id):
            replica = self._replicas.latest(tenant_id)
            return 0 if replica is None else int(replica.collection(self._chroma_embedding_function()).count())

    def ids(self, *, tenant_id: str) -> set[str]:
        """Every document id in the tenant's committed memory (reconciliation and tests)."""
        tenant_id = validate_tenant_id(tenant_id)
        with self._tenant_lock(tenant_id):
            replica = self._replicas.latest(tenant_id)
            if replica is None:
                return set()
            return set(replica.collection(self._chroma_embedding_function()).get(include=[])["ids"])

    # --- plumbing -----------------------------------------------------------------------------------
    @property
    def bytes_downloaded(self) -> int:
        """Snapshot bytes this instance has downloaded so far."""
        return self._replicas.bytes_downloaded

    def close(self) -> None:
        """Close Chroma clients and remove this instance's local copies."""
        self._replicas.close()

    def _check_model(self, tenant_id: str, manifest: Manifest) -> None:
        # Vectors of the int8 and fp32 exports agree to a cosine above 0.999, so a mix still
        # searches well; it means two deployments use different model files, which is worth a log.
        stored = manifest.embedding_model
        if stored and stored != self._embedder.model_id and (tenant_id, stored) not in self._warned_models:
            self._warned_models.add((tenant_id, stored))
            logger.warning("memory of tenant %s was embedded with %s, queried with %s",
                           tenant_id, stored, self._embedder.model_id)

    def _tenant_lock(self, tenant_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(tenant_id, threading.Lock())

    def _chroma_embedding_function(self) -> Any:
        if self._embedding_function is None:
            from shared.memory.chroma_adapter import PlannerEmbeddingFunction

            self._embedding_function = PlannerEmbeddingFunction(self._embedder)
        return self._embedding_function


__all__ = ["MemoryBatch", "MemoryDocument", "MemoryHit", "MemoryService"]
