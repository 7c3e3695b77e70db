"""NotionGateway end to end against the sandbox: OAuth, rotation on 401, queries, page round trips.

The gateway's clock is injected (FakeClock), so retries and the budget cost no wall time; the
sandbox's request log is the witness of what reached "Notion".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shared.models import Priority, Task, TaskStatus
from shared.notion import NotionAuthError, NotionGateway, NotionNotFound, NotionValidationError
from shared.notion.mapping import page_to_task, pages_to_routines, pages_to_tasks, task_to_properties
from shared.notion.templates import ROUTINES_TEMPLATE, TASKS_TEMPLATE
from tests.shared.notion.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
from tests.shared.notion.support import FakeClock

TENANT = "ws-0123456789abcdef0123456789abcdef"


class SandboxTokens:
    """A TokenProvider that holds one tenant's pair and refreshes it at the sandbox (rotating)."""

    def __init__(self, base_url: str, tokens: dict) -> None:
        self.base_url = base_url
        self.access = tokens["access_token"]
        self.refresh = tokens["refresh_token"]
        self.refresh_calls = 0

    async def get_token(self, tenant_id: str) -> str:
        return self.access

    async def refresh_token(self, tenant_id: str, rejected_token: str) -> str:
        if rejected_token != self.access:
            return self.access
        self.refresh_calls += 1
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{self.base_url}/v1/oauth/token",
                auth=(CLIENT_ID, CLIENT_SECRET),
                json={"grant_type": "refresh_token", "refresh_token": self.refresh},
            )
        if response.status_code != 200:
            raise NotionAuthError()
        body = response.json()
        self.access, self.refresh = body["access_token"], body["refresh_token"]
        return self.access


async def oauth_connect(base_url: str) -> dict:
    """The browser dance and the code exchange, with httpx."""
    params = {"client_id": CLIENT_ID, "response_type": "code", "owner": "user", "redirect_uri": REDIRECT_URI, "state": "xyz"}
    async with httpx.AsyncClient() as http:
        consent = await http.get(f"{base_url}/v1/oauth/authorize", params=params)
        assert consent.status_code == 200
        decision = await http.post(f"{base_url}/v1/oauth/authorize", data=dict(params, decision="allow"))
        query = parse_qs(urlsplit(decision.headers["Location"]).query)
        assert query["state"] == ["xyz"]
        exchanged = await http.post(
            f"{base_url}/v1/oauth/token",
            auth=(CLIENT_ID, CLIENT_SECRET),
            json={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": REDIRECT_URI},
        )
    assert exchanged.status_code == 200
    return exchanged.json()


@pytest.fixture
async def connected(server):
    tokens = SandboxTokens(server.url, await oauth_connect(server.url))
    clock = FakeClock()
    gateway = NotionGateway(token_provider=tokens, base_url=server.url, clock=clock, sleep=clock.sleep)
    yield gateway, tokens, clock
    await gateway.aclose()


def _log(server, workspace_id=None):
    return httpx.get(f"{server.url}/__sandbox__/requests", params={"workspace_id": workspace_id} if workspace_id else None).json()["requests"]


async def test_oauth_then_read_the_demo_tasks_and_routines(server, sandbox, connected):
    gateway, _, _ = connected
    demo = sandbox.default_workspace.demo
    me = await gateway.users_me(tenant_id=TENANT)
    assert me["bot"]["workspace_id"] == sandbox.default_workspace.id
    database = await gateway.retrieve_database(demo["tasks_database_id"], tenant_id=TENANT)
    source_id = database["data_sources"][0]["id"]
    pages = [p async for p in gateway.iterate_data_source(source_id, tenant_id=TENANT)]
    tasks, warnings = pages_to_tasks(pages)
    assert warnings == [] and len(tasks) == 14
    by_title = {t.title: t for t in tasks}
    write_doc = by_title["Write Q3 planning doc"]
    assert (write_doc.status, write_doc.priority, write_doc.due, write_doc.estimate_minutes, write_doc.splittable) == (
        TaskStatus.IN_PROGRESS, Priority.HIGH, date(2026, 7, 8), 120, True,
    )
    assert by_title["Call the bank about the mortgage"].scheduled_start == datetime(2026, 7, 6, 10, 30, tzinfo=timezone.utc)
    assert by_title["Learn Esperanto"].status == TaskStatus.CANCELLED

    routine_pages = [p async for p in gateway.iterate_data_source(demo["routines_data_source_id"], tenant_id=TENANT)]
    routines, warnings = pages_to_routines(routine_pages)
    assert warnings == [] and {r.title for r in routines if not r.active} == {"Guitar"}


async def test_filtered_query_through_the_gateway(server, sandbox, connected, sandbox_clock):
    gateway, _, _ = connected
    source_id = sandbox.default_workspace.demo["tasks_data_source_id"]
    open_urgent = {"and": [{"property": "Priority", "select": {"equals": "Urgent"}}, {"property": "Status", "select": {"does_not_equal": "Done"}}]}
    pages = [p async for p in gateway.iterate_data_source(source_id, tenant_id=TENANT, filter=open_urgent, sorts=[{"property": "Due", "direction": "ascending"}])]
    assert [page_to_task(p).value.title for p in pages] == ["Reply to Anna about the offsite", "Fix flaky CI test in the sync worker"]

    sandbox_clock.now += timedelta(hours=2)
    await gateway.update_page(pages[0]["id"], tenant_id=TENANT, properties={"Estimate": {"number": 10}})
    since = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-07-06T10:00:00Z"}}
    changed = [p async for p in gateway.iterate_data_source(source_id, tenant_id=TENANT, filter=since)]
    assert [p["id"] for p in changed] == [pages[0]["id"]]


async def test_a_task_round_trips_through_create_retrieve_update_and_trash(server, sandbox, connected):
    gateway, _, _ = connected
    source_id = sandbox.default_workspace.demo["tasks_data_source_id"]
    schema = (await gateway.retrieve_data_source(source_id, tenant_id=TENANT))["properties"]
    task = Task(
        id="draft", title="Draft the onboarding email", status=TaskStatus.TODO, priority=Priority.HIGH,
        due=datetime(2026, 7, 9, 17, 0, tzinfo=timezone(timedelta(hours=2))),
        scheduled_start=datetime(2026, 7, 7, 9, 30, tzinfo=timezone.utc), estimate_minutes=50, splittable=True,
        min_chunk_minutes=25, tags=["work", "email"], notes="Mention the calendar import.",
    )
    written = task_to_properties(task, schema=schema)
    assert written.warnings == []
    created = await gateway.create_page(
        source_id, tenant_id=TENANT, properties=written.value,
        children=[{"paragraph": {"rich_text": [{"text": {"content": f"step {i}"}}]}} for i in range(120)],
    )
    fetched = await gateway.retrieve_page(created["id"], tenant_id=TENANT)
    back = page_to_task(fetched)
    assert back.warnings == []
    assert back.value == task.model_copy(update={"id": created["id"], "url": fetched["url"], "last_edited_time": back.value.last_edited_time})
    blocks = [b async for b in gateway.iterate_block_children(created["id"], tenant_id=TENANT)]
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in blocks] == [f"step {i}" for i in range(120)]

    done = task_to_properties(back.value.model_copy(update={"status": TaskStatus.DONE}), schema=schema, fields={"status"})
    updated = await gateway.update_page(created["id"], tenant_id=TENANT, properties=done.value)
    assert page_to_task(updated).value == back.value.model_copy(update={"status": TaskStatus.DONE, "last_edited_time": page_to_task(updated).value.last_edited_time})

    await gateway.update_page(created["id"], tenant_id=TENANT, in_trash=True)
    remaining = [p["id"] async for p in gateway.iterate_data_source(source_id, tenant_id=TENANT)]
    assert created["id"] not in remaining
    with pytest.raises(NotionValidationError):
        await gateway.update_page(created["id"], tenant_id=TENANT, properties=done.value)


async def test_onboarding_creates_the_template_databases(server, sandbox, connected):
    gateway, _, _ = connected
    root = sandbox.default_workspace.demo["root_page_id"]
    for template in (TASKS_TEMPLATE, ROUTINES_TEMPLATE):
        database = await gateway.create_database(root, tenant_id=TENANT, **template.create_kwargs())
        source = await gateway.retrieve_data_source(database["data_sources"][0]["id"], tenant_id=TENANT)
        assert set(source["properties"]) == set(template.properties)
        assert template.missing_properties(source) == {}
    found = await gateway.search(tenant_id=TENANT, query="Tasks", filter={"property": "object", "value": "data_source"})
    assert len(found["results"]) == 2  # the demo's and the new one


async def test_an_expired_token_is_refreshed_once_and_the_old_refresh_token_dies(server, sandbox, connected):
    gateway, tokens, _ = connected
    old_refresh = tokens.refresh
    httpx.post(f"{server.url}/__sandbox__/tokens/expire", json={"token": tokens.access})
    await gateway.users_me(tenant_id=TENANT)
    assert tokens.refresh_calls == 1 and tokens.refresh != old_refresh
    reused = httpx.post(f"{server.url}/v1/oauth/token", auth=(CLIENT_ID, CLIENT_SECRET), json={"grant_type": "refresh_token", "refresh_token": old_refresh})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


async def test_a_revoked_connection_raises_auth_error(server, sandbox, connected):
    gateway, tokens, _ = connected
    httpx.post(f"{server.url}/v1/oauth/revoke", auth=(CLIENT_ID, CLIENT_SECRET), json={"token": tokens.access})
    with pytest.raises(NotionAuthError):
        await gateway.users_me(tenant_id=TENANT)


async def test_injected_429_529_and_500_are_survived_with_the_right_waits(server, sandbox, connected):
    gateway, _, clock = connected
    workspace_id = sandbox.default_workspace.id
    source_id = sandbox.default_workspace.demo["tasks_data_source_id"]
    httpx.delete(f"{server.url}/__sandbox__/requests")
    for fault in ({"status": 429, "count": 1, "retry_after": 2}, {"status": 529, "count": 1, "retry_after": 1}, {"status": 500, "count": 1}):
        httpx.post(f"{server.url}/__sandbox__/faults", json=fault | {"path": f"/v1/data_sources/{source_id}/query"})
    result = await gateway.query_data_source(source_id, tenant_id=TENANT)
    assert len(result["results"]) == 14
    statuses = [r["status"] for r in _log(server, workspace_id)]
    assert statuses == [429, 529, 500, 200]
    assert clock.sleeps[:2] == [2.0, 1.0] and 2.0 <= clock.sleeps[2] <= 6.0  # Retry-After, then back-off


async def test_the_sandbox_sees_no_more_than_the_budget(server, sandbox, connected):
    gateway, _, clock = connected
    httpx.delete(f"{server.url}/__sandbox__/requests")
    start = clock.now
    for _ in range(10):
        await gateway.users_me(tenant_id=TENANT)
    log = _log(server, sandbox.default_workspace.id)
    assert len(log) == 10 and {r["status"] for r in log} == {200}
    assert clock.now - start >= (10 - 3) / 3 - 1e-9


async def test_unknown_ids_are_not_found(connected):
    gateway, _, _ = connected
    with pytest.raises(NotionNotFound):
        await gateway.retrieve_page("00000000-0000-4000-8000-000000000000", tenant_id=TENANT)


async def test_injected_latency_beyond_the_timeout_is_retried_for_reads(server, sandbox):
    tokens = SandboxTokens(server.url, sandbox.mint_tokens(sandbox.default_workspace.id))
    clock = FakeClock()
    gateway = NotionGateway(token_provider=tokens, base_url=server.url, timeout_seconds=0.2, clock=clock, sleep=clock.sleep)
    httpx.delete(f"{server.url}/__sandbox__/requests")
    httpx.post(f"{server.url}/__sandbox__/faults", json={"latency_ms": 1000, "count": 1, "path": "/v1/users/me"})
    try:
        me = await gateway.users_me(tenant_id=TENANT)
    finally:
        await gateway.aclose()
    assert me["object"] == "user"
    assert len(clock.sleeps) >= 1  # the timed-out attempt was retried after a back-off
    assert httpx.get(f"{server.url}/__sandbox__/faults").json() == {"faults": []}


async def test_gateway_from_settings_uses_the_configured_notion(server):
    from shared.config import Settings

    settings = Settings(notion_api_base=server.url, notion_requests_per_second=5.0)
    tokens = SandboxTokens(server.url, {"access_token": "ntn_unknown", "refresh_token": "nrt_unknown"})
    gateway = NotionGateway.from_settings(settings, token_provider=tokens)
    httpx.delete(f"{server.url}/__sandbox__/requests")
    try:
        # An unknown token: the sandbox answers 401 (not 400 missing_version), so the version
        # header was sent; the refresh is refused, so the call ends in NotionAuthError.
        with pytest.raises(NotionAuthError):
            await gateway.users_me(tenant_id=TENANT)
    finally:
        await gateway.aclose()
    assert [(r["path"], r["status"]) for r in _log(server)] == [("/v1/users/me", 401), ("/v1/oauth/token", 400)]
    assert gateway.limiter.rate == 5.0
