"""Fixtures of the blob store tests: one emulator per session, a fresh backend per test.

``backend`` is parametrised over both adapters so the contract tests run unchanged against the
local folder and against Cloud Storage (fake-gcs-server, a new bucket per test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.blobs.base import BlobStore
from shared.blobs.gcs import GcsBlobStore
from shared.blobs.local import LocalBlobStore
from tests.support.gcs_emulator import EmulatorUnavailable, GcsEmulator, gcs_emulator
from tests.support.requires import unavailable


@dataclass
class Backend:
    """An adapter under test plus ways to look behind it."""

    name: str
    store: BlobStore
    new_store: Callable[[], BlobStore]  # another instance (own client) over the same storage
    raw_names: Callable[[], list[str]]  # every object name the backend holds, bypassing the port


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsEmulator]:
    stack = ExitStack()
    try:
        emulator = stack.enter_context(gcs_emulator())
    except EmulatorUnavailable as exc:
        unavailable(f"fake-gcs-server: {exc}")
    with stack:
        yield emulator


def local_backend(root: Path) -> Backend:
    def raw_names() -> list[str]:
        # Objects only: the index, the lock and staged files all start with ".".
        return sorted(
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )

    return Backend("local", LocalBlobStore(root), lambda: LocalBlobStore(root), raw_names)


def gcs_backend(emulator: GcsEmulator) -> Backend:
    client = emulator.client()
    bucket = emulator.create_bucket(client=client)

    def raw_names() -> list[str]:
        return sorted(blob.name for blob in client.list_blobs(bucket))

    return Backend("gcs", GcsBlobStore(client, bucket), lambda: GcsBlobStore(emulator.client(), bucket), raw_names)


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.emulator)])
def backend(request, tmp_path) -> Backend:
    if request.param == "local":
        return local_backend(tmp_path / "blobs")
    return gcs_backend(request.getfixturevalue("gcs_server"))
