"""The sync job against the sandbox Notion (real HTTP on 127.0.0.1): what it reads, writes and
deletes, how many requests it makes, and how it ends on each kind of failure.

The memory here is a recording double of the memory's batch/ids interface (so these tests stay
fast); tests/functions/test_sync.py runs the whole pipeline on the real memory."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest

from shared.backends import Backends
from shared.config import Settings
from shared.connections.services import ConnectionServices
from shared.localstack.stack import ensure_local_secrets
from shared.locks import Lease
from shared.memory.documents import MemoryDocument, check_documents
from shared.memory.errors import MemoryServiceError
from shared.models import ConnectionStatus, Routine, Task, UserConfig
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionUnavailable
from shared.notion.mapping import page_to_routine, page_to_task
from shared.notion.sandbox import webhooks
from shared.secrets.local import EnvFileSecretStore
from shared.sync.errors import SyncBusy
from shared.sync.fetch import edited_since_filter
from shared.sync.job import SyncJob
from shared.sync.signature import sign
from shared.sync.state import DeletionLog, DirtyMarks, SyncStateRepository
from shared.sync.verification import VerificationTokens
from shared.sync.webhook import WebhookIntake
from shared.taskqueue.local import SqliteTaskQueue
from tests.shared.sync.sandbox import (
    CLIENT_ID,
    CLIENT_SECRET,
    add_task,
    api_requests,
    connect,
    find,
    queries,
    rows,
    running_sandbox,
    text,
)

TOKEN = "secret_job_tests_webhook_token"


class RecordingMemory:
    """A stand-in for the memory's batch/ids interface, validating documents as the real one does."""

    def __init__(self) -> None:
        self.docs: dict[str, MemoryDocument] = {}
        self.publishes = 0
        self.fail_next = 0

    @contextmanager
    def batch(self, *, tenant_id: str):
        batch = _Batch()
        yield batch
        if self.fail_next:
            self.fail_next -= 1
            raise MemoryServiceError()
        for doc in batch.puts:
            self.docs[doc.id] = doc
        for doc_id in batch.deletes:
            self.docs.pop(doc_id, None)
        self.publishes += 1

    def ids(self, *, tenant_id: str) -> set[str]:
        return set(self.docs)


class _Batch:
    def __init__(self) -> None:
        self.puts: list[MemoryDocument] = []
        self.deletes: list[str] = []

    def upsert(self, documents):
        self.puts.extend(check_documents(documents))

    def delete(self, ids):
        self.deletes.extend(ids)


@pytest.fixture(scope="module")
def notion():
    with running_sandbox() as env:
        yield env


@pytest.fixture
def sandbox(notion):
    return notion[0]


@pytest.fixture
def notion_clock(notion):
    return notion[2]


@pytest.fixture
def settings(tmp_path, notion) -> Settings:
    ensure_local_secrets(tmp_path)
    return Settings(profile="local", data_dir=tmp_path, notion_api_base=notion[1].url, notion_client_id=CLIENT_ID,
                    notion_client_secret=CLIENT_SECRET, notion_requests_per_second=200.0)


@pytest.fixture
def services(settings):
    backends = Backends(settings)
    yield ConnectionServices(backends)
    backends.documents.close()


@pytest.fixture
def store(services):
    return services.backends.documents


@pytest.fixture
def ws(sandbox, notion_clock):
    workspace = sandbox.add_workspace("Ada's Notion")
    sandbox.outbox.take_pending()
    notion_clock.advance(30)  # the user built the workspace a while before connecting it
    return workspace


@pytest.fixture
def tenant_id(services, sandbox, ws) -> str:
    return connect(services, sandbox, ws)


@pytest.fixture
def memory() -> RecordingMemory:
    return RecordingMemory()


@pytest.fixture
def job(services, memory, settings, notion_clock) -> SyncJob:
    # The job reads the time Notion's side runs on, as production shares one (NTP) time with Notion.
    return SyncJob(store=services.backends.documents, tenants=services.tenants, memory=memory, clock=notion_clock,
                   gateway_factory=lambda: NotionGateway.from_settings(settings, token_provider=services.tokens,
                                                                       max_retries=0))


@pytest.fixture
def intake(services, tmp_path) -> WebhookIntake:
    store = services.backends.documents
    tokens = VerificationTokens(store=store, secrets=EnvFileSecretStore(environ={}, directory=None), configured=TOKEN)
    return WebhookIntake(store=store, tasks=SqliteTaskQueue(tmp_path / "queue.sqlite3"), tenants=services.tenants,
                         tokens=tokens)


def deliver_outbox(sandbox, intake) -> list[str]:
    """Sign and hand every event the sandbox queued to the intake, as Notion would POST them."""
    statuses = []
    for event in sandbox.outbox.take_pending():
        body = webhooks.encode(event)
        statuses.append(intake.handle(body, signature=sign(body, TOKEN)).status)
    return statuses


def assert_mirrors(ws, store, memory, tenant_id):
    """The store and the memory hold exactly the workspace's live rows, mapped."""
    for kind, collection, mapper in (("tasks", "tasks", page_to_task), ("routines", "routines", page_to_routine)):
        live = {p["id"]: p for p in rows(ws, kind)}
        stored = {doc.id: doc.data for doc in store.query(collection, tenant_id=tenant_id)}
        assert set(stored) == set(live), kind
        for page_id, page in live.items():
            assert stored[page_id] == mapper(page).value.model_dump(mode="json")
    assert memory.ids(tenant_id=tenant_id) == {p["id"] for kind in ("tasks", "routines") for p in rows(ws, kind)}


# --- first sync and incremental syncs ------------------------------------------------------------


async def test_the_first_sync_lists_both_sources_in_full(job, ws, store, memory, tenant_id, sandbox):
    report = await job.run(tenant_id=tenant_id)

    assert report.status == "ok"
    assert report.sources == {"task": "full", "routine": "full"}
    assert report.notion_requests == 2 and len(queries(sandbox, ws.id)) == 2
    assert (report.written, report.rows_read) == (20, 20)
    assert_mirrors(ws, store, memory, tenant_id)
    doc = memory.docs[find(ws, "tasks", "Write Q3 planning doc")["id"]]
    assert doc.metadata["kind"] == "task" and doc.metadata["status"] == "in_progress"
    assert "Outline first" in doc.text and "writing" in doc.text
    state = SyncStateRepository(store).load(tenant_id=tenant_id)
    assert state.sources["task"].cursor is not None
    assert state.sources["task"].data_source_id == ws.demo["tasks_data_source_id"]


async def test_an_incremental_sync_queries_only_the_changed_source_once(job, ws, store, memory, tenant_id,
                                                                         sandbox, intake, notion_clock):
    await job.run(tenant_id=tenant_id)
    notion_clock.advance(10)
    page = find(ws, "tasks", "Renew passport")
    ws.update_page(page["id"], {"properties": {"Status": {"select": {"name": "Done"}}}}, ws.user)
    created = add_task(ws, "Organise the garage sale", Tags={"multi_select": [{"name": "home"}]})
    assert deliver_outbox(sandbox, intake) == ["accepted", "accepted"]
    sandbox.faults.clear_log()

    report = await job.run(tenant_id=tenant_id)

    assert report.sources == {"task": "incremental"}
    assert api_requests(sandbox, ws.id) == [("POST", f"/v1/data_sources/{ws.demo['tasks_data_source_id']}/query")]
    assert (report.notion_requests, report.rows_read, report.written, report.unchanged) == (1, 2, 2, 0)
    assert_mirrors(ws, store, memory, tenant_id)
    assert memory.docs[page["id"]].metadata["status"] == "done"
    assert memory.docs[created["id"]].text.startswith("Organise the garage sale")
    assert DirtyMarks(store).load(tenant_id=tenant_id) == {}


async def test_rows_inside_the_safety_margin_are_read_again_but_not_rewritten(job, ws, store, memory, tenant_id,
                                                                               sandbox, intake, notion_clock):
    await job.run(tenant_id=tenant_id)
    notion_clock.advance(10)
    ws.update_page(find(ws, "tasks", "Renew passport")["id"], {"properties": {"Estimate": {"number": 50}}}, ws.user)
    deliver_outbox(sandbox, intake)
    await job.run(tenant_id=tenant_id)
    publishes = memory.publishes

    notion_clock.advance(1)  # within the two-minute margin of the cursor
    dentist = find(ws, "tasks", "Book dentist appointment")
    ws.update_page(dentist["id"], {"properties": {"Estimate": {"number": 15}}}, ws.user)
    deliver_outbox(sandbox, intake)
    report = await job.run(tenant_id=tenant_id)

    assert (report.notion_requests, report.rows_read, report.written, report.unchanged) == (1, 2, 1, 1)
    assert memory.publishes == publishes + 1
    assert_mirrors(ws, store, memory, tenant_id)


async def test_with_nothing_marked_a_run_costs_no_request(job, ws, tenant_id, sandbox):
    await job.run(tenant_id=tenant_id)
    sandbox.faults.clear_log()
    report = await job.run(tenant_id=tenant_id)
    assert report.status == "nothing_to_do"
    assert api_requests(sandbox, ws.id) == []


async def test_poll_reads_every_source_incrementally(job, ws, tenant_id, sandbox):
    await job.run(tenant_id=tenant_id)
    sandbox.faults.clear_log()
    report = await job.run(tenant_id=tenant_id, poll=True)
    assert report.sources == {"task": "incremental", "routine": "incremental"}
    assert len(queries(sandbox, ws.id)) == 2


def test_the_incremental_filter_is_notions_timestamp_filter():
    from datetime import datetime, timezone

    since = datetime(2025, 11, 3, 9, 58, 0, 123000, tzinfo=timezone.utc)
    assert edited_since_filter(since) == {"timestamp": "last_edited_time",
                                          "last_edited_time": {"on_or_after": "2025-11-03T09:58:00Z"}}


# --- deletions -----------------------------------------------------------------------------------


async def test_a_page_deleted_event_removes_the_row_without_any_notion_request(job, ws, store, memory, tenant_id,
                                                                                 sandbox, intake, notion_clock):
    await job.run(tenant_id=tenant_id)
    notion_clock.advance(5)
    page = find(ws, "tasks", "Weekly grocery order")
    ws.update_page(page["id"], {"in_trash": True}, ws.user)
    assert deliver_outbox(sandbox, intake) == ["accepted"]
    sandbox.faults.clear_log()

    report = await job.run(tenant_id=tenant_id)

    assert api_requests(sandbox, ws.id) == []
    assert report.deleted == 1
    assert store.get(f"tasks/{page['id']}", tenant_id=tenant_id) is None
    assert_mirrors(ws, store, memory, tenant_id)
    assert DeletionLog(store).pending(tenant_id=tenant_id) == []


async def test_a_restored_page_comes_back(job, ws, store, memory, tenant_id, sandbox, intake, notion_clock):
    await job.run(tenant_id=tenant_id)
    page = find(ws, "tasks", "Weekly grocery order")
    notion_clock.advance(5)
    ws.update_page(page["id"], {"in_trash": True}, ws.user)
    deliver_outbox(sandbox, intake)
    await job.run(tenant_id=tenant_id)
    notion_clock.advance(5)
    ws.update_page(page["id"], {"in_trash": False}, ws.user)
    deliver_outbox(sandbox, intake)

    report = await job.run(tenant_id=tenant_id)

    assert report.sources == {"task": "full"}
    assert store.get(f"tasks/{page['id']}", tenant_id=tenant_id) is not None
    assert_mirrors(ws, store, memory, tenant_id)


async def test_a_deletion_racing_a_restore_keeps_the_live_page(job, ws, store, memory, tenant_id, sandbox, intake,
                                                               notion_clock):
    await job.run(tenant_id=tenant_id)
    page = find(ws, "tasks", "Weekly grocery order")
    notion_clock.advance(5)
    ws.update_page(page["id"], {"in_trash": True}, ws.user)
    ws.update_page(page["id"], {"in_trash": False, "properties": {"Estimate": {"number": 30}}}, ws.user)
    events = sandbox.outbox.take_pending()
    assert [e["type"] for e in events] == ["page.deleted", "page.properties_updated", "page.undeleted"]
    for event in events[:2]:  # the undelete is lost: the query result must win over the deletion
        body = webhooks.encode(event)
        assert intake.handle(body, signature=sign(body, TOKEN)).status == "accepted"

    await job.run(tenant_id=tenant_id)

    assert store.get(f"tasks/{page['id']}", tenant_id=tenant_id)["estimate_minutes"] == 30
    assert_mirrors(ws, store, memory, tenant_id)


async def test_a_full_sync_removes_rows_whose_deletion_was_never_delivered(job, ws, store, memory, tenant_id,
                                                                          sandbox, notion_clock):
    await job.run(tenant_id=tenant_id)
    page = find(ws, "routines", "Lunch walk")
    notion_clock.advance(5)
    ws.update_page(page["id"], {"in_trash": True}, ws.user)
    sandbox.outbox.take_pending()  # Notion never delivers the page.deleted event

    incremental = await job.run(tenant_id=tenant_id, poll=True)
    assert store.get(f"routines/{page['id']}", tenant_id=tenant_id) is not None  # invisible to a query
    full = await job.run(tenant_id=tenant_id, full=True)

    assert (incremental.deleted, full.deleted) == (0, 1)
    assert full.notion_requests == 2
    assert_mirrors(ws, store, memory, tenant_id)


async def test_a_full_sync_re_adds_rows_the_memory_lost(job, ws, store, memory, tenant_id):
    await job.run(tenant_id=tenant_id)
    lost = find(ws, "tasks", "Renew passport")["id"]
    del memory.docs[lost]

    await job.run(tenant_id=tenant_id, full=True)

    assert lost in memory.docs
    assert_mirrors(ws, store, memory, tenant_id)


# --- configuration changes -----------------------------------------------------------------------


async def test_a_schema_change_triggers_a_full_listing_of_that_source(job, ws, store, tenant_id, sandbox, intake):
    await job.run(tenant_id=tenant_id)
    ws.update_data_source(ws.demo["tasks_data_source_id"], {"properties": {"Energy": {"select": {}}}}, ws.user)
    assert deliver_outbox(sandbox, intake) == ["accepted"]

    report = await job.run(tenant_id=tenant_id)

    assert report.sources == {"task": "full"} and report.rows_read == 14


async def test_switching_the_tasks_source_replaces_the_rows(job, ws, store, memory, tenants_repo, tenant_id, sandbox):
    await job.run(tenant_id=tenant_id)
    other = sandbox.add_workspace("elsewhere", seed=False)
    database = ws.create_database({"parent": {"type": "page_id", "page_id": ws.demo["root_page_id"]},
                                   "title": text("Tasks 2"),
                                   "initial_data_source": {"properties": {"Name": {"title": {}}}}}, ws.user)
    source = database["data_sources"][0]["id"]
    page = ws.create_page({"parent": {"data_source_id": source}, "properties": {"Name": {"title": text("Only one")}}},
                          ws.user)
    config = tenants_repo.get_config(tenant_id=tenant_id)
    tenants_repo.save_config(config.model_copy(update={"tasks_data_source_id": source}), tenant_id=tenant_id)
    assert other.id != ws.id

    report = await job.run(tenant_id=tenant_id)

    assert report.sources == {"task": "full"}
    assert [doc.id for doc in store.query("tasks", tenant_id=tenant_id)] == [page["id"]]
    assert {d.id for d in memory.docs.values() if d.metadata["kind"] == "task"} == {page["id"]}


async def test_unselecting_the_routines_source_removes_its_rows(job, ws, store, memory, tenants_repo, tenant_id):
    await job.run(tenant_id=tenant_id)
    config = tenants_repo.get_config(tenant_id=tenant_id)
    tenants_repo.save_config(config.model_copy(update={"routines_data_source_id": None}), tenant_id=tenant_id)

    report = await job.run(tenant_id=tenant_id)

    assert (report.deleted, report.notion_requests) == (6, 0)
    assert store.query("routines", tenant_id=tenant_id) == []
    assert {d.metadata["kind"] for d in memory.docs.values()} == {"task"}
    assert set(SyncStateRepository(store).load(tenant_id=tenant_id).sources) == {"task"}


@pytest.fixture
def tenants_repo(services):
    return services.tenants


# --- failures ------------------------------------------------------------------------------------


async def test_an_odd_row_is_synced_with_defaults_and_never_fails_the_run(job, ws, store, memory, tenant_id,
                                                                        notion_clock):
    await job.run(tenant_id=tenant_id)
    page = find(ws, "routines", "Inbox zero")
    notion_clock.advance(5)
    # A window that ends before it starts: the mapping warns and falls back to the default window.
    ws.update_page(page["id"], {"properties": {"Window end": {"rich_text": text("08:00")}}}, ws.user)

    report = await job.run(tenant_id=tenant_id, full=True)

    assert (report.status, report.written, report.unmappable) == ("ok", 1, 0)
    stored = store.get(f"routines/{page['id']}", tenant_id=tenant_id)
    assert (stored["window_start"], stored["window_end"]) == ("08:00:00", "18:00:00")
    assert_mirrors(ws, store, memory, tenant_id)


async def test_a_memory_failure_leaves_the_cursor_and_the_next_run_finishes(job, ws, store, memory, tenant_id,
                                                                            sandbox, intake, notion_clock):
    await job.run(tenant_id=tenant_id)
    cursor = SyncStateRepository(store).load(tenant_id=tenant_id).sources["task"].cursor
    notion_clock.advance(10)
    page = find(ws, "tasks", "Renew passport")
    ws.update_page(page["id"], {"properties": {"Estimate": {"number": 55}}}, ws.user)
    deliver_outbox(sandbox, intake)
    memory.fail_next = 1

    with pytest.raises(MemoryServiceError):
        await job.run(tenant_id=tenant_id)

    assert store.get(f"tasks/{page['id']}", tenant_id=tenant_id)["estimate_minutes"] == 40
    assert SyncStateRepository(store).load(tenant_id=tenant_id).sources["task"].cursor == cursor
    assert set(DirtyMarks(store).load(tenant_id=tenant_id)) == {"task"}
    report = await job.run(tenant_id=tenant_id)
    assert report.written == 1
    assert_mirrors(ws, store, memory, tenant_id)


async def test_a_transient_notion_error_propagates_and_keeps_the_marks(job, ws, store, tenant_id, sandbox, intake,
                                                                       notion_clock):
    await job.run(tenant_id=tenant_id)
    notion_clock.advance(5)
    ws.update_page(find(ws, "tasks", "Renew passport")["id"], {"properties": {"Estimate": {"number": 55}}}, ws.user)
    deliver_outbox(sandbox, intake)
    sandbox.faults.add({"status": 503, "count": 1, "path": f"/v1/data_sources/{ws.demo['tasks_data_source_id']}/query"})

    with pytest.raises(NotionUnavailable) as raised:
        await job.run(tenant_id=tenant_id)

    assert raised.value.status == 503
    assert set(DirtyMarks(store).load(tenant_id=tenant_id)) == {"task"}
    assert (await job.run(tenant_id=tenant_id)).written == 1


async def test_a_rejected_token_ends_the_run_and_asks_for_reauthorisation(job, services, ws, store, tenant_id, sandbox):
    pair = services.vault.load(tenant_id=tenant_id)
    sandbox.oauth.revoke(pair.refresh_token)  # access and refresh token both stop working

    report = await job.run(tenant_id=tenant_id, full=True)

    assert report.status == "needs_reauth"
    assert services.tenants.get(tenant_id=tenant_id).connection_status == ConnectionStatus.NEEDS_REAUTH
    assert store.query("tasks", tenant_id=tenant_id) == []
    assert (await job.run(tenant_id=tenant_id)).status == "not_connected"


async def test_a_missing_data_source_fails_without_retrying(job, services, store, tenant_id):
    services.tenants.save_config(UserConfig(tasks_data_source_id="0f6104cd-477e-8083-9c5e-000b2fcd2000"),
                                 tenant_id=tenant_id)
    report = await job.run(tenant_id=tenant_id)
    assert (report.status, report.error) == ("failed", "notion_not_found")
    assert SyncStateRepository(store).load(tenant_id=tenant_id).last_result["status"] == "failed"


async def test_a_second_run_of_the_tenant_waits_then_answers_busy(job, store, tenant_id):
    held = Lease(store, "sync", tenant_id=tenant_id, ttl=timedelta(minutes=5))
    assert held.try_acquire()
    job.lease_wait = timedelta(seconds=0)
    with pytest.raises(SyncBusy):
        await job.run(tenant_id=tenant_id)
    held.release()
    assert (await job.run(tenant_id=tenant_id)).status == "ok"


async def test_models_in_the_store_validate(job, store, tenant_id):
    await job.run(tenant_id=tenant_id)
    for doc in store.query("tasks", tenant_id=tenant_id):
        Task.model_validate(doc.data)
    for doc in store.query("routines", tenant_id=tenant_id):
        Routine.model_validate(doc.data)


async def test_a_sync_is_metered_and_logs_its_lag(job, ws, store, tenant_id, sandbox, intake, notion_clock, caplog):
    import logging
    from dataclasses import replace

    from shared.usage.meter import UsageMeter

    caplog.set_level(logging.INFO)
    metered = replace(job, meter=UsageMeter(store, clock=notion_clock))
    report = await metered.run(tenant_id=tenant_id)
    assert report.status == "ok" and report.notion_requests >= 2
    day = notion_clock().date().isoformat()
    daily = store.get(f"usage_daily/{day}", tenant_id=tenant_id)
    assert daily["count_sync"] == 1
    assert daily["count_notion_requests"] == 1
    events = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "sync_completed"]
    assert events and events[-1].fields["lag_seconds"] >= 0
    # A run with nothing to do costs nothing and records nothing.
    await metered.run(tenant_id=tenant_id)
    assert store.get(f"usage_daily/{day}", tenant_id=tenant_id)["count_sync"] == 1
