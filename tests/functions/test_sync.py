"""functions/sync end to end: the sandbox Notion POSTs signed webhooks to the function over HTTP,
the local dispatcher delivers the queued sync tasks to it with Cloud Tasks' headers, and afterwards
the document store and the memory (read back by an independent reader) hold exactly the
workspace. Notion requests are counted at the sandbox.

Everything binds 127.0.0.1 on free ports; the memory uses the real embedding model."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import flask
import httpx
import pytest
from werkzeug.serving import make_server

from shared.backends import get_backends
from shared.config import reset_settings_cache
from shared.connections.services import ConnectionServices
from shared.localstack.stack import ensure_local_secrets
from shared.memory.embeddings import Embedder
from shared.memory.errors import EmbeddingModelUnavailable
from shared.memory.memory import MemoryService
from shared.memory.model_files import locate_model
from shared.models import ConnectionStatus
from shared.notion.mapping import page_to_routine, page_to_task
from shared.notion.sandbox.state import NotionSandbox
from shared.notion.sandbox.server import SandboxServer
from shared.store.base import DocumentStore
from shared.sync.signature import sign
from shared.sync.verification import SECRET_NAME
from shared.taskqueue.base import TENANT_HEADER
from shared.taskqueue.dispatcher import LocalDispatcher
from shared.taskqueue.local import SqliteTaskQueue
from tests.shared.sync.sandbox import CLIENT_ID, CLIENT_SECRET, add_task, connect, find, queries, rows
from tests.shared.sync.support import raw_fixture
from tests.support.requires import unavailable

WEBHOOK_TOKEN = "secret_e2e_webhook_verification_token"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    try:
        files = locate_model()
    except EmbeddingModelUnavailable as exc:
        unavailable(f"embedding model: {exc.message}")
    model = Embedder(files)
    model.embed(["warm up"])
    return model


def _function_app():
    import functions.sync.main as main

    app = flask.Flask("sync-under-test")

    # What functions-framework does for an HTTP function: every path goes to the entry point.
    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def entry(path):
        return main.sync(flask.request)

    return app


@dataclass
class Stack:
    sandbox: NotionSandbox
    notion_url: str
    url: str  # the sync function
    data_dir: Path
    embedder: Embedder

    @property
    def store(self) -> DocumentStore:
        return get_backends().documents

    @property
    def queue(self) -> SqliteTaskQueue:
        return get_backends().tasks

    def services(self) -> ConnectionServices:
        return ConnectionServices(get_backends())

    def reader(self) -> MemoryService:
        """An independent memory reader: sees only what the function published."""
        backends = get_backends()
        return MemoryService(backends.blobs, backends.documents, self.embedder, cache_dir=self.data_dir / "reader")

    def dispatch(self) -> int:
        """Deliver every queued task (coalescing windows and reconcile spreads are in the future)."""
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        dispatcher = LocalDispatcher(SqliteTaskQueue(self.data_dir / "tasks.sqlite3"), {"sync": self.url},
                                     clock=lambda: later, max_attempts=1)
        try:
            counts = dispatcher.run_once()
        finally:
            dispatcher.close()
        assert counts.failed == counts.retried == 0, counts
        return counts.delivered


@pytest.fixture
def stack(tmp_path, monkeypatch, embedder) -> Iterator[Stack]:
    sandbox = NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=False)
    notion = SandboxServer(sandbox).start()
    secrets = ensure_local_secrets(tmp_path)
    (secrets / SECRET_NAME).unlink()  # learnt from Notion's verification request below
    server = make_server("127.0.0.1", 0, _function_app(), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    for name, value in {
        "PLANNER_PROFILE": "local",
        "PLANNER_DATA_DIR": str(tmp_path),
        "PLANNER_NOTION_API_BASE": notion.url,
        "PLANNER_NOTION_CLIENT_ID": CLIENT_ID,
        "PLANNER_NOTION_CLIENT_SECRET": CLIENT_SECRET,
        "PLANNER_NOTION_REQUESTS_PER_SECOND": "200",
        "PLANNER_FUNCTION_URLS": json.dumps({"sync": url}),
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Stack(sandbox, notion.url, url, tmp_path, embedder)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        notion.stop()
        get_backends().documents.close()


@pytest.fixture
def ws(stack):
    workspace = stack.sandbox.add_workspace("Ada's Notion")
    delivery = stack.sandbox.subscribe(stack.url + "/webhooks/notion", WEBHOOK_TOKEN, verify=True)
    assert delivery.status == 200  # the function kept the token: signed events verify from now on
    return workspace


@pytest.fixture
def tenant_id(stack, ws) -> str:
    tenant = connect(stack.services(), stack.sandbox, ws)
    # The first sync comes from the hourly reconcile (Cloud Scheduler → dispatch → one task per tenant).
    response = httpx.post(stack.url + "/dispatch/reconcile", headers={"X-CloudScheduler": "true"})
    assert response.status_code == 200 and response.json()["enqueued"] == 1
    assert stack.dispatch() == 1
    return tenant


def assert_mirrors_workspace(stack: Stack, ws, tenant_id: str) -> None:
    store = stack.store
    for kind, mapper in (("tasks", page_to_task), ("routines", page_to_routine)):
        live = {p["id"]: mapper(p).value.model_dump(mode="json") for p in rows(ws, kind)}
        stored = {doc.id: doc.data for doc in store.query(kind, tenant_id=tenant_id)}
        assert stored == live, kind
    reader = stack.reader()
    try:
        assert reader.ids(tenant_id=tenant_id) == {p["id"] for kind in ("tasks", "routines") for p in rows(ws, kind)}
    finally:
        reader.close()


def flush(stack: Stack) -> list[dict]:
    deliveries = stack.sandbox.flush_webhooks()
    assert deliveries and all(d.status == 200 for d in deliveries), [(d.payload["type"], d.status) for d in deliveries]
    return deliveries


# --- the pipeline --------------------------------------------------------------------------------


def test_webhooks_then_jobs_leave_store_and_memory_equal_to_the_workspace(stack, ws, tenant_id):
    assert_mirrors_workspace(stack, ws, tenant_id)
    sandbox = stack.sandbox
    sandbox.faults.clear_log()
    created = add_task(ws, "Organise the garage sale", Tags={"multi_select": [{"name": "home"}]},
                       Notes={"rich_text": [{"type": "text", "text": {"content": "Price tags, tables, a sign."}}]})
    renamed = find(ws, "tasks", "Renew passport")
    new_title = [{"type": "text", "text": {"content": "Renew passport at the town hall"}}]
    ws.update_page(renamed["id"], {"properties": {"Name": {"title": new_title},
                                                  "Status": {"select": {"name": "In progress"}}}}, ws.user)
    trashed = find(ws, "tasks", "Weekly grocery order")
    ws.update_page(trashed["id"], {"in_trash": True}, ws.user)
    walk = find(ws, "routines", "Lunch walk")
    ws.update_page(walk["id"], {"properties": {"Duration": {"number": 45}}}, ws.user)

    deliveries = flush(stack)
    assert [d.payload["type"] for d in deliveries] == ["page.created", "page.properties_updated", "page.deleted",
                                                      "page.properties_updated"]
    assert sandbox.faults.requests(ws.id) == []  # the webhook endpoint never calls Notion
    pending = stack.queue.all_tasks(status="pending")
    assert 1 <= len(pending) <= 2  # one per 20-second window: a burst lands in one, rarely straddles two

    assert stack.dispatch() == len(pending)

    # One query per changed data source, nothing per page (the deletion needed no request at all).
    requested = sandbox.faults.requests(ws.id)
    assert sorted(r["path"] for r in requested) == sorted(
        f"/v1/data_sources/{ws.demo[f'{kind}_data_source_id']}/query" for kind in ("tasks", "routines"))
    assert_mirrors_workspace(stack, ws, tenant_id)
    reader = stack.reader()
    try:
        [garage] = reader.search("preparing a yard sale", tenant_id=tenant_id, k=1)
        assert garage.id == created["id"] and garage.metadata["kind"] == "task"
        [passport] = reader.search("passport renewal at the town hall", tenant_id=tenant_id, k=1,
                                   where={"kind": "task"})
        assert passport.id == renamed["id"] and passport.metadata["status"] == "in_progress"
        [routine] = reader.search("walk at lunchtime", tenant_id=tenant_id, k=1, where={"kind": "routine"})
        assert routine.id == walk["id"] and routine.metadata["duration_minutes"] == 45
        assert trashed["id"] not in {h.id for h in reader.search("grocery order", tenant_id=tenant_id, k=10)}
    finally:
        reader.close()


def test_an_edit_in_one_source_costs_one_query_and_redelivery_costs_none(stack, ws, tenant_id):
    page = find(ws, "routines", "Morning workout")
    ws.update_page(page["id"], {"properties": {"Duration": {"number": 50}}}, ws.user)
    flush(stack)
    [task] = stack.queue.all_tasks(status="pending")
    stack.sandbox.faults.clear_log()

    assert stack.dispatch() == 1

    assert queries(stack.sandbox, ws.id) == [f"/v1/data_sources/{ws.demo['routines_data_source_id']}/query"]
    assert stack.store.get(f"routines/{page['id']}", tenant_id=tenant_id)["duration_minutes"] == 50
    first = stack.queue.get("sync", task.task_id)
    assert first.status == "done"

    # Cloud Tasks delivers the same task again: the saved result answers, Notion is not called.
    stack.sandbox.faults.clear_log()
    headers = {"X-CloudTasks-TaskName": task.task_id, "X-CloudTasks-QueueName": "sync", TENANT_HEADER: tenant_id,
               "Content-Type": "application/json"}
    again = httpx.post(stack.url + "/tasks/sync", content=b"{}", headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "ok"
    assert stack.sandbox.faults.requests(ws.id) == []


def test_the_reconcile_removes_a_deletion_notion_never_delivered(stack, ws, tenant_id):
    page = find(ws, "tasks", "Book dentist appointment")
    ws.update_page(page["id"], {"in_trash": True}, ws.user)
    stack.sandbox.outbox.take_pending()  # the page.deleted event is lost
    assert stack.store.get(f"tasks/{page['id']}", tenant_id=tenant_id) is not None

    # A second dispatch within the hour enqueues nothing: this period's reconcile already ran.
    known = len(stack.queue.all_tasks())
    response = httpx.post(stack.url + "/dispatch/reconcile", headers={"X-CloudScheduler": "true"})
    assert response.json()["already_enqueued"] == 1 and len(stack.queue.all_tasks()) == known

    # Next period's reconcile task: its full listing notices the missing row.
    headers = {"X-CloudTasks-TaskName": "reconcile-next-period", "X-CloudTasks-QueueName": "sync",
               TENANT_HEADER: tenant_id, "Content-Type": "application/json"}
    result = httpx.post(stack.url + "/tasks/sync", json={"full": True}, headers=headers).json()

    assert (result["status"], result["deleted"], result["mode"]) == ("ok", 1, "full")
    assert_mirrors_workspace(stack, ws, tenant_id)


def test_a_revoked_connection_ends_the_task_with_200_and_needs_reauth(stack, ws, tenant_id):
    services = stack.services()
    stack.sandbox.oauth.revoke(services.vault.load(tenant_id=tenant_id).refresh_token)
    ws.update_page(find(ws, "tasks", "Renew passport")["id"], {"properties": {"Estimate": {"number": 5}}}, ws.user)
    flush(stack)

    assert stack.dispatch() == 1  # answered 2xx: Cloud Tasks does not retry forever

    assert services.tenants.get(tenant_id=tenant_id).connection_status == ConnectionStatus.NEEDS_REAUTH
    [task] = [t for t in stack.queue.all_tasks() if t.payload.get("reason") == "webhook"]
    assert (task.status, task.attempts) == ("done", 1)


# --- HTTP answers of the webhook endpoint --------------------------------------------------------


def post_webhook(stack: Stack, body: bytes, *, token: str | None = WEBHOOK_TOKEN, **headers) -> httpx.Response:
    if token is not None:
        headers["X-Notion-Signature"] = sign(body, token)
    return httpx.post(stack.url + "/webhooks/notion", content=body,
                      headers={"Content-Type": "application/json", **headers})


def test_webhook_http_answers(stack, ws, tenant_id):
    event = json.loads(raw_fixture("page_created.json"))
    event["workspace_id"] = ws.id
    event["data"]["parent"]["data_source_id"] = ws.demo["tasks_data_source_id"]
    body = json.dumps(event).encode()
    before = len(stack.queue.all_tasks())

    assert post_webhook(stack, body, token="secret_wrong").status_code == 401
    assert post_webhook(stack, body, token=None).status_code == 401
    bad_json = post_webhook(stack, b"{nope")
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    too_big = post_webhook(stack, b'{"x": "' + b"a" * (1024 * 1024) + b'"}')
    assert too_big.status_code == 413
    assert len(stack.queue.all_tasks()) == before  # none of those changed anything

    unknown = json.loads(raw_fixture("unknown_type.json"))
    unknown["workspace_id"] = ws.id
    ignored = post_webhook(stack, json.dumps(unknown).encode())
    assert ignored.status_code == 200 and ignored.json() == {"status": "ignored", "reason": "event type not used"}

    first = post_webhook(stack, body)
    duplicate = post_webhook(stack, body)
    assert (first.json()["status"], duplicate.json()["status"]) == ("accepted", "duplicate")
    assert len(stack.queue.all_tasks()) == before + 1


def test_task_and_dispatch_routes_refuse_other_callers(stack, ws, tenant_id):
    assert httpx.post(stack.url + "/tasks/sync", json={}, headers={TENANT_HEADER: tenant_id}).status_code == 401
    assert httpx.post(stack.url + "/dispatch/reconcile").status_code == 401
    no_tenant = httpx.post(stack.url + "/tasks/sync", json={}, headers={"X-CloudTasks-TaskName": "t1"})
    assert no_tenant.status_code == 400


LAZY_IMPORT_PROBE = """
import json, sys
import flask
import functions.sync.main as main
from shared.sync.signature import sign
app = flask.Flask("probe")
statuses = []
for name, token in json.loads(sys.argv[1]):
    body = open(name, "rb").read()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Notion-Signature"] = sign(body, token)
    with app.test_request_context("/webhooks/notion", method="POST", data=body, headers=headers):
        statuses.append(main.sync(flask.request).status_code)
heavy = ["chromadb", "onnxruntime", "tokenizers", "shared.memory.memory", "notion_client", "google.auth",
         "google.cloud.storage", "shared.sync.job"]
print(json.dumps({"statuses": statuses, "loaded": [name for name in heavy if name in sys.modules]}))
"""


def test_the_webhook_path_loads_neither_the_memory_nor_the_notion_client(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    fixtures = root / "tests/fixtures/notion_webhooks"
    token = json.loads((fixtures / "verification.json").read_text())["verification_token"]
    deliveries = [(str(fixtures / "verification.json"), None), (str(fixtures / "page_created.json"), token)]
    env = {**os.environ, "PLANNER_PROFILE": "local", "PLANNER_DATA_DIR": str(tmp_path), "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", LAZY_IMPORT_PROBE, json.dumps(deliveries)],
                            capture_output=True, text=True, env=env, cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # The verification stored the token, the signed event verified and was routed (unknown workspace).
    assert outcome == {"statuses": [200, 200], "loaded": []}
