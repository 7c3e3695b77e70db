"""The OpenAPI documents against the real functions.

* the committed docs/openapi/*.json are exactly what the generator builds;
* every route of every function's Router is in its document, and nothing else is;
* every schema is a valid JSON Schema (2020-12, as OpenAPI 3.1 uses);
* each function is driven through its real entry point (functions-framework's app, the local
  store, the sandbox Notion) with valid and invalid input, and EVERY response — errors included —
  is validated against the document: status listed (or ``default``), media type, body schema and
  documented headers. Valid request bodies must validate against the request schema; the invalid
  ones sent must not. Each function's test ends by checking that every documented operation was
  exercised.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from urllib.parse import urlencode, urlparse

import httpx
import jsonschema
import pytest

from shared.openapi import FUNCTIONS, document, document_text
from tests.functions.conftest import (  # noqa: F401
    function_client,
    local_env,
    notion_sandbox,
)

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "admin-token-for-tests-0123456789"  # tests/functions/conftest.py sets it
WEBHOOK_TOKEN = "secret_openapi_contract_webhook_token"


# --- the documents themselves -----------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_committed_document_equals_the_generator_output(function):
    path = ROOT / "docs" / "openapi" / f"{function}.json"
    assert path.exists(), f"{path} is missing: run python -m shared.openapi"
    assert path.read_text(encoding="utf-8") == document_text(function), "stale: run python -m shared.openapi"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_document_is_openapi_3_1_with_valid_schemas(function):
    doc = document(function)
    assert doc["openapi"].startswith("3.1.") and doc["info"]["title"] and doc["servers"]
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        for method, op in item.items():
            assert method in ("get", "post", "put", "patch", "delete")
            operation_ids.append(op["operationId"])
            assert "default" in op["responses"] and op["summary"]
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path and param["required"] is True
            for response in op["responses"].values():
                for media in (response.get("content") or {}).values():
                    jsonschema.Draft202012Validator.check_schema({**media["schema"], "components": doc["components"]})
    assert len(operation_ids) == len(set(operation_ids))
    # Every $ref points at a component that exists.
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref


def _router(function: str):
    module = importlib.import_module(f"functions.{function}.main")
    return module.router


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_route_of_the_router_is_documented_and_nothing_else(function, local_env):  # noqa: F811
    routes = {(method, path) for method, path in _router(function).routes()}
    documented = {(method.upper(), path) for path, item in document(function)["paths"].items() for method in item}
    assert routes - documented == set(), f"routes of {function} missing from its document"
    assert documented - routes == set(), f"documented operations {function} does not serve"


def test_every_function_serves_its_document(local_env):  # noqa: F811
    for function in FUNCTIONS:
        response = function_client(function).get("/openapi.json")
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.get_data(as_text=True) == document_text(function)


# --- validating real answers ------------------------------------------------------------------------


def _matches(template: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
    return re.fullmatch(pattern, path) is not None


class Contract:
    """Sends requests through a function's test client and checks each answer against the document."""

    def __init__(self, function: str, client=None) -> None:
        self.function = function
        self.doc = document(function)
        self.client = client or function_client(function)
        self.seen: set[tuple[str, str]] = set()  # (METHOD, template) exercised
        self.statuses: set[tuple[str, str, int]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        exact = self.doc["paths"].get(path, {}).get(method.lower())
        if exact is not None:
            return path, exact
        for template, item in self.doc["paths"].items():
            if _matches(template, path) and method.lower() in item:
                return template, item[method.lower()]
        return None

    def schema(self, schema: dict) -> dict:
        return {**schema, "components": self.doc["components"]}

    def check_request(self, method: str, path: str, body, *, valid: bool) -> None:
        found = self.operation(method, path)
        assert found is not None
        content = found[1]["requestBody"]["content"]
        media, spec = next(iter(content.items()))
        errors = list(jsonschema.Draft202012Validator(self.schema(spec["schema"])).iter_errors(body))
        if valid:
            assert not errors, f"{method} {path}: a body the handler accepts fails the document: {errors[0].message}"
        else:
            assert errors, f"{method} {path}: a body the handler refuses passes the document"

    def send(self, method: str, path: str, *, expect: int | None = None, json_body=None, form=None,
             check_body: bool | None = None, **kwargs):
        if json_body is not None:
            kwargs["json"] = json_body
        if form is not None:
            kwargs["data"] = form
        response = self.client.open(path, method=method, **kwargs)
        response.get_data()
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code,
                                                    response.get_data(as_text=True)[:500])
        self.validate(method, path.split("?", 1)[0], response)
        if check_body is not None and json_body is not None:
            self.check_request(method, path.split("?", 1)[0], json_body, valid=check_body)
        return response

    def validate(self, method: str, path: str, response) -> None:
        status = response.status_code
        found = self.operation(method, path)
        if found is None:  # routing errors: the standard error body
            assert status in (404, 405), (method, path, status)
            self.statuses.add((method, path, status))
            entry = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        else:
            template, op = found
            self.seen.add((method, template))
            self.statuses.add((method, template, status))
            entry = op["responses"].get(str(status)) or op["responses"]["default"]
            if str(status) not in op["responses"]:
                assert status >= 400, f"{method} {template}: undocumented success status {status}"
        for header in (entry.get("headers") or {}):
            assert header in response.headers, f"{method} {path} {status}: documented header {header} missing"
        content = entry.get("content")
        if not content:
            assert not response.get_data() or response.mimetype != "application/json", (method, path, status)
            return
        assert response.mimetype in content, f"{method} {path} {status}: {response.mimetype} not in {list(content)}"
        schema = self.schema(content[response.mimetype]["schema"])
        if response.mimetype == "application/json":
            instance = json.loads(response.get_data(as_text=True))
        else:
            instance = response.get_data(as_text=True)
        try:
            jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator,
                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        except jsonschema.ValidationError as error:
            pytest.fail(f"{method} {path} {status}: the answer does not match the document: {error.message} "
                        f"at {list(error.absolute_path)}")

    def assert_all_exercised(self, *, skip: set[tuple[str, str]] = frozenset()) -> None:
        documented = {(m.upper(), p) for p, item in self.doc["paths"].items() for m in item}
        missing = documented - self.seen - set(skip)
        assert not missing, f"{self.function}: operations never exercised: {sorted(missing)}"
        assert any(status >= 400 for _, _, status in self.statuses), "no error answer was validated"


def consent(server, authorize_url: str, decision: str = "allow") -> str:
    from urllib.parse import parse_qs

    query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
    answer = httpx.post(f"{server.url}/v1/oauth/authorize", content=urlencode({**query, "decision": decision}),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    return answer.headers["Location"]


def signed_in(contract: Contract, server) -> str:
    """Sign in through the oauth function (validated on the way); return the session token."""
    oauth = contract if contract.function == "oauth" else Contract("oauth")
    started = oauth.send("GET", "/oauth/start", expect=302)
    back = urlparse(consent(server, started.headers["Location"]))
    done = oauth.send("GET", f"{back.path}?{back.query}", expect=302)
    cookie = next(c for c in done.headers.getlist("Set-Cookie") if c.startswith("planner_session="))
    return cookie.split(";")[0].split("=", 1)[1]


def common(contract: Contract) -> None:
    contract.send("GET", "/healthz", expect=200)
    contract.send("GET", "/openapi.json", expect=200)
    contract.send("GET", "/no/such/route", expect=404)
    contract.send("DELETE", "/healthz", expect=405)


def test_oauth_answers_match_the_document(local_env, notion_sandbox):  # noqa: F811
    _, server = notion_sandbox
    api = Contract("oauth")
    common(api)
    api.send("GET", "/session", expect=401)
    started = api.send("GET", "/oauth/start", expect=302)
    denied = urlparse(consent(server, started.headers["Location"], "deny"))
    api.send("GET", f"{denied.path}?{denied.query}", expect=400)
    api.send("GET", "/oauth/callback?code=x&state=forged", expect=400)
    token = signed_in(api, server)
    bearer = {"Authorization": f"Bearer {token}"}
    session = api.send("GET", "/session", expect=200)
    api.send("GET", "/session", expect=401, headers={"Authorization": "Bearer not-a-jwt"})
    api.send("POST", "/oauth/disconnect", expect=403)  # cookie without the CSRF token
    api.send("GET", "/account/export", expect=200)
    api.send("POST", "/account/delete", expect=403)
    api.send("POST", "/oauth/disconnect", expect=200, headers={"X-CSRF-Token": session.get_json()["csrf_token"]})
    api.send("GET", "/account/export", expect=401, headers=bearer)  # every session ended
    token = signed_in(api, server)
    api.send("POST", "/account/delete", expect=200, headers={"Authorization": f"Bearer {token}"})
    api.assert_all_exercised()


def test_usage_answers_match_the_document(local_env, notion_sandbox):  # noqa: F811
    from datetime import datetime, timezone
    from decimal import Decimal

    from shared.ids import tenant_id_for_workspace
    from shared.models import OperationType, UsageRecord
    from shared.usage.meter import UsageMeter

    sandbox, server = notion_sandbox
    api = Contract("usage")
    common(api)
    token = signed_in(api, server)
    tenant = tenant_id_for_workspace(sandbox.default_workspace.id)
    meter = UsageMeter(local_env.documents)
    for operation in (OperationType.LLM_CALL, OperationType.SYNC, OperationType.PLAN):
        meter.record(UsageRecord(operation=operation, tokens_in=10, cost_usd=Decimal("0.00002"),
                                 timestamp=datetime.now(timezone.utc), request_id="r1"), tenant_id=tenant)
    bearer = {"Authorization": f"Bearer {token}"}
    api.client.delete_cookie("planner_session")
    api.send("GET", "/usage/summary", expect=401)
    api.send("GET", "/usage/summary", expect=200, headers=bearer)
    page = api.send("GET", "/usage/logs?limit=2", expect=200, headers=bearer)
    cursor = page.get_json()["next_cursor"]
    api.send("GET", "/usage/logs?" + urlencode({"limit": 2, "cursor": cursor}), expect=200, headers=bearer)
    api.send("GET", "/usage/logs?operation=sync&from=2020-01-01&to=2100-01-01", expect=200, headers=bearer)
    api.send("GET", "/usage/logs?limit=0", expect=400, headers=bearer)
    api.send("GET", "/usage/logs?from=2025-02-02&to=2025-01-01", expect=400, headers=bearer)
    api.send("GET", "/usage/logs?cursor=%%%", expect=400, headers=bearer)
    api.send("GET", "/usage/export.csv?operation=llm_call", expect=200, headers=bearer)
    api.send("GET", "/usage/export.csv?operation=nope", expect=400, headers=bearer)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    path = f"/admin/tenants/{tenant}/tier"
    api.send("POST", path, expect=200, json_body={"tier": "pro"}, headers=admin, check_body=True)
    api.send("POST", path, expect=400, json_body={"tier": "platinum"}, headers=admin, check_body=False)
    api.send("POST", path, expect=400, json_body={"tier": "pro", "extra": 1}, headers=admin, check_body=False)
    api.send("POST", path, expect=403, json_body={"tier": "pro"}, headers=bearer)
    api.send("POST", "/admin/tenants/ws-00000000000000000000000000000000/tier", expect=404, json_body={"tier": "pro"},
             headers=admin)
    api.assert_all_exercised()


def test_sync_answers_match_the_document(local_env, notion_sandbox, monkeypatch):  # noqa: F811
    from shared.config import reset_settings_cache
    from shared.sync.signature import sign

    monkeypatch.setenv("PLANNER_NOTION_WEBHOOK_VERIFICATION_TOKEN", WEBHOOK_TOKEN)
    reset_settings_cache()
    sandbox, server = notion_sandbox
    api = Contract("sync")
    common(api)
    event = json.loads((ROOT / "tests" / "fixtures" / "notion_webhooks" / "page_created.json").read_text())
    raw = json.dumps(event).encode()
    signed = {"X-Notion-Signature": sign(raw, WEBHOOK_TOKEN), "Content-Type": "application/json"}
    api.send("POST", "/webhooks/notion", expect=200, data=raw, headers=signed)  # unknown workspace: ignored
    api.check_request("POST", "/webhooks/notion", event, valid=True)
    api.send("POST", "/webhooks/notion", expect=200, json_body={"verification_token": WEBHOOK_TOKEN}, check_body=True)
    api.send("POST", "/webhooks/notion", expect=401, data=raw,
             headers={"X-Notion-Signature": "sha256=" + "0" * 64, "Content-Type": "application/json"})
    broken = b'{"id": "nope"}'
    api.send("POST", "/webhooks/notion", expect=400, data=broken,
             headers={"X-Notion-Signature": sign(broken, WEBHOOK_TOKEN), "Content-Type": "application/json"})
    api.check_request("POST", "/webhooks/notion", {"id": "nope"}, valid=False)
    api.send("POST", "/webhooks/notion", expect=413, data=b"x" * (1024 * 1024 + 10), headers=signed)
    token_tenant = signed_in(Contract("oauth"), server)
    assert token_tenant
    from shared.ids import tenant_id_for_workspace

    tenant = tenant_id_for_workspace(sandbox.default_workspace.id)
    task = {"X-CloudTasks-TaskName": "contract-sync-1", "X-Planner-Tenant-Id": tenant}
    api.send("POST", "/tasks/sync", expect=401, json_body={})
    api.send("POST", "/tasks/sync", expect=200, json_body={"full": True}, headers=task, check_body=True)
    api.send("POST", "/tasks/sync", expect=400, json_body={"full": "very"}, headers={**task, "X-CloudTasks-TaskName": "c-2"},
             check_body=False)
    api.send("POST", "/tasks/sync", expect=400, json_body={},
             headers={"X-CloudTasks-TaskName": "c-3", "X-Planner-Tenant-Id": "../../etc"})
    api.send("POST", "/dispatch/reconcile", expect=401, json_body={})
    api.send("POST", "/dispatch/reconcile", expect=200, json_body={}, headers={"X-CloudScheduler": "true"},
             check_body=True)
    api.assert_all_exercised()


def small_tasks_source(sandbox) -> str:
    """A Tasks data source with one task in the sandbox's workspace (few Notion writes when planning)."""
    from shared.notion.templates import TASKS_TEMPLATE

    workspace = sandbox.default_workspace
    kwargs = TASKS_TEMPLATE.create_kwargs()
    database = workspace.create_database({
        "parent": {"type": "page_id", "page_id": workspace.demo["root_page_id"]},
        "title": [{"type": "text", "text": {"content": "Contract tasks"}}],
        "initial_data_source": {"properties": kwargs["properties"]},
    }, workspace.user)
    source = database["data_sources"][0]["id"]
    workspace.create_page({"parent": {"type": "data_source_id", "data_source_id": source}, "properties": {
        "Name": {"title": [{"type": "text", "text": {"content": "Write the report"}}]},
        "Estimate": {"number": 30}, "Priority": {"select": {"name": "High"}}}}, workspace.user)
    return source


def test_agent_answers_match_the_document(local_env, notion_sandbox):  # noqa: F811
    from datetime import datetime, time, timezone

    from shared.connections.services import ConnectionServices
    from shared.ids import tenant_id_for_workspace
    from shared.models import UserConfig, WorkingHours

    sandbox, server = notion_sandbox
    api = Contract("agent")
    common(api)
    api.send("POST", "/dispatch/planning", expect=401, json_body={})
    api.send("POST", "/dispatch/planning", expect=200, json_body={}, headers={"X-CloudScheduler": "true"},
             check_body=True)
    api.send("POST", "/chat", expect=401, json_body={"message": "hi"})
    token = signed_in(Contract("oauth"), server)
    bearer = {"Authorization": f"Bearer {token}"}
    tenant = tenant_id_for_workspace(sandbox.default_workspace.id)
    ConnectionServices(local_env).tenants.save_config(UserConfig(
        tasks_data_source_id=small_tasks_source(sandbox), timezone="UTC",
        working_hours=WorkingHours(start=time(0, 0), end=time(23, 59), days=[1, 2, 3, 4, 5, 6, 7])), tenant_id=tenant)
    api.send("GET", "/plan/today", expect=404, headers=bearer)
    api.send("POST", "/chat", expect=200, json_body={"message": "what's next?"}, headers=bearer, check_body=True)
    api.send("POST", "/chat", expect=400, json_body={"message": ""}, headers=bearer, check_body=False)
    api.send("POST", "/chat", expect=400, json_body={"message": "hi", "tools": []}, headers=bearer, check_body=False)
    api.send("POST", "/plan/replan", expect=200, headers=bearer)
    api.send("GET", "/plan/today", expect=200, headers=bearer)
    today = datetime.now(timezone.utc).date().isoformat()
    task = {"X-CloudTasks-TaskName": "contract-plan-1", "X-Planner-Tenant-Id": tenant}
    api.send("POST", "/tasks/plan", expect=401, json_body={"date": today})
    api.send("POST", "/tasks/plan", expect=400, json_body={"date": "tomorrow"},
             headers={**task, "X-CloudTasks-TaskName": "contract-plan-2"})
    api.send("POST", "/tasks/plan", expect=200, json_body={"date": today, "mode": "replan"}, headers=task,
             check_body=True)
    api.check_request("POST", "/tasks/plan", {"mode": "weekly"}, valid=False)
    api.assert_all_exercised()


def test_web_answers_match_the_document(local_env, notion_sandbox):  # noqa: F811
    sandbox, server = notion_sandbox
    api = Contract("web")
    common(api)
    api.send("GET", "/", expect=200)
    api.send("GET", "/help", expect=200)
    api.send("GET", "/app", expect=302)
    api.send("POST", "/api/chat", expect=401, json_body={"message": "hi"})
    html = api.client.get("/").get_data(as_text=True)
    for asset in re.findall(r'(?:href|src)="(/assets/[^"]+)"', html):
        api.send("GET", asset, expect=200)
    api.send("GET", "/assets/nope.css", expect=404)
    token = signed_in(api, server)
    api.client.set_cookie("planner_session", token)

    def csrf(path: str) -> str:
        page = api.send("GET", path, expect=200)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    def form(path: str, data: dict, *, expect: int, page: str | None = None):
        token = csrf(page or path) if expect != 403 else "forged"
        return api.send("POST", path, expect=expect, form={"csrf_token": token, **data})

    api.send("GET", "/onboarding", expect=200)
    api.send("GET", "/onboarding/preview", expect=302)
    demo = sandbox.default_workspace.demo
    form("/onboarding/sources", {"tasks_data_source_id": "nope"}, expect=400)
    form("/onboarding/sources", {}, expect=403)
    form("/onboarding/template", {}, expect=400, page="/onboarding/sources")
    form("/onboarding/template", {"parent_page_id": demo["root_page_id"]}, expect=303, page="/onboarding/sources")
    form("/onboarding/sources", {"tasks_data_source_id": demo["tasks_data_source_id"],
                                 "routines_data_source_id": demo["routines_data_source_id"]}, expect=303)
    schedule = {"planning_time": "07:30", "timezone": "UTC", "work_start": "00:00", "work_end": "23:59",
                "work_days": ["1", "2", "3", "4", "5", "6", "7"]}
    form("/onboarding/schedule", {**schedule, "work_end": "not a time"}, expect=400)
    form("/onboarding/schedule", schedule, expect=303)
    api.send("GET", "/onboarding/preview", expect=200)
    form("/onboarding/finish", {}, expect=303, page="/onboarding/preview")
    api.send("GET", "/app", expect=200)
    api.send("GET", "/usage", expect=200)
    api.send("GET", "/chat", expect=200)
    form("/chat", {"message": ""}, expect=400)
    form("/chat", {"message": "what's next?"}, expect=303)
    chat_token = csrf("/chat")
    headers = {"X-CSRF-Token": chat_token}
    api.send("POST", "/api/chat", expect=200, json_body={"message": "what's next?"}, headers=headers, check_body=True)
    api.send("POST", "/api/chat", expect=400, json_body={"message": ""}, headers=headers, check_body=False)
    api.send("POST", "/api/chat", expect=400, json_body={"message": "x", "admin": True}, headers=headers,
             check_body=False)
    api.send("POST", "/api/chat", expect=403, json_body={"message": "hi"})
    form("/settings", {**schedule, "webhook_url": "http://insecure.example"}, expect=400)
    form("/settings", {**schedule, "notion_page": "on"}, expect=303)
    api.send("GET", "/settings/export", expect=200)
    form("/feedback", {"message": ""}, expect=400)
    form("/feedback", {"kind": "idea", "message": "More charts"}, expect=303)
    form("/signout", {}, expect=303, page="/help")
    api.client.set_cookie("planner_session", token)
    form("/settings/delete", {"confirm": "no"}, expect=400, page="/settings")
    form("/settings/disconnect", {}, expect=200, page="/settings")
    token = signed_in(api, server)
    api.client.set_cookie("planner_session", token)
    form("/settings/delete", {"confirm": "DELETE"}, expect=200, page="/settings")
    api.assert_all_exercised()


# --- the mirrors in shared/openapi/schemas.py stay true to what they mirror -------------------------


def _shape(schema: dict) -> dict:
    """A JSON schema without titles and descriptions (what validation depends on)."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k not in ("title", "description")}
    if isinstance(schema, list):
        return [_shape(v) for v in schema]
    return schema


@pytest.mark.parametrize("function,model,mirror", [
    ("sync", "SyncTaskBody", "SyncTaskBody"),
    ("agent", "PlanTaskBody", "PlanTaskBody"),
    ("agent", "ChatBody", "AgentChatBody"),
])
def test_request_mirrors_validate_like_the_handlers_models(function, model, mirror, local_env):  # noqa: F811
    from shared.openapi import schemas

    real = getattr(importlib.import_module(f"functions.{function}.main"), model)
    assert _shape(real.model_json_schema()) == _shape(getattr(schemas, mirror).model_json_schema())
    assert real.model_config.get("extra") == getattr(schemas, mirror).model_config.get("extra")


def test_answer_mirrors_have_the_fields_of_what_they_mirror():
    import dataclasses

    from shared.agent.chat import ChatReply
    from shared.agent.dispatch import DispatchReport
    from shared.agent.planning_job import PlanReport
    from shared.agent.tools import WriteRecord
    from shared.openapi import schemas
    from shared.sync.job import SyncReport
    from shared.sync.reconcile import ReconcileDispatch

    def names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    assert names(SyncReport) == set(schemas.SyncReport.model_fields)
    assert names(PlanReport) == set(schemas.ReplanReport.model_fields)
    assert names(PlanReport) - {"plan"} == set(schemas.PlanRunReport.model_fields)
    assert names(WriteRecord) == set(schemas.WriteRecordView.model_fields)
    assert set(ChatReply("c", "a").to_dict()) == set(schemas.AgentChatReply.model_fields)
    assert set(DispatchReport().to_dict()) == set(schemas.PlanningDispatch.model_fields)
    assert {f.name for f in dataclasses.fields(ReconcileDispatch)} >= set(schemas.ReconcileDispatch.model_fields)
