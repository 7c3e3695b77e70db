"""The blob store on a local folder (the ``local`` profile): one plain file per object.

Layout under ``root``::

    tenants/{tenant_id}/{key}            the object's bytes, exactly as written
    tenants/{tenant_id}/.blobs.sqlite3   the index: key -> generation, size (listing reads it)
    tenants/{tenant_id}/.lock            flock target: exclusive to change, shared to read

Keys can never start a segment with ``.`` (see :func:`shared.blobs.base.validate_key`), so the
index, the lock and temporary files never collide with an object.

Concurrency: every operation holds ``fcntl.flock`` on its tenant's lock file, exclusive for writes
and deletes and shared for reads, so a precondition is checked and applied atomically across
threads and processes (one flock per open file description, so threads of one process exclude each
other too). Linux and macOS only.

Crash safety: a write stages the bytes in a temporary file beside the target, then commits the new
generation together with that file's name (``pending``) in the index, then renames it into place.
Until the rename is recorded, readers read the pending file if it still exists and the next writer
finishes the rename, so one generation never labels two different contents.

Difference from Cloud Storage: a key cannot be both an object and a "folder" of other objects
(``a`` and ``a/b``) because a path cannot be both a file and a directory; such a write raises
:class:`~shared.errors.InvalidRequest` naming the key.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from shared.blobs.base import Blob, BlobInfo, tenant_prefix, validate_generation_match, validate_key, validate_payload
from shared.blobs.errors import BlobError, BlobNotFound, GenerationMismatch
from shared.errors import AppError, InvalidRequest

logger = logging.getLogger(__name__)

_INDEX = ".blobs.sqlite3"
_LOCK = ".lock"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    pending TEXT
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""




def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """A :class:`~shared.blobs.base.BlobStore` over ``root/tenants/{tenant_id}/``."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()

    @classmethod
    def from_settings(cls, settings: Any) -> LocalBlobStore:
        """The store of the ``local`` profile: ``{data_dir}/blobs``."""
        return cls(Path(settings.data_dir) / "blobs")

    # --- the port -------------------------------------------------------------------------------

    def read(self, key: str, *, tenant_id: str) -> Blob:
        """The live object; BlobNotFound if absent."""
        base = self._tenant_dir(tenant_id)
        key = validate_key(key)
        path = self._object_path(base, key)
        with self._backend_errors("read"):
            if not base.is_dir():
                raise BlobNotFound()
            with self._locked(base, exclusive=False), self._index(base, create=False) as db:
                row = self._row(db, key)
                if row is None:
                    raise BlobNotFound()
                source = self._pending_path(base, row) or path
                try:
                    data = source.read_bytes()
                except FileNotFoundError:
                    logger.warning("local blob store: indexed object has no file (tenant %s)", tenant_id)
                    raise BlobNotFound() from None
        return Blob(key=key, data=data, generation=row["generation"])

    def write(self, key: str, data: bytes, *, tenant_id: str, if_generation_match: int | None = None,
              content_type: str = "application/octet-stream") -> int:
        """Store ``data``; return the new generation. GenerationMismatch if the precondition fails."""
        base = self._tenant_dir(tenant_id)
        key = validate_key(key)
        payload = validate_payload(data)
        expected = validate_generation_match(if_generation_match)
        path = self._object_path(base, key)
        with self._backend_errors("write"):
            base.mkdir(parents=True, exist_ok=True)
            with self._locked(base, exclusive=True), self._index(base, create=True) as db:
                row = self._row(db, key)
                if row is not None:
                    self._finish_pending(base, db, row, path)
                _check_precondition(row["generation"] if row else None, expected)
                self._refuse_folder_collision(db, key, path)
                path.parent.mkdir(parents=True, exist_ok=True)
                staged = self._stage(path, payload)
                try:
                    generation = self._commit(db, key, payload, content_type, staged.relative_to(base))
                except BaseException:
                    staged.unlink(missing_ok=True)
                    raise
                os.replace(staged, path)
                _fsync_dir(path.parent)
                db.execute("UPDATE objects SET pending = NULL WHERE key = ?", (key,))
        return generation

    def delete(self, key: str, *, tenant_id: str, if_generation_match: int | None = None) -> None:
        """Delete the object; BlobNotFound if absent; GenerationMismatch if the precondition fails."""
        base = self._tenant_dir(tenant_id)
        key = validate_key(key)
        expected = validate_generation_match(if_generation_match)
        path = self._object_path(base, key)
        with self._backend_errors("delete"):
            if not base.is_dir():
                raise BlobNotFound()
            with self._locked(base, exclusive=True), self._index(base, create=True) as db:
                row = self._row(db, key)
                if row is None:
                    raise BlobNotFound()
                _check_precondition(row["generation"], expected)
                db.execute("DELETE FROM objects WHERE key = ?", (key,))  # the commit point
                self._remove_files(base, [(path, row["pending"])])

    def stat(self, key: str, *, tenant_id: str) -> BlobInfo | None:
        """Key, generation and size of the live object, or None if absent."""
        base = self._tenant_dir(tenant_id)
        key = validate_key(key)
        self._object_path(base, key)  # refuse symlinked paths here too, as read() does
        with self._backend_errors("stat"):
            if not base.is_dir():
                return None
            with self._locked(base, exclusive=False), self._index(base, create=False) as db:
                row = self._row(db, key)
        return BlobInfo(key=key, generation=row["generation"], size=row["size"]) if row else None

    def list(self, prefix: str = "", *, tenant_id: str) -> list[BlobInfo]:
        """Objects whose relative key starts with ``prefix``, sorted by key."""
        base = self._tenant_dir(tenant_id)
        prefix = validate_key(prefix, allow_empty=True, field="prefix")
        with self._backend_errors("list"):
            if not base.is_dir():
                return []
            with self._locked(base, exclusive=False), self._index(base, create=False) as db:
                rows = self._rows_under(db, prefix)
        return [BlobInfo(key=row["key"], generation=row["generation"], size=row["size"]) for row in rows]

    def delete_prefix(self, prefix: str = "", *, tenant_id: str) -> int:
        """Delete every object under ``prefix`` (the whole tenant when empty); return how many."""
        base = self._tenant_dir(tenant_id)
        prefix = validate_key(prefix, allow_empty=True, field="prefix")
        with self._backend_errors("delete_prefix"):
            if not base.is_dir():
                return 0
            with self._locked(base, exclusive=True), self._index(base, create=True) as db:
                rows = self._rows_under(db, prefix)
                db.execute("BEGIN IMMEDIATE")
                db.executemany("DELETE FROM objects WHERE key = ?", [(row["key"],) for row in rows])
                db.execute("COMMIT")
                self._remove_files(base, [(base / row["key"], row["pending"]) for row in rows])
        return len(rows)

    # --- paths ------------------------------------------------------------------------------------

    def _tenant_dir(self, tenant_id: str) -> Path:
        base = self._root / tenant_prefix(tenant_id)
        # Defence in depth: the id is validated, but a symlinked tenant folder would still alias
        # another tenant or leave the root.
        if base.resolve() != base:
            logger.warning("local blob store: refused a symlinked tenant folder (tenant %s)", tenant_id)
            raise InvalidRequest("The tenant_id is invalid.", field="tenant_id")
        return base

    def _object_path(self, base: Path, key: str) -> Path:
        path = base / key
        # validate_key already forbids "..", "." and absolute keys; resolving also refuses any
        # symlink on the way, which could point outside the tenant or alias another key.
        if path.resolve() != path or not path.is_relative_to(base):
            logger.warning("local blob store: refused a key whose path is a symlink or escapes its tenant")
            raise InvalidRequest("The key is invalid.", field="key")
        return path

    @staticmethod
    def _pending_path(base: Path, row: sqlite3.Row) -> Path | None:
        if row["pending"]:
            pending = base / row["pending"]
            if pending.exists():
                return pending
        return None

    # --- locking and the index -------------------------------------------------------------------

    @staticmethod
    @contextmanager
    def _locked(base: Path, *, exclusive: bool) -> Iterator[None]:
        fd = os.open(base / _LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    @staticmethod
    @contextmanager
    def _index(base: Path, *, create: bool) -> Iterator[sqlite3.Connection]:
        path = base / _INDEX
        if not create and not path.exists():
            # No index yet means no objects: an in-memory empty one keeps callers uniform.
            path = Path(":memory:")
            create = True
        with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            if create:
                db.executescript(_SCHEMA)
            yield db

    @staticmethod
    def _row(db: sqlite3.Connection, key: str) -> sqlite3.Row | None:
        return db.execute("SELECT * FROM objects WHERE key = ?", (key,)).fetchone()

    @staticmethod
    def _rows_under(db: sqlite3.Connection, prefix: str) -> list[sqlite3.Row]:
        # BINARY collation orders by UTF-8 bytes, as Cloud Storage lists.
        return db.execute(
            "SELECT * FROM objects WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix)
        ).fetchall()

    @staticmethod
    def _commit(db: sqlite3.Connection, key: str, payload: bytes, content_type: str, staged: Path) -> int:
        """Record the new generation and the staged file in one transaction; return the generation."""
        db.execute("BEGIN IMMEDIATE")
        try:
            last = db.execute("SELECT value FROM counters WHERE name = 'generation'").fetchone()
            # Microseconds like Cloud Storage, and above every generation this tenant ever had, so
            # a deleted and re-created key never reuses a generation a stale reader may hold.
            generation = max((last[0] if last else 0) + 1, time.time_ns() // 1000)
            db.execute(
                "INSERT INTO counters (name, value) VALUES ('generation', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (generation,),
            )
            db.execute(
                "INSERT INTO objects (key, generation, size, content_type, pending) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET generation = excluded.generation, size = excluded.size, "
                "content_type = excluded.content_type, pending = excluded.pending",
                (key, generation, len(payload), content_type, str(staged)),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return generation

    # --- files ------------------------------------------------------------------------------------

    @staticmethod
    def _stage(path: Path, payload: bytes) -> Path:
        staged = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(staged, "xb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged

    def _finish_pending(self, base: Path, db: sqlite3.Connection, row: sqlite3.Row, path: Path) -> None:
        """Complete a rename a crashed writer had committed but not done."""
        pending = self._pending_path(base, row)
        if pending is not None:
            os.replace(pending, path)
        if row["pending"]:
            db.execute("UPDATE objects SET pending = NULL WHERE key = ?", (row["key"],))

    @staticmethod
    def _refuse_folder_collision(db: sqlite3.Connection, key: str, path: Path) -> None:
        segments = key.split("/")
        ancestors = ["/".join(segments[:i]) for i in range(1, len(segments))]
        clash = any(db.execute("SELECT 1 FROM objects WHERE key = ?", (a,)).fetchone() for a in ancestors)
        folder = key + "/"
        clash = clash or db.execute(
            "SELECT 1 FROM objects WHERE substr(key, 1, ?) = ? LIMIT 1", (len(folder), folder)
        ).fetchone() is not None
        if clash:
            raise InvalidRequest(
                "The key collides with another object's folder; the local store cannot hold both.", field="key"
            )
        if path.is_dir():
            path.rmdir()  # an empty folder left by deleted objects; non-empty raises -> BlobError

    @staticmethod
    def _remove_files(base: Path, targets: list[tuple[Path, str | None]]) -> None:
        for path, pending in targets:
            if path.resolve() != path:
                # A folder swapped for a symlink since the write: the index entry is gone, but
                # never unlink through the link (it may point outside the tenant).
                logger.warning("local blob store: left a file behind a symlink undeleted")
                continue
            path.unlink(missing_ok=True)
            if pending:
                (base / pending).unlink(missing_ok=True)
            for parent in path.parents:
                if parent == base or not parent.is_relative_to(base):
                    break
                try:
                    parent.rmdir()  # only succeeds when empty: keeps the tree free of dead folders
                except OSError:
                    break

    @staticmethod
    @contextmanager
    def _backend_errors(operation: str) -> Iterator[None]:
        """Turn file-system and SQLite failures into BlobError; let the port's own errors through."""
        try:
            yield
        except AppError:
            raise
        except (OSError, sqlite3.Error) as exc:
            logger.warning("local blob store %s failed: %s", operation, type(exc).__name__)
            raise BlobError() from exc


def _check_precondition(current: int | None, expected: int | None) -> None:
    """Cloud Storage semantics: 0 means "absent"; a positive value must equal the live generation."""
    # Generations are never 0, so an absent object compares as 0.
    if expected is not None and (current or 0) != expected:
        raise GenerationMismatch()
