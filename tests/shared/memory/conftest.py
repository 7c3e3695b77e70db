"""Fixtures of the memory tests: the real embedding model, both blob adapters, a SQLite document
store, and a blob store wrapper that counts traffic and can interrupt a publish.

``memory_backend`` is parametrised over the local folder adapter and Cloud Storage on
fake-gcs-server (one emulator per session, a new bucket per test), so the core tests run unchanged
on both. The wrapper is a test double of the BlobStore *port* (it delegates every call to a real
adapter); nothing of the project is patched.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.blobs.base import Blob, BlobInfo, BlobStore
from shared.blobs.errors import GenerationMismatch
from shared.memory.embeddings import Embedder
from shared.memory.errors import EmbeddingModelUnavailable
from shared.memory.model_files import locate_model
from shared.memory.snapshot import MANIFEST_KEY
from shared.store.sqlite import SqliteDocumentStore
from tests.support.gcs_emulator import EmulatorUnavailable, GcsEmulator, gcs_emulator
from tests.support.requires import unavailable


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The installed model (``python -m shared.memory.fetch_model``), loaded once for the session."""
    try:
        files = locate_model()
    except EmbeddingModelUnavailable as exc:
        unavailable(f"embedding model: {exc.message}")
    model = Embedder(files)
    model.embed(["warm up"])
    return model


@pytest.fixture
def no_network(monkeypatch) -> list[object]:
    """Refuse every socket connection except to 127.0.0.1 / ::1; return the refused addresses."""
    refused: list[object] = []
    original = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            refused.append(address)
            raise OSError(f"network access refused in tests: {address!r}")
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return refused


class Interrupted(BaseException):
    """Raised by :class:`TrafficBlobStore` to stop a writer as if its process died."""


@dataclass
class TrafficBlobStore:
    """Delegates to a real adapter; counts reads and bytes; can run a hook before a manifest write."""

    inner: BlobStore
    reads: int = 0
    bytes_read: int = 0
    manifest_writes: int = 0
    before_manifest_write: Callable[[], None] | None = None
    lose_next_manifest_answer: bool = False  # write it, then answer as a retry after a lost reply would
    log: list[str] = field(default_factory=list)

    def read(self, key: str, *, tenant_id: str) -> Blob:
        blob = self.inner.read(key, tenant_id=tenant_id)
        self.reads += 1
        self.bytes_read += len(blob.data)
        self.log.append(f"read {key}")
        return blob

    def write(self, key: str, data: bytes, *, tenant_id: str, if_generation_match: int | None = None,
              content_type: str = "application/octet-stream") -> int:
        if key == MANIFEST_KEY:
            self.manifest_writes += 1
            hook, self.before_manifest_write = self.before_manifest_write, None  # once
            if hook is not None:
                hook()
        self.log.append(f"write {key}")
        generation = self.inner.write(key, data, tenant_id=tenant_id, if_generation_match=if_generation_match,
                                      content_type=content_type)
        if key == MANIFEST_KEY and self.lose_next_manifest_answer:
            self.lose_next_manifest_answer = False
            raise GenerationMismatch()
        return generation

    def delete(self, key: str, *, tenant_id: str, if_generation_match: int | None = None) -> None:
        self.inner.delete(key, tenant_id=tenant_id, if_generation_match=if_generation_match)

    def stat(self, key: str, *, tenant_id: str) -> BlobInfo | None:
        return self.inner.stat(key, tenant_id=tenant_id)

    def list(self, prefix: str = "", *, tenant_id: str) -> list[BlobInfo]:
        return self.inner.list(prefix, tenant_id=tenant_id)

    def delete_prefix(self, prefix: str = "", *, tenant_id: str) -> int:
        return self.inner.delete_prefix(prefix, tenant_id=tenant_id)

    def reset(self) -> None:
        self.reads = self.bytes_read = self.manifest_writes = 0
        self.log.clear()


class FakeClock:
    """An injected clock the tests move by hand (lease expiry, snapshot ages)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    def sleep(self, seconds: float) -> None:
        self.advance(seconds=seconds)


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsEmulator]:
    stack = ExitStack()
    try:
        emulator = stack.enter_context(gcs_emulator())
    except EmulatorUnavailable as exc:
        unavailable(f"fake-gcs-server: {exc}")
    with stack:
        yield emulator


@dataclass
class Backend:
    name: str
    new_blobs: Callable[[], BlobStore]  # another adapter instance over the same storage


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.emulator)])
def memory_backend(request, tmp_path) -> Backend:
    if request.param == "local":
        from shared.blobs.local import LocalBlobStore

        root = tmp_path / "blobs"
        return Backend("local", lambda: LocalBlobStore(root))
    from shared.blobs.gcs import GcsBlobStore

    emulator: GcsEmulator = request.getfixturevalue("gcs_server")
    bucket = emulator.create_bucket()
    return Backend("gcs", lambda: GcsBlobStore(emulator.client(), bucket))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def documents_path(tmp_path) -> Path:
    return tmp_path / "documents.sqlite3"


@pytest.fixture
def make_memory(memory_backend, embedder, tmp_path, clock, documents_path) -> Iterator[Callable[..., object]]:
    """``make_memory(**overrides) -> (service, traffic)``: a new instance (own cache, own adapter)."""
    from shared.memory.memory import MemoryService

    services: list[MemoryService] = []
    stores: list[SqliteDocumentStore] = []

    def factory(**overrides):
        blobs = TrafficBlobStore(memory_backend.new_blobs())
        documents = SqliteDocumentStore(documents_path, clock=clock)
        stores.append(documents)
        options = {"cache_dir": tmp_path / "cache", "clock": clock, "sleep": clock.sleep,
                   "lease_wait": 2.0, "lease_poll": 0.5}
        options.update(overrides)
        service = MemoryService(blobs, documents, embedder, **options)
        services.append(service)
        return service, blobs

    yield factory
    for service in services:
        with contextlib.suppress(Exception):
            service.close()
    for store in stores:
        store.close()
