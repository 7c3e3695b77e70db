"""Snapshots in the blob store: manifest validation, verified downloads, the commit precondition,
and garbage collection that never deletes an upload still in flight."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.blobs.errors import GenerationMismatch
from shared.blobs.local import LocalBlobStore
from shared.memory.errors import SnapshotCorrupt
from shared.memory.snapshot import SNAPSHOTS_PREFIX, Manifest, SnapshotStore
from tests.shared.memory.conftest import FakeClock

T = "tenant-a"


@pytest.fixture
def env(tmp_path):
    clock = FakeClock()
    blobs = LocalBlobStore(tmp_path / "blobs")
    source = tmp_path / "chroma"
    (source / "0b6f-segment").mkdir(parents=True)
    (source / "chroma.sqlite3").write_bytes(b"sqlite" * 100)
    (source / "0b6f-segment" / "header.bin").write_bytes(b"\x00\x01" * 50)
    (source / "0b6f-segment" / "link_lists.bin").write_bytes(b"")
    return SnapshotStore(blobs, clock=clock), blobs, clock, source, tmp_path


def _ids(blobs):
    return {i.key[len(SNAPSHOTS_PREFIX):].split("/", 1)[0] for i in blobs.list(SNAPSHOTS_PREFIX, tenant_id=T)}


def test_upload_commit_download_round_trip(env):
    snapshots, blobs, clock, source, tmp = env
    assert snapshots.read_manifest(tenant_id=T) is None
    assert snapshots.current_generation(tenant_id=T) == 0
    manifest = snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m")
    assert [f.path for f in manifest.files] == ["0b6f-segment/header.bin", "0b6f-segment/link_lists.bin", "chroma.sqlite3"]
    generation = snapshots.commit(manifest, tenant_id=T, expected_generation=0)
    committed = snapshots.read_manifest(tenant_id=T)
    assert (committed.manifest, committed.generation) == (manifest, generation)
    assert snapshots.current_generation(tenant_id=T) == generation

    target = tmp / "restored"
    assert snapshots.download(manifest, target, tenant_id=T) == 600 + 100
    assert (target / "chroma.sqlite3").read_bytes() == (source / "chroma.sqlite3").read_bytes()
    assert (target / "0b6f-segment" / "link_lists.bin").read_bytes() == b""


def test_only_one_of_two_writers_from_the_same_generation_commits(env):
    snapshots, blobs, clock, source, _ = env
    first = snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m")
    second = snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m")
    generation = snapshots.commit(first, tenant_id=T, expected_generation=0)
    with pytest.raises(GenerationMismatch):
        snapshots.commit(second, tenant_id=T, expected_generation=0)
    assert snapshots.read_manifest(tenant_id=T).generation == generation
    assert snapshots.discard(second.snapshot_id, tenant_id=T) == 3
    assert _ids(blobs) == {first.snapshot_id}


def test_tampered_file_fails_verification(env):
    snapshots, blobs, clock, source, tmp = env
    manifest = snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m")
    blobs.write(f"{SNAPSHOTS_PREFIX}{manifest.snapshot_id}/chroma.sqlite3", b"sqlite" * 99 + b"sqlitX", tenant_id=T)
    with pytest.raises(SnapshotCorrupt):
        snapshots.download(manifest, tmp / "restored", tenant_id=T)


@pytest.mark.parametrize("mutate", [
    lambda body: body.update(format=2),
    lambda body: body["files"][0].update(path="../outside"),
    lambda body: body["files"][0].update(sha256="abc"),
    lambda body: body["files"][0].update(size=-1),
    lambda body: body.update(snapshot_id="not-an-id"),
    lambda body: body.pop("files"),
])
def test_malformed_manifests_are_refused(env, mutate):
    snapshots, blobs, clock, source, _ = env
    body = json.loads(snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m").to_bytes())
    mutate(body)
    with pytest.raises(SnapshotCorrupt):
        Manifest.from_bytes(json.dumps(body).encode())
    with pytest.raises(SnapshotCorrupt):
        Manifest.from_bytes(b"\xff not json")


def test_gc_keeps_current_previous_and_newer_uploads(env):
    snapshots, blobs, clock, source, _ = env
    oldest = snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m")
    clock.advance(minutes=5)
    previous = snapshots.upload(source, tenant_id=T, previous=oldest, embedding_model="m")
    clock.advance(minutes=5)
    current = snapshots.upload(source, tenant_id=T, previous=previous, embedding_model="m")
    clock.advance(seconds=30)
    in_flight = snapshots.upload(source, tenant_id=T, previous=current, embedding_model="m")
    recent_orphan_time = clock.now
    generation = snapshots.commit(current, tenant_id=T, expected_generation=0)

    assert snapshots.collect_garbage(current, tenant_id=T) == 3  # the oldest snapshot's three files
    assert _ids(blobs) == {previous.snapshot_id, current.snapshot_id, in_flight.snapshot_id}
    assert recent_orphan_time > clock.now - timedelta(minutes=1)
    assert snapshots.read_manifest(tenant_id=T).generation == generation

    assert snapshots.delete_all(tenant_id=T) == 1 + 9
    assert blobs.list("", tenant_id=T) == []


def test_an_upload_retried_after_a_lost_answer_is_accepted(env):
    snapshots, blobs, clock, source, _ = env
    manifest = snapshots.upload(source, tenant_id=T, previous=None, embedding_model="m")
    # Writing the same bytes again under the same key is what a retried request looks like.
    snapshots._write_once(f"{SNAPSHOTS_PREFIX}{manifest.snapshot_id}/chroma.sqlite3", b"sqlite" * 100, tenant_id=T)
    with pytest.raises(GenerationMismatch):
        snapshots._write_once(f"{SNAPSHOTS_PREFIX}{manifest.snapshot_id}/chroma.sqlite3", b"other", tenant_id=T)
    assert blobs.read(f"{SNAPSHOTS_PREFIX}{manifest.snapshot_id}/chroma.sqlite3", tenant_id=T).data == b"sqlite" * 100
