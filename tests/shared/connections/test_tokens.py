"""Token refresh: rotating pairs, one refresh for concurrent refreshers, needs_reauth on refusal."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from shared.connections.tokens import NotionTokenProvider, TokenVault
from shared.ids import tenant_id_for_workspace
from shared.models import ConnectionStatus
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionAuthError
from tests.shared.connections.test_signin import sign_in
from tests.support.notion_oauth_fake import WORKSPACE_ID

TENANT = tenant_id_for_workspace(WORKSPACE_ID)


async def test_refresh_rotates_and_stores_the_new_pair(flows, services, notion_oauth):
    await sign_in(flows, notion_oauth)
    old = services.vault.load(tenant_id=TENANT)
    new_access = await services.tokens.refresh_token(TENANT, old.access_token)
    new = services.vault.load(tenant_id=TENANT)
    assert new.access_token == new_access != old.access_token
    assert new.refresh_token != old.refresh_token
    assert old.refresh_token not in notion_oauth.refresh_tokens  # Notion killed the old one


def test_concurrent_refreshers_make_one_refresh_call_and_keep_the_newest_pair(flows, services, notion_oauth):
    asyncio.run(sign_in(flows, notion_oauth))
    rejected = services.vault.load(tenant_id=TENANT).access_token
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def refresher():
        # Each thread is its own "instance": its own provider over the same store.
        provider = NotionTokenProvider(TokenVault(services.backends.documents, services.cipher), services.oauth,
                                       services.tenants)
        barrier.wait()
        try:
            results.append(asyncio.run(provider.refresh_token(TENANT, rejected)))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=refresher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert notion_oauth.token_calls("refresh_token") == 1
    stored = services.vault.load(tenant_id=TENANT)
    assert set(results) == {stored.access_token}
    assert stored.refresh_token in notion_oauth.refresh_tokens  # the live one, not a burnt one


async def test_refused_refresh_marks_the_connection_needs_reauth(flows, services, notion_oauth):
    await sign_in(flows, notion_oauth)
    pair = services.vault.load(tenant_id=TENANT)
    notion_oauth.refresh_tokens.clear()  # e.g. the user removed the integration in Notion
    with pytest.raises(NotionAuthError):
        await services.tokens.refresh_token(TENANT, pair.access_token)
    assert services.tenants.get(tenant_id=TENANT).connection_status == ConnectionStatus.NEEDS_REAUTH


async def test_inactive_token_found_by_introspection_is_refreshed(flows, services, notion_oauth):
    await sign_in(flows, notion_oauth)
    pair = services.vault.load(tenant_id=TENANT)
    notion_oauth.access_tokens.discard(pair.access_token)
    token = await services.tokens.ensure_active(TENANT)
    assert token != pair.access_token and notion_oauth.token_calls("refresh_token") == 1
    assert await services.tokens.ensure_active(TENANT) == token  # active now: no second refresh


async def test_gateway_refreshes_on_401_and_retries_with_the_new_token(flows, services, notion_oauth):
    await sign_in(flows, notion_oauth)
    seen: list[str] = []

    def notion_api(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        seen.append(token)
        if token not in notion_oauth.access_tokens or len(seen) == 1:
            return httpx.Response(401, json={"object": "error", "status": 401, "code": "unauthorized",
                                             "message": "API token is invalid."})
        return httpx.Response(200, json={"object": "user", "id": "bot-1", "type": "bot", "bot": {}})

    gateway = NotionGateway(token_provider=services.tokens, base_url="https://api.notion.test",
                            http_client=httpx.AsyncClient(transport=httpx.MockTransport(notion_api)))
    me = await gateway.users_me(tenant_id=TENANT)
    assert me["id"] == "bot-1"
    assert len(seen) == 2 and seen[0] != seen[1]
    assert services.vault.load(tenant_id=TENANT).access_token == seen[1]
