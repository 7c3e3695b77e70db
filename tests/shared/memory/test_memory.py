"""The memory API end to end on both blob adapters (local folder, Cloud Storage emulator) with the
SQLite document store for leases and the real embedding model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.blobs.errors import GenerationMismatch
from shared.memory.documents import MemoryDocument
from shared.memory.errors import InvalidMemoryDocument, LeaseBusy
from shared.memory.lease import LEASE_PATH
from shared.memory.snapshot import MANIFEST_KEY, SNAPSHOTS_PREFIX, Manifest
from shared.store.sqlite import SqliteDocumentStore
from tests.shared.memory.conftest import Interrupted

A, B = "tenant-a", "tenant-b"

TASKS = [
    MemoryDocument("page-1", "Write the quarterly report for finance", {"status": "todo", "tags": ["work", "q3"]}),
    MemoryDocument("page-2", "Buy groceries: milk, eggs and bread", {"status": "todo", "tags": ["home"]}),
    MemoryDocument("page-3", "Morning run, 5 km in the park", {"status": "done", "due": None}),
]


def _snapshot_ids(blobs, tenant_id):
    return {info.key[len(SNAPSHOTS_PREFIX):].split("/", 1)[0] for info in blobs.list(SNAPSHOTS_PREFIX, tenant_id=tenant_id)}


def test_upsert_search_delete_round_trip(make_memory):
    memory, _ = make_memory()
    memory.upsert(TASKS, tenant_id=A)

    hits = memory.search("prepare the finance report", tenant_id=A, k=2)
    assert [hit.id for hit in hits][0] == "page-1"
    assert hits[0].text == TASKS[0].text
    assert hits[0].metadata == {"status": "todo", "tags": "work,q3"}
    assert hits[0].score > hits[1].score
    assert 0.5 < hits[0].score <= 1.0

    assert [h.id for h in memory.search("food shopping", tenant_id=A, k=3, where={"status": "todo"})][0] == "page-2"
    assert {h.id for h in memory.search("anything", tenant_id=A, k=5, where={"status": "done"})} == {"page-3"}

    memory.delete(["page-1", "no-such-page"], tenant_id=A)
    assert memory.ids(tenant_id=A) == {"page-2", "page-3"}
    assert "page-1" not in {h.id for h in memory.search("finance report", tenant_id=A, k=5)}


def test_upsert_replaces_the_whole_document(make_memory):
    memory, _ = make_memory()
    memory.upsert([TASKS[0]], tenant_id=A)
    memory.upsert([MemoryDocument("page-1", "Write the annual report", {"status": "done"})], tenant_id=A)
    [hit] = memory.search("annual report", tenant_id=A, k=1)
    assert (hit.text, hit.metadata) == ("Write the annual report", {"status": "done"})  # "tags" is gone
    assert memory.count(tenant_id=A) == 1


def test_tenants_are_isolated(make_memory):
    memory, blobs = make_memory()
    memory.upsert(TASKS[:2], tenant_id=A)
    memory.upsert([MemoryDocument("b-1", "Quarterly finance report for tenant B", {})], tenant_id=B)

    assert {h.id for h in memory.search("quarterly finance report", tenant_id=B, k=10)} == {"b-1"}
    assert {h.id for h in memory.search("quarterly finance report", tenant_id=A, k=10)} == {"page-1", "page-2"}
    assert memory.search("anything", tenant_id="tenant-c") == []
    # Each tenant's objects live under its own prefix and name only its own snapshots.
    manifest_a = Manifest.from_bytes(blobs.read(MANIFEST_KEY, tenant_id=A).data)
    assert _snapshot_ids(blobs, A) == {manifest_a.snapshot_id, manifest_a.previous_snapshot_id} - {None}
    assert manifest_a.snapshot_id not in _snapshot_ids(blobs, B)

    memory.delete_all(tenant_id=A)
    assert blobs.list("", tenant_id=A) == []
    assert memory.search("report", tenant_id=A) == []
    assert memory.count(tenant_id=B) == 1


def test_warm_instance_downloads_nothing_while_the_manifest_is_unchanged(make_memory):
    writer, _ = make_memory()
    writer.upsert(TASKS, tenant_id=A)
    reader, traffic = make_memory()

    reader.search("report", tenant_id=A)  # cold: manifest + snapshot files
    cold_bytes = reader.bytes_downloaded
    assert cold_bytes > 0 and traffic.reads > 1
    traffic.reset()
    for _ in range(3):
        reader.search("groceries", tenant_id=A)
    assert reader.count(tenant_id=A) == 3
    assert (traffic.reads, traffic.bytes_read, reader.bytes_downloaded) == (0, 0, cold_bytes)

    # A writer's own publish becomes its warm copy: its next write starts without downloading.
    traffic.reset()
    reader.upsert([MemoryDocument("page-4", "Call the dentist", {})], tenant_id=A)
    reader.upsert([MemoryDocument("page-5", "Renew the passport", {})], tenant_id=A)
    reader.search("passport", tenant_id=A)
    assert traffic.reads == 0


def test_another_instance_sees_committed_writes(make_memory):
    first, _ = make_memory()
    second, _ = make_memory()
    first.upsert(TASKS[:1], tenant_id=A)
    assert second.ids(tenant_id=A) == {"page-1"}
    second.upsert(TASKS[1:], tenant_id=A)
    assert first.ids(tenant_id=A) == {"page-1", "page-2", "page-3"}  # first's warm copy was stale: refreshed
    first.delete(["page-2"], tenant_id=A)
    assert second.ids(tenant_id=A) == {"page-1", "page-3"}


def test_a_batch_is_one_publish(make_memory):
    memory, traffic = make_memory()
    with memory.batch(tenant_id=A) as batch:
        batch.upsert(TASKS)
        batch.delete(["page-3"])
        batch.upsert([MemoryDocument("page-4", "Call the dentist", {})])
    assert traffic.manifest_writes == 1
    assert memory.ids(tenant_id=A) == {"page-1", "page-2", "page-4"}

    with pytest.raises(RuntimeError), memory.batch(tenant_id=A) as batch:
        batch.delete(["page-1"])
        raise RuntimeError("the sync failed half way")
    assert traffic.manifest_writes == 1  # nothing published
    memory.delete(["unknown"], tenant_id="tenant-c")  # deleting from an empty memory publishes nothing
    assert traffic.manifest_writes == 1


def test_lost_race_with_an_expired_lease_keeps_both_writers_vectors(make_memory, clock, documents_path):
    slow, slow_traffic = make_memory()
    fast, _ = make_memory()
    slow.upsert(TASKS[:1], tenant_id=A)
    slow_traffic.reset()

    def lease_expires_and_another_writer_commits() -> None:
        clock.advance(minutes=5)  # the slow writer's lease expires...
        fast.upsert([MemoryDocument("fast-1", "Book flights for the conference", {"by": "fast"})], tenant_id=A)

    slow_traffic.before_manifest_write = lease_expires_and_another_writer_commits
    slow.upsert([MemoryDocument("slow-1", "Draft the hiring plan", {"by": "slow"})], tenant_id=A)

    assert slow_traffic.manifest_writes == 2  # lost once, re-applied on the new snapshot, committed
    for reader in (slow, fast, make_memory()[0]):
        assert reader.ids(tenant_id=A) == {"page-1", "fast-1", "slow-1"}
        assert reader.search("flights", tenant_id=A, k=1)[0].id == "fast-1"
        assert reader.search("hiring plan", tenant_id=A, k=1)[0].id == "slow-1"
    # The loser discarded its uncommitted upload; the first snapshot (older than the grace) was
    # collected; the lease is free again.
    manifest = Manifest.from_bytes(slow_traffic.read(MANIFEST_KEY, tenant_id=A).data)
    assert _snapshot_ids(slow_traffic, A) == {manifest.snapshot_id, manifest.previous_snapshot_id}
    store = SqliteDocumentStore(documents_path, clock=clock)
    assert store.get(LEASE_PATH, tenant_id=A) is None
    store.close()


def test_manifest_bumped_by_a_writer_that_ignored_the_lease(make_memory, clock):
    first, first_traffic = make_memory()
    rogue, rogue_traffic = make_memory()
    first.upsert(TASKS[:1], tenant_id=A)
    first_traffic.reset()
    # The rogue writer starts from the same snapshot but commits first, straight through the port.
    base = rogue_traffic.read(MANIFEST_KEY, tenant_id=A)

    def rogue_commit() -> None:
        rogue_traffic.write(MANIFEST_KEY, base.data, tenant_id=A, if_generation_match=base.generation)

    first_traffic.before_manifest_write = rogue_commit
    first.upsert(TASKS[1:], tenant_id=A)
    assert first_traffic.manifest_writes == 2
    assert rogue.ids(tenant_id=A) == {"page-1", "page-2", "page-3"}
    with pytest.raises(GenerationMismatch):  # the rogue's stale base can no longer commit
        rogue_traffic.write(MANIFEST_KEY, base.data, tenant_id=A, if_generation_match=base.generation)


def test_a_commit_whose_answer_was_lost_is_recognised_as_ours(make_memory):
    memory, traffic = make_memory()
    memory.upsert(TASKS[:1], tenant_id=A)
    traffic.lose_next_manifest_answer = True
    memory.upsert(TASKS[1:2], tenant_id=A)
    manifest = Manifest.from_bytes(traffic.read(MANIFEST_KEY, tenant_id=A).data)
    assert manifest.snapshot_id in _snapshot_ids(traffic, A)  # not discarded as a loser's upload
    assert make_memory()[0].ids(tenant_id=A) == {"page-1", "page-2"}


def test_crash_between_upload_and_commit_keeps_the_last_snapshot(make_memory, clock):
    writer, traffic = make_memory()
    writer.upsert(TASKS[:2], tenant_id=A)
    committed = traffic.read(MANIFEST_KEY, tenant_id=A)

    def die() -> None:
        raise Interrupted()

    traffic.before_manifest_write = die
    with pytest.raises(Interrupted):
        writer.upsert([MemoryDocument("page-9", "Never committed", {})], tenant_id=A)
    assert traffic.read(MANIFEST_KEY, tenant_id=A).generation == committed.generation
    assert len(_snapshot_ids(traffic, A)) == 2  # the committed one and the orphan upload

    reader, _ = make_memory()
    assert reader.ids(tenant_id=A) == {"page-1", "page-2"}
    # The next writer finishes the work (here the lease was released by the dying writer's finally;
    # a killed process's lease expires: see test_killed_writer.py), and the orphan is collected later.
    clock.advance(minutes=10)
    reader.upsert([MemoryDocument("page-9", "Committed this time", {})], tenant_id=A)
    assert writer.ids(tenant_id=A) == {"page-1", "page-2", "page-9"}
    manifest = Manifest.from_bytes(traffic.read(MANIFEST_KEY, tenant_id=A).data)
    assert _snapshot_ids(traffic, A) == {manifest.snapshot_id, manifest.previous_snapshot_id}


def test_old_snapshots_are_collected_keeping_current_and_previous(make_memory, clock):
    memory, traffic = make_memory()
    for index in range(4):
        memory.upsert([MemoryDocument(f"p{index}", f"task {index}", {})], tenant_id=A)
        clock.advance(minutes=3)
    manifest = Manifest.from_bytes(traffic.read(MANIFEST_KEY, tenant_id=A).data)
    assert _snapshot_ids(traffic, A) == {manifest.snapshot_id, manifest.previous_snapshot_id}
    assert memory.count(tenant_id=A) == 4


def test_busy_lease_makes_a_writer_give_up_without_publishing(make_memory, clock, documents_path):
    memory, traffic = make_memory(lease_wait=1.0, lease_poll=0.5)
    other = SqliteDocumentStore(documents_path, clock=clock)
    other.create(LEASE_PATH, {"holder": "someone-else", "expires_at": clock() + timedelta(hours=1)}, tenant_id=A)
    with pytest.raises(LeaseBusy) as error:
        memory.upsert(TASKS[:1], tenant_id=A)
    assert error.value.status == 503
    assert traffic.manifest_writes == 0
    other.close()


def test_validation_names_the_field(make_memory):
    memory, _ = make_memory()
    cases = [
        (lambda: memory.upsert([MemoryDocument("", "x")], tenant_id=A), "documents[0].id"),
        (lambda: memory.upsert([MemoryDocument("p", "x", {"n": float("nan")})], tenant_id=A), "documents[0].metadata.n"),
        (lambda: memory.search("", tenant_id=A), "query"),
        (lambda: memory.search("x", tenant_id=A, k=0), "k"),
        (lambda: memory.delete("page-1", tenant_id=A), "ids"),
    ]
    for call, field in cases:
        with pytest.raises(InvalidMemoryDocument) as error:
            call()
        assert error.value.field == field
    memory.upsert(TASKS[:1], tenant_id=A)
    with pytest.raises(InvalidMemoryDocument) as error:
        memory.search("x", tenant_id=A, where={"$bogus": 1})
    assert error.value.field == "where"
    with pytest.raises(Exception) as error:
        memory.search("x", tenant_id="../etc")
    assert getattr(error.value, "field", None) == "tenant_id"


@pytest.mark.parametrize("lease_ttl", [timedelta(minutes=2), timedelta(0)], ids=["lease", "lease-always-expired"])
def test_concurrent_writers_keep_every_vector(make_memory, lease_ttl):
    import threading

    import time

    # With a zero TTL both writers always "hold" the lease: only the manifest precondition protects.
    # Otherwise the waiter really waits (bounded) for the holder to release it.
    writers = [make_memory(lease_ttl=lease_ttl, max_attempts=20, sleep=time.sleep, lease_poll=0.05,
                           lease_wait=60.0)[0] for _ in range(2)]
    errors: list[BaseException] = []

    def run(index: int, memory) -> None:
        try:
            for n in range(3):
                memory.upsert([MemoryDocument(f"w{index}-{n}", f"writer {index} task {n} " + "word " * n, {"w": index})],
                              tenant_id=A)
        except BaseException as exc:  # reported below, with the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    expected = {f"w{i}-{n}" for i in range(2) for n in range(3)}
    reader = make_memory()[0]
    assert reader.ids(tenant_id=A) == expected
    assert reader.count(tenant_id=A) == 6
    assert {h.id for h in reader.search("writer 1 task", tenant_id=A, k=6, where={"w": 1})} == {"w1-0", "w1-1", "w1-2"}
