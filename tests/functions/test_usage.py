"""The usage function end to end: real sessions (SessionManager) against the local SQLite store,
requests through the entry point in a Flask request context."""

from __future__ import annotations

import csv
import importlib
import io
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import flask
import pytest

from shared.backends import get_backends
from shared.config import reset_settings_cache
from shared.connections.services import ConnectionServices
from shared.localstack.stack import ensure_local_secrets
from shared.models import OperationType, Tier, UsageRecord
from shared.usage.meter import UsageMeter
from shared.usage.tiers import TIERS

ROOT = Path(__file__).resolve().parents[2]
TENANT = "ws-0123456789abcdef0123456789abcdef"
OTHER = "ws-fedcba9876543210fedcba9876543210"
ADMIN_TOKEN = "admin-token-for-tests-0123456789"
_app = flask.Flask(__name__)


@pytest.fixture
def usage(tmp_path, monkeypatch):
    """The function module on a fresh local data folder, with two tenants."""
    monkeypatch.setenv("PLANNER_PROFILE", "local")
    monkeypatch.setenv("PLANNER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PLANNER_ADMIN_TOKEN", ADMIN_TOKEN)
    ensure_local_secrets(tmp_path)
    reset_settings_cache()
    module = importlib.import_module("functions.usage.main")
    for tenant_id in (TENANT, OTHER):
        get_backends().documents.set("", {"tenant_id": tenant_id, "workspace_id": tenant_id[3:], "bot_id": "bot",
                                          "tier": "free"}, tenant_id=tenant_id)
    return module


def token(tenant_id: str = TENANT) -> str:
    return ConnectionServices(get_backends()).sessions.issue(tenant_id, epoch=0)


def call(module, method: str, path: str, *, bearer: str | None = None, query: dict | None = None,
         body: object = None, headers: dict | None = None) -> flask.Response:
    headers = dict(headers or {})
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    with _app.test_request_context(path, method=method, headers=headers, query_string=query or {},
                                   json=body if body is not None else None):
        response = module.usage(flask.request)
        response.get_data()  # consume a streamed body while the context is open
        return response


def record(tenant_id: str, operation: OperationType, when: datetime, *, tokens_in: int = 0,
           cost: str = "0", request_id: str = "") -> str:
    meter = UsageMeter(get_backends().documents)
    return meter.record(UsageRecord(operation=operation, tokens_in=tokens_in, cost_usd=Decimal(cost),
                                    timestamp=when, request_id=request_id), tenant_id=tenant_id).log_id


def error_of(response: flask.Response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def test_summary_needs_a_session(usage):
    response = call(usage, "GET", "/usage/summary")
    assert response.status_code == 401
    assert error_of(response)["code"] == "session_missing"
    bad = call(usage, "GET", "/usage/summary", bearer="not-a-jwt")
    assert bad.status_code == 401 and error_of(bad)["code"] == "session_invalid"


def test_summary_reports_today_days_operations_cost_and_quota(usage):
    now = datetime.now(timezone.utc)
    record(TENANT, OperationType.LLM_CALL, now, tokens_in=120, cost="0.0001234")
    record(TENANT, OperationType.SYNC, now)
    record(OTHER, OperationType.PLAN, now)  # another tenant's usage never shows
    response = call(usage, "GET", "/usage/summary", bearer=token())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["tier"] == "free"
    assert len(body["days"]) == 30 and body["days"][-1] == body["today"]
    assert body["today"]["date"] == now.date().isoformat()
    assert (body["today"]["count"], body["today"]["tokens_in"], body["today"]["cost_usd"]) == (2, 120, "0.0001234")
    assert body["by_operation"]["llm_call"]["count"] == 1 and body["by_operation"]["plan"]["count"] == 0
    free = TIERS[Tier.FREE]
    quota = body["quota"]
    assert quota["llm_tokens_per_day"]["limit"] == free.llm_tokens_per_day
    assert quota["llm_tokens_per_day"]["remaining"] == free.llm_tokens_per_day
    assert quota["plans_per_day"]["remaining"] == free.plans_per_day
    # This request counted against the minute (it may have straddled a minute boundary: 0 or 1).
    assert quota["requests_per_minute"]["used"] in (0, 1)
    assert quota["requests_per_minute"]["limit"] == free.requests_per_minute


def test_logs_are_cursor_paginated_and_filtered(usage):
    base = datetime(2025, 3, 10, 12, tzinfo=timezone.utc)
    ids = [record(TENANT, OperationType.LLM_CALL if i % 2 else OperationType.SYNC, base + timedelta(days=i),
                  request_id=f"req-{i}") for i in range(5)]
    record(OTHER, OperationType.SYNC, base)
    session = token()
    seen, cursor = [], None
    for _ in range(5):
        response = call(usage, "GET", "/usage/logs", bearer=session,
                        query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        page = response.get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    filtered = call(usage, "GET", "/usage/logs", bearer=session,
                    query={"operation": "llm_call", "from": "2025-03-11", "to": "2025-03-13"}).get_json()
    assert [item["request_id"] for item in filtered["items"]] == ["req-3", "req-1"]
    assert filtered["next_cursor"] is None
    item = filtered["items"][0]
    assert set(item) == {"id", "timestamp", "operation", "tokens_in", "tokens_out", "cost_usd", "request_id", "detail"}


@pytest.mark.parametrize(
    ("query", "field"),
    [({"operation": "mining"}, "operation"), ({"from": "03/11/2025"}, "from"), ({"to": "2025-13-01"}, "to"),
     ({"from": "2025-03-12", "to": "2025-03-11"}, "to"), ({"limit": "500"}, "limit"), ({"limit": "x"}, "limit"),
     ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"), ({"tenant_id": "someone-else"}, "tenant_id")],
)
def test_invalid_log_filters_are_400_naming_the_field(usage, query, field):
    response = call(usage, "GET", "/usage/logs", bearer=token(), query=query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == field
    assert "someone-else" not in error["message"]  # input is never echoed


def test_export_is_csv_with_the_same_filters(usage):
    base = datetime(2025, 3, 10, 12, tzinfo=timezone.utc)
    for i in range(3):
        record(TENANT, OperationType.LLM_CALL, base + timedelta(days=i), tokens_in=i, cost="0.5",
               request_id=f"req-{i}")
    record(TENANT, OperationType.SYNC, base, request_id="=cmd()")
    response = call(usage, "GET", "/usage/export.csv", bearer=token(), query={"operation": "llm_call", "to": "2025-03-11"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["request_id"], r["tokens_in"], r["cost_usd"], r["operation"]) for r in rows] == [
        ("req-1", "1", "0.5", "llm_call"), ("req-0", "0", "0.5", "llm_call")]
    everything = call(usage, "GET", "/usage/export.csv", bearer=token()).get_data(as_text=True)
    assert "'=cmd()" in everything and len(everything.strip().splitlines()) == 5
    bad = call(usage, "GET", "/usage/export.csv", bearer=token(), query={"from": "soon"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "from"


@pytest.mark.parametrize("path", ["/usage/summary", "/usage/logs", "/usage/export.csv"])
def test_every_endpoint_is_rate_limited_with_retry_after(usage, path):
    limit = TIERS[Tier.FREE].requests_per_minute
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    # Fill this minute's and the next minute's window, so the request is over the limit whichever
    # minute it lands in (no dependence on timing).
    for start in (now, now + timedelta(minutes=1)):
        get_backends().documents.set(f"rate_windows/{start:%Y%m%d%H%M}",
                                     {"requests": limit, "expires_at": start + timedelta(minutes=2)}, tenant_id=TENANT)
    response = call(usage, "GET", path, bearer=token())
    assert response.status_code == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    error = error_of(response)
    assert error["code"] == "rate_limited" and error["retry_after"] == retry_after
    # Another tenant is not affected.
    assert call(usage, "GET", path, bearer=token(OTHER)).status_code == 200


def test_the_session_cookie_works_for_reads(usage):
    cookie_name = ConnectionServices(get_backends()).sessions.cookie_name
    response = call(usage, "GET", "/usage/logs", headers={"Cookie": f"{cookie_name}={token()}"})
    assert response.status_code == 200 and response.get_json() == {"items": [], "next_cursor": None}


def test_a_revoked_session_is_refused(usage):
    session = token()
    get_backends().documents.set("", {"session_epoch": 1}, tenant_id=TENANT, merge=True)
    response = call(usage, "GET", "/usage/logs", bearer=session)
    assert response.status_code == 401 and error_of(response)["code"] == "session_revoked"


def test_admin_changes_a_tenants_tier(usage):
    path = f"/admin/tenants/{TENANT}/tier"
    assert call(usage, "POST", path, body={"tier": "pro"}).status_code == 403
    assert call(usage, "POST", path, body={"tier": "pro"}, bearer=token()).status_code == 403  # a session is not admin
    assert call(usage, "POST", path, body={"tier": "pro"}, bearer="wrong-token").status_code == 403
    bad = call(usage, "POST", path, body={"tier": "gold"}, bearer=ADMIN_TOKEN)
    assert bad.status_code == 400 and error_of(bad)["field"] == "tier"
    extra = call(usage, "POST", path, body={"tier": "pro", "limit": 10**9}, bearer=ADMIN_TOKEN)
    assert extra.status_code == 400 and error_of(extra)["field"] == "limit"
    missing = call(usage, "POST", "/admin/tenants/ws-00000000000000000000000000000000/tier", body={"tier": "pro"},
                   bearer=ADMIN_TOKEN)
    assert missing.status_code == 404 and error_of(missing)["code"] == "unknown_tenant"
    invalid = call(usage, "POST", "/admin/tenants/Not.A.Tenant/tier", body={"tier": "pro"}, bearer=ADMIN_TOKEN)
    assert invalid.status_code == 400 and error_of(invalid)["field"] == "tenant_id"

    response = call(usage, "POST", path, body={"tier": "pro"}, bearer=ADMIN_TOKEN)
    assert response.status_code == 200
    assert response.get_json() == {"tenant_id": TENANT, "tier": "pro", "previous_tier": "free"}
    summary = call(usage, "GET", "/usage/summary", bearer=token()).get_json()
    assert summary["tier"] == "pro"
    assert summary["quota"]["llm_tokens_per_day"]["limit"] == TIERS[Tier.PRO].llm_tokens_per_day


def test_admin_is_disabled_without_a_configured_token(usage, monkeypatch):
    monkeypatch.setenv("PLANNER_ADMIN_TOKEN", "")
    reset_settings_cache()
    response = call(usage, "POST", f"/admin/tenants/{TENANT}/tier", body={"tier": "pro"}, bearer=ADMIN_TOKEN)
    assert response.status_code == 403 and error_of(response)["code"] == "admin_required"


def test_the_function_never_imports_vectors_solver_or_llm_code(tmp_path):
    probe = (
        "import importlib, json, sys\n"
        "importlib.import_module('functions.usage.main')\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('chromadb', 'ortools') or m == 'shared.llm'"
        " or m.startswith('shared.llm.')]\n"
        "print(json.dumps({'heavy': heavy, 'loaded': 'shared.usage.quotas' in sys.modules}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PLANNER_PROFILE": "local", "PLANNER_DATA_DIR": str(tmp_path),
           "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"heavy": [], "loaded": True}


def test_requirements_leave_out_heavy_packages():
    names = [line.split("~")[0].split(">")[0].split("=")[0].strip().lower()
             for line in (ROOT / "functions/usage/requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "functions-framework" in names and "google-cloud-firestore" in names
    assert not {"chromadb", "ortools", "openai"} & set(names)
