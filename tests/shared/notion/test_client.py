"""NotionGateway against httpx.MockTransport: tokens, retries, budget, pagination, chunking.

Time is injected (FakeClock): every wait the gateway makes goes through the fake sleep, so the
tests assert on injected seconds, never on wall time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

import httpx
import pytest

from shared.ids import InvalidTenantId
from shared.notion import (
    InvalidNotionId,
    NotionAuthError,
    NotionGateway,
    NotionNotFound,
    NotionRateLimited,
    NotionUnavailable,
    NotionValidationError,
)
from tests.shared.notion.support import FakeClock, FakeTokens, fixture, notion_error

TENANT = "ws-0123456789abcdef0123456789abcdef"
OTHER = "ws-fedcba9876543210fedcba9876543210"
PAGE_ID = "393abc1e-edcd-81e8-95dc-ec52a3110c68"
DS_ID = "56dd91f4-1705-4ba1-9472-255b785b9929"


class Recorder:
    """A MockTransport handler that answers from a script and records what it was sent."""

    def __init__(self, clock: FakeClock, respond: Callable[[httpx.Request, int], httpx.Response]) -> None:
        self.clock = clock
        self.respond = respond
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(self.clock.now)
        return self.respond(request, len(self.requests))

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def make_gateway(respond, *, tokens: FakeTokens | None = None, **kwargs) -> tuple[NotionGateway, Recorder, FakeClock, FakeTokens]:
    clock = FakeClock()
    recorder = Recorder(clock, respond)
    tokens = tokens or FakeTokens()
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    gateway = NotionGateway(
        token_provider=tokens, base_url="https://api.notion.test", http_client=http, clock=clock, sleep=clock.sleep, **kwargs
    )
    return gateway, recorder, clock, tokens


def ok(payload: Any) -> httpx.Response:
    return httpx.Response(200, json=payload)


def error(status: int, code: str, message: str = "x", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=notion_error(status, code, message), headers=headers)


# --- the basics ---------------------------------------------------------------------------------


async def test_sends_the_tenants_token_and_the_2025_09_03_version():
    gateway, rec, _, _ = make_gateway(lambda r, n: ok(fixture("users_me.json")))
    me = await gateway.users_me(tenant_id=TENANT)
    assert me["bot"]["workspace_name"] == "notion-sdk-py"
    request = rec.requests[0]
    assert str(request.url) == "https://api.notion.test/v1/users/me"
    assert request.headers["Authorization"] == f"Bearer {TENANT}-token-1"
    assert request.headers["Notion-Version"] == "2025-09-03"


async def test_each_tenant_uses_its_own_token():
    gateway, rec, _, _ = make_gateway(lambda r, n: ok(fixture("users_me.json")))
    await gateway.users_me(tenant_id=TENANT)
    await gateway.users_me(tenant_id=OTHER)
    assert [r.headers["Authorization"] for r in rec.requests] == [f"Bearer {TENANT}-token-1", f"Bearer {OTHER}-token-1"]


async def test_retrieve_database_returns_its_data_sources():
    gateway, rec, _, _ = make_gateway(lambda r, n: ok(fixture("database.json")))
    database = await gateway.retrieve_database("e234cdc8-4ad2-4371-a97e-999a238bf8f5", tenant_id=TENANT)
    assert database["data_sources"] == [{"id": "b71e1213-3d03-46cb-b9c2-db9856a9f42d", "name": database["title"][0]["plain_text"]}]
    assert rec.requests[0].url.path == "/v1/databases/e234cdc8-4ad2-4371-a97e-999a238bf8f5"


async def test_malformed_ids_and_tenants_are_refused_before_any_request():
    gateway, rec, _, _ = make_gateway(lambda r, n: ok({}))
    with pytest.raises(InvalidNotionId) as raised:
        await gateway.retrieve_page("../users", tenant_id=TENANT)
    assert raised.value.field == "page_id"
    with pytest.raises(InvalidTenantId):
        await gateway.retrieve_page(PAGE_ID, tenant_id="Not/A/Tenant")
    assert rec.requests == []


# --- retries ------------------------------------------------------------------------------------


async def test_429_waits_for_retry_after_on_the_injected_clock_then_succeeds():
    def respond(request, n):
        return error(429, "rate_limited", "You have been rate limited.", {"Retry-After": "2"}) if n == 1 else ok(fixture("users_me.json"))

    gateway, rec, clock, _ = make_gateway(respond)
    await gateway.users_me(tenant_id=TENANT)
    assert len(rec.requests) == 2
    assert clock.sleeps == [2.0]
    assert rec.times == [0.0, 2.0]


async def test_429_is_retried_even_for_a_page_create():
    def respond(request, n):
        return error(429, "rate_limited", headers={"Retry-After": "1"}) if n == 1 else ok(fixture("page_created.json"))

    gateway, rec, clock, _ = make_gateway(respond)
    await gateway.create_page(DS_ID, tenant_id=TENANT, properties={"Name": {"title": []}})
    assert [r.method for r in rec.requests] == ["POST", "POST"]
    assert clock.sleeps == [1.0]


async def test_529_service_overload_is_retried_honouring_retry_after():
    def respond(request, n):
        if n == 1:
            return error(529, "service_overload", "Overloaded", {"Retry-After": "3"})
        return ok(fixture("query_empty.json"))

    gateway, rec, clock, _ = make_gateway(respond)
    result = await gateway.query_data_source(DS_ID, tenant_id=TENANT)
    assert result["results"] == [] and len(rec.requests) == 2
    assert clock.sleeps == [3.0]


async def test_529_without_retry_after_backs_off_exponentially():
    def respond(request, n):
        return httpx.Response(529, text="overloaded") if n <= 2 else ok(fixture("users_me.json"))

    gateway, rec, clock, _ = make_gateway(respond, initial_retry_delay_seconds=1.0)
    await gateway.users_me(tenant_id=TENANT)
    assert len(rec.requests) == 3
    first, second = clock.sleeps
    # The library's full-jitter back-off: base * 2**attempt * (0.5 .. 1.5).
    assert 0.5 <= first <= 1.5 and 1.0 <= second <= 3.0


async def test_500_is_retried_for_reads():
    def respond(request, n):
        return error(500, "internal_server_error") if n == 1 else ok(fixture("page_created.json"))

    gateway, rec, _, _ = make_gateway(respond)
    page = await gateway.retrieve_page(PAGE_ID, tenant_id=TENANT)
    assert page["object"] == "page" and len(rec.requests) == 2


async def test_500_is_not_retried_for_a_create_that_might_have_happened():
    gateway, rec, _, _ = make_gateway(lambda r, n: error(500, "internal_server_error"))
    with pytest.raises(NotionUnavailable) as raised:
        await gateway.create_page(DS_ID, tenant_id=TENANT, properties={})
    assert len(rec.requests) == 1
    assert raised.value.notion_status == 500 and raised.value.status == 503


async def test_persistent_5xx_gives_up_after_max_retries():
    gateway, rec, clock, _ = make_gateway(lambda r, n: error(503, "service_unavailable"), max_retries=3)
    with pytest.raises(NotionUnavailable):
        await gateway.retrieve_page(PAGE_ID, tenant_id=TENANT)
    assert len(rec.requests) == 4 and len(clock.sleeps) == 3


async def test_persistent_429_raises_rate_limited_with_the_last_retry_after():
    gateway, rec, _, _ = make_gateway(lambda r, n: error(429, "rate_limited", headers={"Retry-After": "7"}), max_retries=2)
    with pytest.raises(NotionRateLimited) as raised:
        await gateway.users_me(tenant_id=TENANT)
    assert raised.value.retry_after == 7
    assert raised.value.headers() == {"Retry-After": "7"}
    assert len(rec.requests) == 3


async def test_retry_after_is_capped_by_max_retry_delay():
    def respond(request, n):
        return error(429, "rate_limited", headers={"Retry-After": "3600"}) if n == 1 else ok({})

    gateway, _, clock, _ = make_gateway(respond, max_retry_delay_seconds=30)
    await gateway.search(tenant_id=TENANT)
    assert clock.sleeps == [30.0]


async def test_network_errors_are_retried_for_reads_only():
    def flaky(request, n):
        if n == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return ok(fixture("page_created.json"))

    gateway, rec, _, _ = make_gateway(flaky)
    await gateway.retrieve_page(PAGE_ID, tenant_id=TENANT)
    assert len(rec.requests) == 2

    def down(request, n):
        raise httpx.ConnectError("connection refused", request=request)

    gateway, rec, _, _ = make_gateway(down)
    with pytest.raises(NotionUnavailable):
        await gateway.append_block_children(PAGE_ID, [{"paragraph": {"rich_text": []}}], tenant_id=TENANT)
    assert len(rec.requests) == 1


async def test_timeouts_are_retried_and_then_reported_unavailable():
    def slow(request, n):
        raise httpx.ReadTimeout("timed out", request=request)

    gateway, rec, _, _ = make_gateway(slow, max_retries=1)
    with pytest.raises(NotionUnavailable) as raised:
        await gateway.users_me(tenant_id=TENANT)
    assert len(rec.requests) == 2 and raised.value.notion_code == "timeout"


# --- tokens -------------------------------------------------------------------------------------


async def test_401_refreshes_the_token_once_and_retries_with_the_new_one():
    def respond(request, n):
        if request.headers["Authorization"] == f"Bearer {TENANT}-token-1":
            return httpx.Response(401, json=fixture("error_unauthorized.json"))
        return ok(fixture("users_me.json"))

    gateway, rec, _, tokens = make_gateway(respond)
    await gateway.users_me(tenant_id=TENANT)
    assert tokens.refreshes == [(TENANT, f"{TENANT}-token-1")]
    assert [r.headers["Authorization"] for r in rec.requests] == [f"Bearer {TENANT}-token-1", f"Bearer {TENANT}-token-2"]


async def test_a_second_401_raises_auth_error():
    gateway, rec, _, tokens = make_gateway(lambda r, n: httpx.Response(401, json=fixture("error_unauthorized.json")))
    with pytest.raises(NotionAuthError) as raised:
        await gateway.users_me(tenant_id=TENANT)
    assert len(tokens.refreshes) == 1 and len(rec.requests) == 2
    assert raised.value.code == "notion_reauth_required"
    assert "token-" not in str(raised.value) and "token-" not in raised.value.message


async def test_a_failing_refresh_propagates_the_providers_error():
    class Revoked(Exception):
        pass

    class Tokens(FakeTokens):
        async def refresh_token(self, tenant_id, rejected_token):
            raise Revoked()

    gateway, rec, _, _ = make_gateway(lambda r, n: httpx.Response(401, json=fixture("error_unauthorized.json")), tokens=Tokens())
    with pytest.raises(Revoked):
        await gateway.users_me(tenant_id=TENANT)
    assert len(rec.requests) == 1


# --- errors -------------------------------------------------------------------------------------


async def test_404_and_400_map_to_the_documented_family():
    gateway, _, _, _ = make_gateway(
        lambda r, n: error(404, "object_not_found", "Could not find page with ID: x.")
    )
    with pytest.raises(NotionNotFound) as raised:
        await gateway.retrieve_page(PAGE_ID, tenant_id=TENANT)
    assert raised.value.status == 404 and raised.value.notion_code == "object_not_found"
    assert raised.value.request_id == "0b6e6d1c-5a3a-4f7e-9d7e-1e2f3a4b5c6d"

    gateway, rec, _, _ = make_gateway(lambda r, n: error(400, "validation_error", "Status is expected to be status."))
    with pytest.raises(NotionValidationError) as raised:
        await gateway.update_page(PAGE_ID, tenant_id=TENANT, properties={"Status": {"select": {"name": "x"}}})
    assert raised.value.notion_message == "Status is expected to be status."
    assert len(rec.requests) == 1  # a 400 is never retried


# --- pagination and chunking -------------------------------------------------------------------


async def test_iterate_block_children_follows_next_cursor_over_three_pages():
    pages = [fixture(f"block_children_page{n}.json") for n in (1, 2, 3)]

    def respond(request, n):
        return ok(pages[n - 1])

    gateway, rec, _, _ = make_gateway(respond)
    blocks = [b async for b in gateway.iterate_block_children(PAGE_ID, tenant_id=TENANT)]
    assert [b["paragraph"]["rich_text"][0]["plain_text"] for b in blocks] == [f"paragraph {i}" for i in range(5)]
    cursors = [r.url.params.get("start_cursor") for r in rec.requests]
    assert cursors == [None, pages[0]["next_cursor"], pages[1]["next_cursor"]]
    assert {r.url.params["page_size"] for r in rec.requests} == {"100"}


async def test_iterate_data_source_posts_filter_sorts_and_cursors():
    page = fixture("task_page.json")
    envelope = fixture("query_empty.json")

    def respond(request, n):
        body = dict(envelope, results=[dict(page, id=f"393abc1e-edcd-81e8-95dc-ec52a3110c6{n}")])
        body.update(has_more=n < 3, next_cursor=f"393abc1e-edcd-81e8-95dc-ec52a3110c7{n}" if n < 3 else None)
        return ok(body)

    gateway, rec, _, _ = make_gateway(respond)
    since = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-07-01T00:00:00Z"}}
    sorts = [{"timestamp": "last_edited_time", "direction": "ascending"}]
    rows = [p async for p in gateway.iterate_data_source(DS_ID, tenant_id=TENANT, filter=since, sorts=sorts)]
    assert len(rows) == 3
    bodies = rec.bodies()
    assert all(b["filter"] == since and b["sorts"] == sorts and b["page_size"] == 100 for b in bodies)
    assert ["start_cursor" in b for b in bodies] == [False, True, True]
    assert bodies[2]["start_cursor"] == "393abc1e-edcd-81e8-95dc-ec52a3110c72"
    assert rec.requests[0].url.path == f"/v1/data_sources/{DS_ID}/query"


async def test_append_block_children_sends_100_per_request_in_order():
    def respond(request, n):
        sent = json.loads(request.content)["children"]
        results = [{"object": "block", "id": f"00000000-0000-4000-8000-{n:04d}{i:08d}", "text": c["paragraph"]["rich_text"][0]["text"]["content"]} for i, c in enumerate(sent)]
        return ok({"object": "list", "results": results, "next_cursor": None, "has_more": False, "type": "block", "block": {}})

    gateway, rec, _, _ = make_gateway(respond)
    children = [{"paragraph": {"rich_text": [{"text": {"content": str(i)}}]}} for i in range(250)]
    anchor = "393abc1e-edcd-814b-a6f7-c1f9cf7a9d36"
    created = await gateway.append_block_children(PAGE_ID, children, tenant_id=TENANT, after=anchor)
    assert [len(b["children"]) for b in rec.bodies()] == [100, 100, 50]
    assert [c["text"] for c in created] == [str(i) for i in range(250)]
    # Each chunk goes after the last block of the previous one, so the order survives.
    assert [b["after"] for b in rec.bodies()] == [anchor, created[99]["id"], created[199]["id"]]


async def test_create_page_with_many_children_appends_the_rest():
    def respond(request, n):
        if request.url.path == "/v1/pages":
            return ok(fixture("page_created.json"))
        return ok(fixture("blocks_appended.json"))

    gateway, rec, _, _ = make_gateway(respond)
    children = [{"paragraph": {"rich_text": []}} for _ in range(130)]
    await gateway.create_page(DS_ID, tenant_id=TENANT, properties={"Name": {"title": []}}, children=children)
    create, append = rec.bodies()
    assert create["parent"] == {"type": "data_source_id", "data_source_id": DS_ID}
    assert len(create["children"]) == 100 and len(append["children"]) == 30
    assert rec.requests[1].url.path == f"/v1/blocks/{fixture('page_created.json')['id']}/children"


async def test_update_page_sends_only_what_is_given():
    gateway, rec, _, _ = make_gateway(lambda r, n: ok(fixture("page_created.json")))
    await gateway.update_page(PAGE_ID, tenant_id=TENANT, in_trash=True)
    await gateway.update_page(PAGE_ID, tenant_id=TENANT, properties={"Estimate": {"number": 45}})
    assert rec.bodies() == [{"in_trash": True}, {"properties": {"Estimate": {"number": 45}}}]
    assert {r.method for r in rec.requests} == {"PATCH"}


# --- the per-tenant budget ----------------------------------------------------------------------


async def test_ten_requests_at_three_per_second_without_burst_take_three_injected_seconds():
    gateway, rec, clock, _ = make_gateway(lambda r, n: ok(fixture("users_me.json")), requests_per_second=3, burst=1)
    for _ in range(10):
        await gateway.users_me(tenant_id=TENANT)
    assert clock.now == pytest.approx(3.0)
    assert rec.times == pytest.approx([i / 3 for i in range(10)])


async def test_default_budget_allows_a_burst_of_three_then_three_per_second():
    gateway, rec, clock, _ = make_gateway(lambda r, n: ok(fixture("users_me.json")))
    for _ in range(10):
        await gateway.users_me(tenant_id=TENANT)
    # The first three go at once; every later one waits for its slot at 3/s.
    assert rec.times[:3] == [0.0, 0.0, 0.0]
    assert clock.now == pytest.approx(7 / 3)
    for k, sent_at in enumerate(rec.times):
        # the k-th request (from 0) never goes before its slot at the sustained rate
        assert sent_at >= (k - 2) / 3 - 1e-9
        # any window of w seconds holds at most the burst plus w seconds' worth of requests
        for w in (1.0, 2.0):
            assert sum(1 for t in rec.times if sent_at <= t <= sent_at + w + 1e-9) <= 3 + 3 * w


async def test_concurrent_calls_of_one_tenant_share_its_budget():
    gateway, rec, clock, _ = make_gateway(lambda r, n: ok(fixture("users_me.json")))
    await asyncio.gather(*(gateway.users_me(tenant_id=TENANT) for _ in range(6)))
    assert sorted(rec.times) == pytest.approx([0, 0, 0, 1 / 3, 2 / 3, 1])


async def test_budgets_are_per_tenant():
    gateway, rec, clock, _ = make_gateway(lambda r, n: ok(fixture("users_me.json")))
    for _ in range(3):
        await gateway.users_me(tenant_id=TENANT)
        await gateway.users_me(tenant_id=OTHER)
    assert clock.sleeps == [] and rec.times == [0.0] * 6


async def test_a_retry_after_pauses_the_whole_tenant_but_not_others():
    def respond(request, n):
        if n == 1:
            return error(429, "rate_limited", headers={"Retry-After": "5"})
        return ok(fixture("users_me.json"))

    gateway, rec, clock, _ = make_gateway(respond)
    await gateway.users_me(tenant_id=TENANT)  # 429, waits 5 s, succeeds
    await gateway.users_me(tenant_id=OTHER)
    assert rec.times == [0.0, 5.0, 5.0]
    assert gateway.limiter.reserve(TENANT) == 0.0  # within the tenant's burst again after the pause
