"""What only the local-folder adapter has: its layout, flock across processes, symlink defences,
crash recovery, and the file-versus-folder limitation. The shared contract is in test_contract.py."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from shared.blobs.base import Blob, BlobInfo
from shared.blobs.errors import BlobError, BlobNotFound, GenerationMismatch
from shared.blobs.local import LocalBlobStore
from shared.config import Settings
from shared.errors import InvalidRequest

ROOT = Path(__file__).resolve().parents[3]
A = "tenant-a"
B = "tenant-b"


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(root) -> LocalBlobStore:
    return LocalBlobStore(root)


def test_objects_are_plain_files_under_the_tenant_folder(store, root):
    store.write("snapshots/chroma.sqlite3", b"\x00bytes\xff", tenant_id=A)

    assert (root / "tenants" / A / "snapshots" / "chroma.sqlite3").read_bytes() == b"\x00bytes\xff"
    hidden = sorted(p.name for p in (root / "tenants" / A).iterdir() if p.name.startswith("."))
    assert hidden == [".blobs.sqlite3", ".lock"]  # no staged temporary file left behind
    assert list((root / "tenants" / A / "snapshots").iterdir()) == [root / "tenants" / A / "snapshots" / "chroma.sqlite3"]


def test_from_settings_uses_the_data_dir(tmp_path):
    store = LocalBlobStore.from_settings(Settings(data_dir=tmp_path / "data"))

    store.write("k", b"v", tenant_id=A)

    assert (tmp_path / "data" / "blobs" / "tenants" / A / "k").read_bytes() == b"v"


def test_a_symlinked_root_is_followed_once(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")

    LocalBlobStore(tmp_path / "link").write("k", b"v", tenant_id=A)

    assert (tmp_path / "real" / "tenants" / A / "k").read_bytes() == b"v"


def test_deleting_the_last_object_of_a_folder_removes_the_empty_folders(store, root):
    store.write("a/b/c/d", b"1", tenant_id=A)
    store.write("a/keep", b"2", tenant_id=A)

    store.delete("a/b/c/d", tenant_id=A)

    assert not (root / "tenants" / A / "a" / "b").exists()
    assert (root / "tenants" / A / "a" / "keep").exists()


# --- concurrency across processes ----------------------------------------------------------------

_INCREMENTER = r"""
import sys, time
from pathlib import Path
from shared.blobs.errors import BlobNotFound, GenerationMismatch
from shared.blobs.local import LocalBlobStore

root, barrier, index, count, increments = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
(barrier / index).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < count and time.monotonic() < deadline:
    time.sleep(0.005)  # a start barrier, so the processes really overlap
store = LocalBlobStore(root)
for _ in range(increments):
    while True:
        try:
            blob = store.read("counter", tenant_id="tenant-a")
            value, expected = int(blob.data), blob.generation
        except BlobNotFound:
            value, expected = 0, 0
        try:
            store.write("counter", str(value + 1).encode(), tenant_id="tenant-a", if_generation_match=expected)
            break
        except GenerationMismatch:
            continue
"""


def test_preconditions_hold_across_processes(store, root, tmp_path):
    processes_count, increments = 3, 10
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _INCREMENTER, str(root), str(barrier), str(i), str(processes_count), str(increments)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for i in range(processes_count)
    ]
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode:
            failures.append(stderr.decode()[-2000:])

    assert failures == []
    assert int(store.read("counter", tenant_id=A).data) == processes_count * increments


# --- symlink defences ----------------------------------------------------------------------------


def test_a_symlinked_folder_inside_the_tenant_is_refused(store, root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    store.write("real", b"x", tenant_id=A)
    (root / "tenants" / A / "link").symlink_to(outside)

    for call in (
        lambda: store.write("link/planted", b"x", tenant_id=A),
        lambda: store.read("link/secret", tenant_id=A),
        lambda: store.stat("link/secret", tenant_id=A),
        lambda: store.delete("link/secret", tenant_id=A),
    ):
        with pytest.raises(InvalidRequest) as caught:
            call()
        assert caught.value.field == "key"

    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"not yours"


def test_an_object_file_replaced_by_a_symlink_is_not_followed(store, root, tmp_path):
    store.write("doc", b"mine", tenant_id=A)
    target = tmp_path / "elsewhere"
    target.write_bytes(b"private")
    (root / "tenants" / A / "doc").unlink()
    (root / "tenants" / A / "doc").symlink_to(target)

    with pytest.raises(InvalidRequest):
        store.read("doc", tenant_id=A)
    with pytest.raises(InvalidRequest):
        store.write("doc", b"overwrite", tenant_id=A)
    assert target.read_bytes() == b"private"


def test_a_symlink_to_another_tenant_is_refused(store, root):
    store.write("plan", b"A's", tenant_id=A)
    (root / "tenants" / B).symlink_to(root / "tenants" / A)

    for call in (
        lambda: store.read("plan", tenant_id=B),
        lambda: store.list(tenant_id=B),
        lambda: store.delete_prefix(tenant_id=B),
        lambda: store.write("plan", b"B's", tenant_id=B),
    ):
        with pytest.raises(InvalidRequest) as caught:
            call()
        assert caught.value.field == "tenant_id"
    assert store.read("plan", tenant_id=A).data == b"A's"


def test_a_symlink_inside_one_tenant_cannot_reach_another(store, root):
    store.write("plan", b"A's", tenant_id=A)
    store.write("own", b"B's", tenant_id=B)
    (root / "tenants" / B / "peek").symlink_to(root / "tenants" / A)

    with pytest.raises(InvalidRequest):
        store.read("peek/plan", tenant_id=B)
    with pytest.raises(InvalidRequest):
        store.delete("peek/plan", tenant_id=B)
    assert store.read("plan", tenant_id=A).data == b"A's"


def test_delete_prefix_never_unlinks_through_a_swapped_in_symlink(store, root, tmp_path):
    store.write("a/b", b"mine", tenant_id=A)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b").write_bytes(b"not yours")
    folder = root / "tenants" / A / "a"
    (folder / "b").unlink()
    folder.rmdir()
    folder.symlink_to(outside)  # "a" now leads outside the tenant

    assert store.delete_prefix(tenant_id=A) == 1

    assert (outside / "b").read_bytes() == b"not yours"
    assert store.list(tenant_id=A) == []


# --- crash recovery and limitations --------------------------------------------------------------


def _simulate_crash_after_commit(root: Path, key: str, data: bytes, generation: int) -> Path:
    """The state a writer leaves when it dies after committing the index, before the rename."""
    folder = root / "tenants" / A
    staged = folder / f".{key}.deadbeef.tmp"
    staged.write_bytes(data)
    with sqlite3.connect(folder / ".blobs.sqlite3") as db:
        db.execute(
            "UPDATE objects SET generation = ?, size = ?, pending = ? WHERE key = ?",
            (generation, len(data), staged.name, key),
        )
        db.execute("UPDATE counters SET value = ? WHERE name = 'generation'", (generation,))
    return staged


def test_a_write_committed_before_a_crash_is_read_and_completed(store, root):
    first = store.write("doc", b"old", tenant_id=A)
    staged = _simulate_crash_after_commit(root, "doc", b"new", first + 1)

    assert store.read("doc", tenant_id=A) == Blob("doc", b"new", first + 1)
    assert store.stat("doc", tenant_id=A) == BlobInfo("doc", first + 1, 3)
    with pytest.raises(GenerationMismatch):
        store.write("doc", b"lost", tenant_id=A, if_generation_match=first)

    latest = store.write("doc", b"newer", tenant_id=A, if_generation_match=first + 1)

    assert latest > first + 1
    assert store.read("doc", tenant_id=A) == Blob("doc", b"newer", latest)
    assert not staged.exists()


def test_a_key_cannot_be_both_an_object_and_a_folder(store):
    store.write("a", b"file", tenant_id=A)
    store.write("b/c", b"nested", tenant_id=A)

    with pytest.raises(InvalidRequest) as caught:
        store.write("a/b", b"x", tenant_id=A)
    assert caught.value.field == "key"
    with pytest.raises(InvalidRequest):
        store.write("b", b"x", tenant_id=A)
    assert store.read("a", tenant_id=A).data == b"file"
    assert store.read("b/c", tenant_id=A).data == b"nested"


def test_an_unusable_root_raises_blob_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")  # the root's place is taken by a regular file
    store = LocalBlobStore(blocker)

    with pytest.raises(BlobError):
        store.write("k", b"v", tenant_id=A)
    with pytest.raises(BlobNotFound):
        store.read("k", tenant_id=A)
    assert store.list(tenant_id=A) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_an_unwritable_tenant_folder_raises_blob_error(store, root):
    store.write("k", b"v", tenant_id=A)
    folder = root / "tenants" / A
    folder.chmod(0o500)
    try:
        with pytest.raises(BlobError):
            store.write("other", b"v", tenant_id=A)
    finally:
        folder.chmod(0o700)
    assert store.read("k", tenant_id=A).data == b"v"
