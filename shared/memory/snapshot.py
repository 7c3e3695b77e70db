"""A tenant's Chroma folder as immutable snapshots in the blob store, published by one manifest.

Layout under the tenant's prefix::

    chroma/manifest.json                          the commit point: which snapshot is live
    chroma/snapshots/{snapshot_id}/{file path}    one object per file of that Chroma folder

A snapshot is written once under a fresh id and never changed. The manifest lists every file with
its size and sha256, the id of the snapshot it replaced and the embedding model of its vectors.
Publishing writes the manifest with ``if_generation_match`` set to the generation the writer
started from (0 when there was none): exactly one of two racing writers commits, the other gets
:class:`~shared.blobs.errors.GenerationMismatch` and must start again from the new snapshot. A
writer that dies before the manifest write leaves only an unreferenced snapshot behind, and
readers keep reading the last committed one.

Garbage collection after a commit keeps the new snapshot and the one it replaced (a reader may
still be downloading it) and deletes the others, but only those whose id (which starts with its
creation time) is older than the new snapshot by :data:`GC_GRACE`: any upload still in flight that
could yet commit was started after the current snapshot, so it is never deleted under its writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shared.blobs.base import BlobStore, validate_key
from shared.blobs.errors import BlobNotFound, GenerationMismatch
from shared.errors import InvalidRequest
from shared.memory.errors import SnapshotCorrupt

logger = logging.getLogger(__name__)

ROOT = "chroma/"
MANIFEST_KEY = "chroma/manifest.json"
SNAPSHOTS_PREFIX = "chroma/snapshots/"
FORMAT = 1
GC_GRACE = timedelta(minutes=2)  # far above clock skew between instances

_SNAPSHOT_ID = re.compile(r"^(\d{13})-[0-9a-f]{16}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SnapshotFile:
    path: str  # relative to the Chroma folder, "/"-separated
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    snapshot_id: str
    files: tuple[SnapshotFile, ...]
    previous_snapshot_id: str | None = None
    embedding_model: str = ""
    created_at: str = ""

    def to_bytes(self) -> bytes:
        body = {
            "format": FORMAT,
            "snapshot_id": self.snapshot_id,
            "previous_snapshot_id": self.previous_snapshot_id,
            "embedding_model": self.embedding_model,
            "created_at": self.created_at,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }
        return json.dumps(body, indent=1, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse and validate a manifest; :class:`SnapshotCorrupt` if it is not one we can trust."""
        try:
            body = json.loads(data.decode("utf-8"))
            if body.get("format") != FORMAT:
                raise ValueError("unknown manifest format")
            files = tuple(
                SnapshotFile(path=validate_key(item["path"], field="path"), size=int(item["size"]),
                             sha256=str(item["sha256"]))
                for item in body["files"]
            )
            if any(f.size < 0 or not _SHA256.fullmatch(f.sha256) for f in files):
                raise ValueError("bad file entry")
            snapshot_id = str(body["snapshot_id"])
            previous = body.get("previous_snapshot_id")
            if not _SNAPSHOT_ID.fullmatch(snapshot_id) or (previous is not None and not _SNAPSHOT_ID.fullmatch(previous)):
                raise ValueError("bad snapshot id")
            return cls(snapshot_id=snapshot_id, files=files, previous_snapshot_id=previous,
                       embedding_model=str(body.get("embedding_model", "")),
                       created_at=str(body.get("created_at", "")))
        except (ValueError, KeyError, TypeError, AttributeError, InvalidRequest) as exc:
            logger.error("memory manifest is malformed: %s", type(exc).__name__)
            raise SnapshotCorrupt() from exc


@dataclass(frozen=True)
class Committed:
    """A manifest as read, with the generation that a publish must name as its precondition."""

    manifest: Manifest
    generation: int


def new_snapshot_id(now: datetime) -> str:
    return f"{int(now.timestamp() * 1000):013d}-{uuid.uuid4().hex[:16]}"


def snapshot_time(snapshot_id: str) -> datetime | None:
    match = _SNAPSHOT_ID.fullmatch(snapshot_id)
    return datetime.fromtimestamp(int(match.group(1)) / 1000, timezone.utc) if match else None


def _file_key(snapshot_id: str, path: str) -> str:
    return f"{SNAPSHOTS_PREFIX}{snapshot_id}/{path}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SnapshotStore:
    """Reads, publishes and collects one tenant's snapshots in a :class:`BlobStore`."""

    def __init__(self, blobs: BlobStore, *, clock: Callable[[], datetime] = _utcnow,
                 gc_grace: timedelta = GC_GRACE) -> None:
        self._blobs = blobs
        self._clock = clock
        self._gc_grace = gc_grace

    # --- reading ----------------------------------------------------------------------------------
    def current_generation(self, *, tenant_id: str) -> int:
        """The manifest's generation (0 when the tenant has none), from metadata only."""
        info = self._blobs.stat(MANIFEST_KEY, tenant_id=tenant_id)
        return info.generation if info else 0

    def read_manifest(self, *, tenant_id: str) -> Committed | None:
        try:
            blob = self._blobs.read(MANIFEST_KEY, tenant_id=tenant_id)
        except BlobNotFound:
            return None
        return Committed(Manifest.from_bytes(blob.data), blob.generation)

    def download(self, manifest: Manifest, dest: Path, *, tenant_id: str) -> int:
        """Write the snapshot's files under ``dest`` (verified); return the bytes read.

        :class:`BlobNotFound` if a file is gone (the snapshot was collected: re-read the manifest);
        :class:`SnapshotCorrupt` if a file does not match the manifest.
        """
        total = 0
        for item in manifest.files:
            data = self._blobs.read(_file_key(manifest.snapshot_id, item.path), tenant_id=tenant_id).data
            if len(data) != item.size or _sha256(data) != item.sha256:
                logger.error("memory snapshot file failed verification (tenant %s, snapshot %s)",
                             tenant_id, manifest.snapshot_id)
                raise SnapshotCorrupt()
            target = dest.joinpath(*item.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            total += len(data)
        return total

    # --- publishing -------------------------------------------------------------------------------
    def upload(self, source: Path, *, tenant_id: str, previous: Manifest | None, embedding_model: str) -> Manifest:
        """Upload every file under ``source`` as a new snapshot; return its (uncommitted) manifest."""
        now = self._clock()
        snapshot_id = new_snapshot_id(now)
        files = []
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source).as_posix()
            data = path.read_bytes()
            self._write_once(_file_key(snapshot_id, relative), data, tenant_id=tenant_id)
            files.append(SnapshotFile(relative, len(data), _sha256(data)))
        return Manifest(snapshot_id=snapshot_id, files=tuple(files),
                        previous_snapshot_id=previous.snapshot_id if previous else None,
                        embedding_model=embedding_model, created_at=now.isoformat())

    def _write_once(self, key: str, data: bytes, *, tenant_id: str) -> None:
        # The precondition makes the adapter's retries safe; a mismatch on a key under a fresh id
        # can only be our own earlier attempt whose answer was lost, so we check it is that.
        try:
            self._blobs.write(key, data, tenant_id=tenant_id, if_generation_match=0)
        except GenerationMismatch:
            if _sha256(self._blobs.read(key, tenant_id=tenant_id).data) != _sha256(data):
                raise

    def commit(self, manifest: Manifest, *, tenant_id: str, expected_generation: int) -> int:
        """Make ``manifest`` live if the manifest is still at ``expected_generation``.

        Returns the new generation; :class:`GenerationMismatch` if another writer committed first.
        """
        return self._blobs.write(MANIFEST_KEY, manifest.to_bytes(), tenant_id=tenant_id,
                                 if_generation_match=expected_generation, content_type="application/json")

    def discard(self, snapshot_id: str, *, tenant_id: str) -> int:
        """Delete an uncommitted snapshot (after a lost race)."""
        return self._blobs.delete_prefix(f"{SNAPSHOTS_PREFIX}{snapshot_id}/", tenant_id=tenant_id)

    def collect_garbage(self, current: Manifest, *, tenant_id: str) -> int:
        """Delete snapshots other than ``current`` and its predecessor that are older than the grace."""
        keep = {current.snapshot_id, current.previous_snapshot_id}
        current_time = snapshot_time(current.snapshot_id)
        if current_time is None:
            return 0
        stale = set()
        for info in self._blobs.list(SNAPSHOTS_PREFIX, tenant_id=tenant_id):
            snapshot_id = info.key[len(SNAPSHOTS_PREFIX):].split("/", 1)[0]
            created = snapshot_time(snapshot_id)
            if snapshot_id not in keep and created is not None and created < current_time - self._gc_grace:
                stale.add(snapshot_id)
        deleted = sum(self.discard(snapshot_id, tenant_id=tenant_id) for snapshot_id in sorted(stale))
        if deleted:
            logger.info("memory snapshots collected (tenant %s): %d objects", tenant_id, deleted)
        return deleted

    def delete_all(self, *, tenant_id: str) -> int:
        """Delete the manifest first (readers then see an empty memory), then every snapshot."""
        count = 0
        try:
            self._blobs.delete(MANIFEST_KEY, tenant_id=tenant_id)
            count += 1
        except BlobNotFound:
            pass
        return count + self._blobs.delete_prefix(ROOT, tenant_id=tenant_id)
