"""functions/agent end to end on the local profile: the scheduler's tick (with the local profile's
X-CloudScheduler header) enqueues the day's planning task, the local dispatcher delivers it to the
function with Cloud Tasks' headers, the plan lands in the Notion sandbox, and a redelivery changes
nothing; the session endpoints (chat, today's plan, replan) with their auth, CSRF and rate limit.

The function runs on the real clock, so the assertions compute "today" the way the function does."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, time, timedelta, timezone

import pytest
from werkzeug.serving import make_server

from shared.agent.dispatch import NEXT_PLAN_AT
from shared.agent.plans import load_plan
from shared.agent.queueing import daily_task_name
from shared.connections.oauth_client import NotionTokenResponse
from shared.connections.services import ConnectionServices
from shared.models import UserConfig, WorkingHours
from shared.notion.mapping import page_to_routine, page_to_task
from shared.taskqueue.base import TENANT_HEADER
from shared.taskqueue.dispatcher import LocalDispatcher
from tests.functions.conftest import ROOT, function_client
from tests.shared.agent.openai_server import ScriptedOpenAI, text, tool_calls

UTC = timezone.utc
SCHEDULER = {"X-CloudScheduler": "true", "X-CloudScheduler-JobName": "planning-dispatch"}
READ_ONLY_POSTS = ("/query", "/v1/search")


def connect(backends, sandbox, *, planning_time: time = time(7, 30)) -> str:
    """Connect the sandbox's demo workspace (tokens in the vault), select its databases."""
    ws = sandbox.default_workspace
    minted = sandbox.mint_tokens(ws.id)
    services = ConnectionServices(backends)
    tenant, _ = services.tenants.upsert_from_oauth(NotionTokenResponse.from_json(minted))
    services.vault.save(minted["access_token"], minted["refresh_token"], tenant_id=tenant.tenant_id)
    config = UserConfig(tasks_data_source_id=ws.demo["tasks_data_source_id"],
                        routines_data_source_id=ws.demo["routines_data_source_id"], timezone="UTC",
                        planning_time=planning_time,
                        working_hours=WorkingHours(start=time(0, 0), end=time(23, 59), days=[1, 2, 3, 4, 5, 6, 7]))
    services.tenants.save_config(config, tenant_id=tenant.tenant_id)
    # What the sync would have stored (its own tests cover how): the rows of both data sources.
    for collection, source, mapper in (("tasks", config.tasks_data_source_id, page_to_task),
                                       ("routines", config.routines_data_source_id, page_to_routine)):
        for page in ws.query_data_source(source, {"page_size": 100})["results"]:
            value = mapper(page).value
            backends.documents.set(f"{collection}/{value.id}", value.model_dump(mode="json"),
                                   tenant_id=tenant.tenant_id)
    return tenant.tenant_id


def bearer(backends, tenant_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ConnectionServices(backends).sessions.issue(tenant_id)}"}


def sandbox_writes(sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sandbox.faults.requests()
            if r["method"] in ("POST", "PATCH", "DELETE") and not r["path"].endswith(READ_ONLY_POSTS)]


@pytest.fixture
def agent_server():
    """The agent function on 127.0.0.1 (a free port), for the local dispatcher to deliver to."""
    app = function_client("agent").application
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_importing_the_function_loads_no_engine_llm_or_memory(tmp_path):
    probe = ("import sys; import functions.agent.main; "
             "print(sorted(m for m in ('chromadb', 'ortools', 'shared.llm', 'shared.planning', 'shared.memory', "
             "'notion_client') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PLANNER_PROFILE": "local",
                                           "PLANNER_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_the_scheduler_tick_plans_each_tenant_once_and_a_redelivery_changes_nothing(
        local_env, notion_sandbox, agent_server):
    sandbox, _ = notion_sandbox
    backends = local_env
    due = datetime.now(UTC) - timedelta(minutes=5)
    tenant_id = connect(backends, sandbox, planning_time=due.time().replace(second=0, microsecond=0))
    backends.documents.set("", {NEXT_PLAN_AT: due}, tenant_id=tenant_id, merge=True)
    client = function_client("agent")

    assert client.post("/dispatch/planning", json={}).status_code == 401  # not the scheduler
    first = client.post("/dispatch/planning", json={}, headers=SCHEDULER)
    again = client.post("/dispatch/planning", json={}, headers=SCHEDULER)
    assert first.status_code == 200 and first.get_json()["enqueued"] == 1
    assert again.get_json()["enqueued"] == 0
    [task] = backends.tasks.all_tasks()
    day = due.date()
    assert task.task_id == daily_task_name(tenant_id=tenant_id, day=day)
    assert task.payload == {"date": day.isoformat(), "mode": "daily", "reason": "daily plan"}
    assert backends.documents.get("", tenant_id=tenant_id)[NEXT_PLAN_AT] > datetime.now(UTC)

    # The local stack's dispatcher delivers it to the function, as Cloud Tasks would.
    dispatcher = LocalDispatcher(backends.tasks, {"agent": agent_server}, max_attempts=1)
    try:
        counts = dispatcher.run_once()
    finally:
        dispatcher.close()
    assert counts.delivered == 1, counts
    plan = load_plan(backends.documents, day, tenant_id=tenant_id)
    assert plan is not None and plan.daily_done and plan.page_id
    writes = sandbox_writes(sandbox)
    assert ("POST", "/v1/pages") in writes

    # Cloud Tasks redelivers the same task: the saved result comes back, Notion sees nothing new.
    headers = {"X-CloudTasks-TaskName": task.task_id, "X-CloudTasks-QueueName": "planning", TENANT_HEADER: tenant_id}
    replay = client.post("/tasks/plan", json=task.payload, headers=headers)
    assert replay.status_code == 200 and replay.get_json()["status"] == "ok"
    assert sandbox_writes(sandbox) == writes
    # A new delivery of the same day under another name finds the day planned.
    other = client.post("/tasks/plan", json=task.payload, headers={**headers, "X-CloudTasks-TaskName": "other-name"})
    assert other.get_json()["status"] == "already_planned" and sandbox_writes(sandbox) == writes


def test_plan_task_requests_are_checked(local_env, notion_sandbox):
    sandbox, _ = notion_sandbox
    tenant_id = connect(local_env, sandbox)
    client = function_client("agent")
    task = {"X-CloudTasks-TaskName": "plan-x", TENANT_HEADER: tenant_id}
    assert client.post("/tasks/plan", json={"date": "2026-12-01"}).status_code == 401
    assert client.post("/tasks/plan", json={"date": "2026-12-01"},
                       headers={"X-CloudTasks-TaskName": "plan-x"}).status_code == 400  # no tenant
    bad_date = client.post("/tasks/plan", json={"date": "tomorrow"}, headers=task)
    assert bad_date.status_code == 400 and bad_date.get_json()["error"]["code"] == "invalid_plan_day"
    assert client.post("/tasks/plan", json={"mode": "daily"}, headers=task).status_code == 400
    past = client.post("/tasks/plan", json={"date": "2020-01-01"}, headers=task)
    assert past.status_code == 200 and past.get_json()["status"] == "day_over"
    assert sandbox_writes(sandbox) == []


def test_today_plan_and_replan_need_a_session_and_show_the_stored_plan(local_env, notion_sandbox):
    sandbox, _ = notion_sandbox
    tenant_id = connect(local_env, sandbox)
    client = function_client("agent")
    assert client.get("/plan/today").status_code == 401
    auth = bearer(local_env, tenant_id)
    missing = client.get("/plan/today", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "no_plan"

    replanned = client.post("/plan/replan", headers=auth)
    assert replanned.status_code == 200, replanned.get_data(as_text=True)
    report = replanned.get_json()
    assert report["status"] == "ok" and report["page"] == "created"
    today = client.get("/plan/today", headers=auth)
    assert today.status_code == 200
    body = today.get_json()
    assert body["date"] == report["date"] and body["mode"] == "replan" and body["page_url"] == report["page_url"]
    assert [b["title"] for b in body["blocks"]] == [b["title"] for b in report["plan"]["blocks"]]


def test_chat_with_the_offline_adapter_writes_to_notion_and_confirms(local_env, notion_sandbox):
    sandbox, _ = notion_sandbox
    tenant_id = connect(local_env, sandbox)
    client = function_client("agent")
    auth = bearer(local_env, tenant_id)
    answer = client.post("/chat", json={"message": 'create "Write report" due Friday'}, headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["conversation_id"].startswith("c-") and body["finished"]
    assert [w["action"] for w in body["writes"]] == ["created"]
    assert "Saved in Notion:\n- Created “Write report” in Notion, due Fri " in body["answer"]
    assert ("POST", "/v1/pages") in sandbox_writes(sandbox)
    follow = client.post("/chat", json={"message": "find report", "conversation_id": body["conversation_id"]},
                         headers=auth)
    assert follow.status_code == 200 and "“Write report”" in follow.get_json()["answer"]
    stored = local_env.documents.get(f"conversations/{body['conversation_id']}", tenant_id=tenant_id)
    assert len(stored["history"]) == 4


def test_chat_auth_csrf_validation_and_rate_limit(local_env, notion_sandbox):
    sandbox, _ = notion_sandbox
    tenant_id = connect(local_env, sandbox)
    client = function_client("agent")
    assert client.post("/chat", json={"message": "hi"}).status_code == 401
    token = ConnectionServices(local_env).sessions.issue(tenant_id)
    client.set_cookie("planner_session", token)
    no_csrf = client.post("/chat", json={"message": "hi"})
    assert no_csrf.status_code == 403  # a cookie-authenticated POST needs its CSRF token
    client.delete_cookie("planner_session")
    auth = {"Authorization": f"Bearer {token}"}
    invalid = client.post("/chat", json={"message": ""}, headers=auth)
    assert invalid.status_code == 400 and invalid.get_json()["error"]["field"] == "message"
    bad_id = client.post("/chat", json={"message": "hi", "conversation_id": "../x"}, headers=auth)
    assert bad_id.status_code == 400
    # The free tier's 60 requests a minute (two counted above). The window is the real clock's
    # minute, so send until refused: within 121 requests whatever minute boundary falls inside.
    statuses = []
    while not statuses or statuses[-1] != 429:
        statuses.append(client.post("/chat", json={"extra": 1}, headers=auth).status_code)
        assert len(statuses) <= 121
    assert set(statuses[:-1]) == {400} and len(statuses) - 1 <= 58
    limited = client.post("/chat", json={"message": "hi"}, headers=auth)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert sandbox_writes(sandbox) == []


def test_chat_through_an_openai_compatible_provider_refuses_malformed_calls(local_env, notion_sandbox, monkeypatch):
    sandbox, _ = notion_sandbox
    tenant_id = connect(local_env, sandbox)
    server = ScriptedOpenAI(tool_calls(("complete_task", '{"task": "Renew passport"')),
                            tool_calls(("complete_task", {"task": "Renew passport"})),
                            text("Marked it done."))
    try:
        monkeypatch.setenv("PLANNER_LLM_PROVIDER", "openai")
        monkeypatch.setenv("PLANNER_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("PLANNER_LLM_API_KEY", "sk-function-test")
        from shared.config import reset_settings_cache

        reset_settings_cache()
        client = function_client("agent")
        answer = client.post("/chat", json={"message": "I renewed my passport"},
                             headers=bearer(local_env, tenant_id))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        first_result = [m for m in server.requests[1]["messages"] if m["role"] == "tool"][0]
        assert "could not be read" in json.loads(first_result["content"])["error"]
        writes = sandbox_writes(sandbox)
        assert [m for m, _ in writes] == ["PATCH"]  # only the well-formed second call wrote
        assert answer.get_json()["answer"] == (
            "Marked it done.\n\nSaved in Notion:\n- Marked “Renew passport” as done in Notion.")
    finally:
        server.close()
