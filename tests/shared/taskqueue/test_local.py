"""The SQLite task queue: persistence, name deduplication with retention, leases."""

from __future__ import annotations

import multiprocessing
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

import pytest

from shared.taskqueue import TaskAlreadyExists, TaskQueue, TaskRequest, task_name_for
from shared.taskqueue.local import SqliteTaskQueue

TENANT = "tenant-abc"


def request(name: str | None = None, **overrides) -> TaskRequest:
    fields = dict(queue="sync", function="sync", path="/tasks/sync", tenant_id=TENANT, payload={"page": "p1"}, name=name)
    fields.update(overrides)
    return TaskRequest(**fields)


def test_it_implements_the_port(queue):
    assert isinstance(queue, TaskQueue)


def test_enqueue_persists_the_task_and_returns_its_full_name(queue, clock, tmp_path):
    name = task_name_for("sync", tenant_id=TENANT, key="page-1")

    full = queue.enqueue(request(name, payload={"page": "p1", "n": [1, 2]}))

    assert full == f"projects/local/locations/local/queues/sync/tasks/{name}"
    reopened = SqliteTaskQueue(tmp_path / "tasks.sqlite3", clock=clock)
    stored = reopened.get("sync", name)
    assert stored is not None
    assert (stored.function, stored.path, stored.tenant_id) == ("sync", "/tasks/sync", TENANT)
    assert stored.payload == {"page": "p1", "n": [1, 2]}
    assert stored.status == "pending"
    assert stored.schedule_time == clock.now
    assert stored.attempts == 0


def test_the_file_uses_wal(queue):
    with sqlite3.connect(queue.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_pending_name_is_refused(queue):
    queue.enqueue(request("plan-1"))

    with pytest.raises(TaskAlreadyExists) as caught:
        queue.enqueue(request("plan-1", payload={"other": True}))

    assert caught.value.status == 409
    assert "plan-1" in caught.value.message
    assert len(queue.all_tasks()) == 1


def test_the_same_name_on_another_queue_is_a_different_task(queue):
    queue.enqueue(request("plan-1"))
    queue.enqueue(request("plan-1", queue="planning"))

    assert len(queue.all_tasks()) == 2


def test_a_finished_name_is_refused_within_retention_and_reusable_after(queue, clock):
    queue.enqueue(request("plan-1"))
    task = queue.claim_next(now=clock.now, lease=timedelta(minutes=1))
    assert queue.mark_done(task, now=clock.now, status_code=200)

    clock.advance(timedelta(minutes=59))
    with pytest.raises(TaskAlreadyExists):
        queue.enqueue(request("plan-1"))

    clock.advance(timedelta(minutes=1, seconds=1))
    queue.enqueue(request("plan-1", payload={"second": True}))
    stored = queue.get("sync", "plan-1")
    assert (stored.status, stored.payload, stored.attempts) == ("pending", {"second": True}, 0)


def test_retention_is_configurable_and_covers_failed_tasks(tmp_path, clock):
    queue = SqliteTaskQueue(tmp_path / "q.sqlite3", clock=clock, name_retention=timedelta(minutes=5))
    queue.enqueue(request("plan-1"))
    task = queue.claim_next(now=clock.now, lease=timedelta(minutes=1))
    queue.mark_failed(task, now=clock.now, status_code=500)

    clock.advance(timedelta(minutes=4))
    with pytest.raises(TaskAlreadyExists):
        queue.enqueue(request("plan-1"))
    clock.advance(timedelta(minutes=2))
    assert queue.enqueue(request("plan-1")).endswith("/tasks/plan-1")


def test_anonymous_tasks_get_distinct_generated_names(queue):
    first = queue.enqueue(request())
    second = queue.enqueue(request())

    assert first != second
    assert {t.task_id for t in queue.all_tasks()} == {first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]}


def test_claim_takes_due_tasks_in_schedule_order_under_a_lease(queue, clock):
    queue.enqueue(request("later", schedule_time=clock.now + timedelta(minutes=5)))
    queue.enqueue(request("now"))

    first = queue.claim_next(now=clock.now, lease=timedelta(minutes=10))
    assert (first.task_id, first.attempts) == ("now", 1)
    # Leased: nobody else gets it, and the later one is not due.
    assert queue.claim_next(now=clock.now, lease=timedelta(minutes=10)) is None

    clock.advance(timedelta(minutes=5))
    assert queue.claim_next(now=clock.now, lease=timedelta(minutes=10)).task_id == "later"
    assert queue.claim_next(now=clock.now, lease=timedelta(minutes=10)) is None


def test_an_expired_lease_is_taken_over_and_fences_the_old_holder(queue, clock):
    queue.enqueue(request("plan-1"))
    old = queue.claim_next(now=clock.now, lease=timedelta(minutes=1))

    clock.advance(timedelta(minutes=1))
    new = queue.claim_next(now=clock.now, lease=timedelta(minutes=1))
    assert new.task_id == "plan-1" and new.attempts == 2

    assert queue.mark_done(old, now=clock.now, status_code=200) is False
    assert queue.get("sync", "plan-1").status == "pending"
    assert queue.mark_done(new, now=clock.now, status_code=200) is True
    assert queue.get("sync", "plan-1").status == "done"


def test_prune_forgets_finished_tasks_past_retention_only(queue, clock):
    queue.enqueue(request("done-1"))
    queue.enqueue(request("pending-1", schedule_time=clock.now + timedelta(days=1)))
    task = queue.claim_next(now=clock.now, lease=timedelta(minutes=1))
    queue.mark_done(task, now=clock.now, status_code=204)

    assert queue.prune(now=clock.now + timedelta(minutes=30)) == 0
    assert queue.prune(now=clock.now + timedelta(hours=2)) == 1
    assert [t.task_id for t in queue.all_tasks()] == ["pending-1"]


def _enqueue_in_another_process(path: str) -> str:
    queue = SqliteTaskQueue(path)
    try:
        queue.enqueue(TaskRequest(queue="sync", function="sync", path="/x", tenant_id=TENANT, name="once"))
    except TaskAlreadyExists:
        return "duplicate"
    return "created"


def test_processes_racing_on_one_name_create_it_once(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    SqliteTaskQueue(path)  # create the schema before the race
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        outcomes = list(pool.map(_enqueue_in_another_process, [path] * 8))

    assert sorted(outcomes) == ["created"] + ["duplicate"] * 7
    assert len(SqliteTaskQueue(path).all_tasks()) == 1
