"""Replanning the rest of the day: the hook's decisions, coalescing, and the whole chain — a user's
edit in the Notion sandbox, its signed webhook, the sync, the replan task, the replanned day."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.agent.plans import load_plan
from shared.agent.replan import changes_matter, replan_after_sync, request_replan
from shared.backends import get_backends
from shared.secrets.local import EnvFileSecretStore
from shared.sync.job import SyncJob
from shared.sync.signature import SIGNATURE_HEADER
from shared.sync.verification import VerificationTokens
from shared.sync.webhook import WebhookIntake
from shared.taskqueue.errors import TaskQueueError
from shared.taskqueue.local import SqliteTaskQueue
from tests.shared.agent.support import DAY

UTC = timezone.utc
VERIFICATION_TOKEN = "secret_agent_tests_verification_token_0123456789"


async def planned(world):
    await world.job().run(tenant_id=world.tenant_id, day=DAY, mode="daily")
    world.copy_rows()  # the sync brings the planner's Scheduled times back


def matter(world, changed=(), deleted=()):
    return changes_matter(world.store, tenant_id=world.tenant_id, changed=changed, deleted=deleted,
                          now=world.clock(), config=world.config)


async def test_the_echo_of_the_planners_own_writes_does_not_replan(world):
    await planned(world)
    world.clock.set(hour=10)
    tasks = [doc.id for doc in world.store.query("tasks", tenant_id=world.tenant_id)]
    routines = [doc.id for doc in world.store.query("routines", tenant_id=world.tenant_id)]
    assert matter(world, changed=tasks + routines) is None


async def test_user_changes_that_matter_replan(world):
    await planned(world)
    world.clock.set(hour=10)
    page = world.user_edits("Review PR #482: billing retries", {"Estimate": {"number": 90}})
    world.copy_rows()
    assert matter(world, changed=[page["id"]]) == "a task changed in Notion"

    ws = world.workspace
    new = ws.create_page({"parent": {"data_source_id": world.config.tasks_data_source_id}, "properties": {
        "Name": {"title": [{"text": {"content": "Call the plumber"}}]}, "Status": {"select": {"name": "To do"}}}},
        ws.user)
    world.copy_rows()
    assert matter(world, changed=[new["id"]]) == "a task was added in Notion"

    planned_id = load_plan(world.store, DAY, tenant_id=world.tenant_id).blocks[1].item_id
    assert matter(world, deleted=[planned_id]) == "an item of today's plan was deleted in Notion"

    routine = next(doc for doc in world.store.query("routines", tenant_id=world.tenant_id))
    world.store.set(f"routines/{routine.id}", {**routine.data, "duration_minutes": 55}, tenant_id=world.tenant_id)
    assert matter(world, changed=[routine.id]) == "a routine changed in Notion"


async def test_no_replan_without_todays_plan_or_after_the_working_day(world):
    page = world.user_edits("Review PR #482: billing retries", {"Estimate": {"number": 90}})
    world.copy_rows()
    assert matter(world, changed=[page["id"]]) is None  # no plan yet: the daily plan will see it
    await planned(world)
    world.user_edits("Review PR #482: billing retries", {"Estimate": {"number": 100}})
    world.copy_rows()
    world.clock.set(hour=17, minute=5)
    assert matter(world, changed=[page["id"]]) is None  # the working day is over


def test_request_replan_coalesces_a_burst_into_one_task(tmp_path, world):
    queue = SqliteTaskQueue(tmp_path / "tasks.sqlite3")
    now = world.clock.set(hour=10, minute=0)
    first = request_replan(queue, tenant_id=world.tenant_id, reason="edit", now=now, config=world.config)
    burst = request_replan(queue, tenant_id=world.tenant_id, reason="edit", now=now + timedelta(seconds=70),
                           config=world.config)
    later = request_replan(queue, tenant_id=world.tenant_id, reason="edit", now=now + timedelta(minutes=3),
                           config=world.config)
    assert first[1] and not burst[1] and burst[0] == first[0] and later[1] and later[0] != first[0]
    tasks = queue.all_tasks()
    assert [t.payload for t in tasks] == [{"date": "2026-03-30", "mode": "replan", "reason": "edit"}] * 2
    assert tasks[0].schedule_time == now + timedelta(minutes=2)  # at the end of the window


class BrokenQueue:
    def enqueue(self, request):
        raise TaskQueueError()


async def test_a_queue_failure_does_not_fail_the_sync(world):
    await planned(world)
    world.clock.set(hour=10)
    page = world.user_edits("Review PR #482: billing retries", {"Estimate": {"number": 90}})
    world.copy_rows()
    assert replan_after_sync(world.store, tenant_id=world.tenant_id, changed=[page["id"]], now=world.clock(),
                             tasks=BrokenQueue()) is None


# --- the whole chain --------------------------------------------------------------------------


class NoMemory:
    """The sync's memory port, remembering ids only (semantic memory has its own tests)."""

    def __init__(self) -> None:
        self.remembered: set[str] = set()

    @contextmanager
    def batch(self, *, tenant_id: str):
        memory = self

        class Batch:
            def upsert(self, documents):
                memory.remembered.update(document.id for document in documents)

            def delete(self, ids):
                memory.remembered.difference_update(ids)

        yield Batch()

    def ids(self, *, tenant_id: str) -> set[str]:
        return set(self.remembered)


class WebhookReceiver:
    """The sync's webhook endpoint on 127.0.0.1: the raw body and signature go to the intake."""

    def __init__(self, intake: WebhookIntake) -> None:
        self.outcomes = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - stdlib name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.outcomes.append(intake.handle(raw, signature=self.headers.get(SIGNATURE_HEADER)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/notion"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chain(world, tmp_path, monkeypatch):
    # The process's queue (what the sync's hook enqueues on) lives in this test's folder.
    monkeypatch.setenv("PLANNER_DATA_DIR", str(tmp_path / "local"))
    queue = get_backends().tasks
    secrets_dir = tmp_path / "secrets"
    tokens = VerificationTokens(store=world.store, secrets=EnvFileSecretStore(environ={}, directory=secrets_dir),
                                configured=VERIFICATION_TOKEN, local_secrets_dir=secrets_dir, clock=world.clock)
    intake = WebhookIntake(store=world.store, tasks=queue, tenants=world.tenants, tokens=tokens, clock=world.clock)
    receiver = WebhookReceiver(intake)
    world.sandbox.subscribe(receiver.url, VERIFICATION_TOKEN)
    sync = SyncJob(store=world.store, tenants=world.tenants, memory=NoMemory(), gateway_factory=world.gateway,
                   clock=world.clock)
    yield queue, receiver, sync
    receiver.close()


def take(queue: SqliteTaskQueue, queue_name: str):
    """The pending tasks of one queue, marked done (as if Cloud Tasks delivered them)."""
    tasks = [t for t in queue.all_tasks(status="pending") if t.queue == queue_name]
    for task in tasks:
        claimed = queue.claim_next(now=task.schedule_time + timedelta(hours=1), lease=timedelta(minutes=5))
        queue.mark_done(claimed, now=claimed.schedule_time, status_code=200)
    return tasks


async def test_an_edit_in_notion_and_its_webhook_replan_the_rest_of_the_day(world, chain):
    queue, receiver, sync = chain
    world.clock.set(hour=7, minute=0)
    assert (await sync.run(tenant_id=world.tenant_id, full=True)).status == "ok"
    world.clock.set(hour=7, minute=30)
    daily = await world.job().run(tenant_id=world.tenant_id, day=DAY, mode="daily")
    assert daily.status == "ok"
    before = load_plan(world.store, DAY, tenant_id=world.tenant_id)

    # The planner's own writes come back as webhooks: synced, and no replan follows.
    world.sandbox.flush_webhooks()
    assert take(queue, "sync") and (await sync.run(tenant_id=world.tenant_id)).status == "ok"
    assert take(queue, "planning") == []

    # 11:00 — the user adds an urgent task due today and finishes the review, in Notion.
    world.clock.set(hour=11, minute=0)
    ws = world.workspace
    ws.create_page({"parent": {"data_source_id": world.config.tasks_data_source_id}, "properties": {
        "Name": {"title": [{"text": {"content": "Hotfix the payment page"}}]},
        "Status": {"select": {"name": "To do"}}, "Priority": {"select": {"name": "Urgent"}},
        "Due": {"date": {"start": "2026-03-30"}}, "Estimate": {"number": 60}}}, ws.user)
    world.user_edits("Review PR #482: billing retries", {"Status": {"select": {"name": "Done"}}})
    deliveries = world.sandbox.flush_webhooks()
    assert deliveries and all(d.status == 200 for d in deliveries)
    assert {o.status for o in receiver.outcomes[-len(deliveries):]} <= {"accepted", "duplicate"}

    [sync_task] = take(queue, "sync")
    assert sync_task.tenant_id == world.tenant_id
    world.clock.set(hour=11, minute=1)
    report = await sync.run(tenant_id=world.tenant_id)
    assert report.written == 2
    [replan_task] = take(queue, "planning")
    assert (replan_task.payload["date"], replan_task.payload["mode"]) == ("2026-03-30", "replan")
    assert replan_task.payload["reason"] in ("a task was added in Notion", "a task changed in Notion")
    assert replan_task.path == "/tasks/plan" and replan_task.function == "agent"

    world.clock.set(hour=11, minute=2)
    replan = await world.job().run(tenant_id=world.tenant_id, day=DAY, mode="replan",
                                   reason=replan_task.payload["reason"])
    assert replan.status == "ok" and replan.page == "replaced"
    after = load_plan(world.store, DAY, tenant_id=world.tenant_id)
    now = world.clock()
    # The morning stays as it was; everything new starts after 11:02.
    assert [b for b in after.blocks if b.end <= now] == [
        b for b in before.blocks if b.end <= now and b.item_id not in {x.item_id for x in after.blocks if x.end > now}]
    assert all(b.start >= now for b in after.blocks if b.end > now)
    titles = [b.title for b in after.blocks if b.start >= now]
    assert "Hotfix the payment page" in titles
    assert "Review PR #482: billing retries" not in titles
    hotfix = world.scheduled_of("Hotfix the payment page")
    [block] = [b for b in after.blocks if b.title == "Hotfix the payment page"]
    assert datetime.fromisoformat(hotfix["start"]) == block.start
    [page] = world.plan_pages()
    assert page["id"] == before.page_id

    # Its own writes echo back once more; still no further replan: the loop is closed.
    world.sandbox.flush_webhooks()
    if take(queue, "sync"):
        world.clock.set(hour=11, minute=4)
        await sync.run(tenant_id=world.tenant_id)
    assert take(queue, "planning") == []
