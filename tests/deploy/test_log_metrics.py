"""The log-based metrics the alerts use match the lines the code really writes: request lines from
shared/web.py (status, latency, function, hashed tenant, trace) and named events."""

from __future__ import annotations

import io
import json
import logging

import flask
import pytest

from shared import logs
from shared.deploy.context import DeployContext
from shared.deploy.infra import load_infra
from shared.errors import Unavailable
from shared.observability import NOTION_REFRESH_FAILED, PLAN_WRITTEN, SYNC_COMPLETED, log_event
from shared.web import Router
from tests.deploy.conftest import ROOT
from tests.deploy.logfilter import extract, log_entry, matches
from tests.shared.connections.conftest import flows, notion_oauth, services, settings  # noqa: F401 - fixtures
from tests.shared.connections.test_signin import sign_in

PROJECT = "planner-test-1"
INFRA = load_infra(ROOT / "infra")
CTX = DeployContext(project=PROJECT, region="europe-west1", project_number="123456789012",
                    function_names=tuple(INFRA.functions))
METRICS = {name: CTX.expand(body, name) for name, body in INFRA.metrics.items()}
TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.CloudLoggingFormatter(PROJECT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda function: [log_entry(line, project=PROJECT, function=function)
                                for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _matching(entries) -> dict[str, list[dict]]:
    return {name: [e for e in entries if matches(metric["filter"], e)] for name, metric in METRICS.items()}


def test_request_lines_carry_status_latency_function_tenant_and_trace_and_feed_the_request_metrics(captured):
    router = Router("usage")

    @router.get("/usage/summary")
    def summary(request, ctx):
        ctx.set_tenant("tenant-42")
        return {"ok": True}

    @router.get("/usage/broken")
    def broken(request, ctx):
        raise Unavailable()

    app = flask.Flask(__name__)
    for path in ("/usage/summary", "/usage/broken"):
        with app.test_request_context(path, headers={"X-Cloud-Trace-Context": f"{TRACE}/123;o=1"}):
            router.handle(flask.request)
    requests = [e for e in captured("usage") if "httpRequest" in e]

    ok, failed = requests
    assert ok["httpRequest"]["status"] == 200 and failed["httpRequest"]["status"] == 503
    assert ok["httpRequest"]["latency"].endswith("s") and ok["jsonPayload"]["latency_ms"] >= 0
    assert ok["labels"]["function"] == "usage" and ok["labels"]["tenant"] == logs.hash_tenant("tenant-42")
    assert "tenant-42" not in json.dumps(ok)
    assert ok["trace"] == f"projects/{PROJECT}/traces/{TRACE}" and ok["spanId"] == "123"
    found = _matching(requests)
    assert found["planner_requests"] == [ok, failed]
    assert found["planner_server_errors"] == [failed]
    assert found["planner_request_latency"] == [ok, failed]
    latency = METRICS["planner_request_latency"]
    assert isinstance(extract(latency["valueExtractor"], ok), float)
    assert extract(latency["labelExtractors"]["function"], ok) == "usage"
    assert not found["planner_plans_written"] and not found["planner_sync_lag"]


def test_named_events_feed_their_metrics_and_nothing_else(captured):
    log_event(PLAN_WRITTEN, plan_date="2025-06-02")
    log_event(SYNC_COMPLETED, lag_seconds=95.0)
    log_event(NOTION_REFRESH_FAILED)
    log_event("tenant_connected")
    plan, sync, refresh, other = captured("agent")
    found = _matching([plan, sync, refresh, other])
    assert found["planner_plans_written"] == [plan]
    assert found["planner_sync_lag"] == [sync]
    assert extract(METRICS["planner_sync_lag"]["valueExtractor"], sync) == 95.0
    assert found["planner_notion_refresh_failed"] == [refresh]
    assert not found["planner_requests"]


async def test_the_real_refresh_failure_line_feeds_the_refresh_failures_metric(flows, services, notion_oauth,  # noqa: F811
                                                                               captured):
    from shared.ids import tenant_id_for_workspace
    from shared.notion.errors import NotionAuthError
    from tests.support.notion_oauth_fake import WORKSPACE_ID

    tenant = tenant_id_for_workspace(WORKSPACE_ID)
    await sign_in(flows, notion_oauth)
    pair = services.vault.load(tenant_id=tenant)
    notion_oauth.refresh_tokens.clear()  # Notion refuses the refresh token
    with pytest.raises(NotionAuthError):
        await services.tokens.refresh_token(tenant, pair.access_token)
    found = _matching(captured("sync"))
    assert len(found["planner_notion_refresh_failed"]) == 1
