"""Sign-in, re-authorisation, disconnect, export and deletion against Notion faked at the transport."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from shared.auth.csrf import OAuthStateInvalid, OAuthStateReplayed
from shared.auth.sessions import SessionRevoked
from shared.connections.errors import AccessDenied, OAuthExchangeFailed
from shared.connections.tokens import TOKENS_PATH
from shared.ids import tenant_id_for_workspace
from shared.models import ConnectionStatus
from tests.support.notion_oauth_fake import CLIENT_ID, WORKSPACE_ID

TENANT = tenant_id_for_workspace(WORKSPACE_ID)


def _nonce(start) -> str:
    return start.nonce_cookie.split(";")[0].split("=", 1)[1]


def _state(start) -> str:
    return parse_qs(urlparse(start.authorize_url).query)["state"][0]


async def sign_in(flows, notion_oauth, workspace_id=None):
    start = flows.start()
    return await flows.callback(code=notion_oauth.issue_code(workspace_id), state=_state(start), error=None,
                                nonce_cookie=_nonce(start))


def test_start_redirects_to_notion_authorize_with_a_bound_state(flows):
    start = flows.start()
    url = urlparse(start.authorize_url)
    query = parse_qs(url.query)
    assert url.path == "/v1/oauth/authorize"
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"] and query["owner"] == ["user"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8081/oauth/callback"]
    assert "HttpOnly" in start.nonce_cookie and "SameSite=Lax" in start.nonce_cookie


async def test_callback_creates_tenant_stores_encrypted_tokens_and_issues_a_session(flows, services, notion_oauth, settings):
    result = await sign_in(flows, notion_oauth)
    assert result.created and result.tenant.tenant_id == TENANT
    assert result.tenant.workspace_name == "Ada's Workspace"
    claims = services.sessions.verify(result.session_token)
    assert claims.tenant_id == TENANT
    pair = services.vault.load(tenant_id=TENANT)
    assert pair.access_token.startswith("ntn_access")
    # The Basic-auth exchange sent the documented JSON body.
    path, body = notion_oauth.calls[0]
    assert body == {"grant_type": "authorization_code", "code": body["code"],
                    "redirect_uri": "http://127.0.0.1:8081/oauth/callback"}
    # No plaintext token anywhere in the store's files.
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("documents.sqlite3*"))
    assert pair.access_token.encode() not in raw and pair.refresh_token.encode() not in raw


async def test_reauthorising_the_same_workspace_updates_and_never_duplicates(flows, services, notion_oauth):
    first = await sign_in(flows, notion_oauth)
    services.backends.documents.set("", {"tier": "pro"}, tenant_id=TENANT, merge=True)
    second = await sign_in(flows, notion_oauth)
    assert not second.created
    assert second.tenant.created_at == first.tenant.created_at
    assert second.tenant.tier.value == "pro"
    rows = services.backends.documents.tenants_where("workspace_id", WORKSPACE_ID)
    assert [row.tenant_id for row in rows] == [TENANT]
    assert services.vault.load(tenant_id=TENANT).version == 2


async def test_replayed_state_fails_and_changes_nothing(flows, services, notion_oauth):
    start = flows.start()
    await flows.callback(code=notion_oauth.issue_code(), state=_state(start), error=None, nonce_cookie=_nonce(start))
    before = services.backends.documents.export_tenant(tenant_id=TENANT)
    with pytest.raises(OAuthStateReplayed):
        await flows.callback(code=notion_oauth.issue_code(), state=_state(start), error=None, nonce_cookie=_nonce(start))
    assert services.backends.documents.export_tenant(tenant_id=TENANT) == before


@pytest.mark.parametrize("tamper", ["other-browser", "forged", "missing"])
async def test_state_from_another_browser_or_forged_fails(flows, services, notion_oauth, tamper):
    start = flows.start()
    state, nonce = _state(start), _nonce(start)
    if tamper == "other-browser":
        nonce = _nonce(flows.start())
    elif tamper == "forged":
        state = state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")
    else:
        state = None
    with pytest.raises(OAuthStateInvalid):
        await flows.callback(code=notion_oauth.issue_code(), state=state, error=None, nonce_cookie=nonce)
    assert services.backends.documents.get("", tenant_id=TENANT) is None
    assert notion_oauth.calls == []


async def test_access_denied_changes_nothing(flows, services, notion_oauth):
    start = flows.start()
    with pytest.raises(AccessDenied):
        await flows.callback(code=None, state=_state(start), error="access_denied", nonce_cookie=_nonce(start))
    assert services.backends.documents.get("", tenant_id=TENANT) is None
    assert notion_oauth.calls == []


@pytest.mark.parametrize("failure", ["bad-code", "outage"])
async def test_failed_exchange_changes_nothing(flows, services, notion_oauth, failure):
    start = flows.start()
    code = "code-unknown" if failure == "bad-code" else notion_oauth.issue_code()
    notion_oauth.fail_next = 5 if failure == "outage" else 0
    with pytest.raises(OAuthExchangeFailed):
        await flows.callback(code=code, state=_state(start), error=None, nonce_cookie=_nonce(start))
    assert services.backends.documents.get("", tenant_id=TENANT) is None
    assert services.backends.documents.get(TOKENS_PATH, tenant_id=TENANT) is None


async def test_disconnect_revokes_deletes_tokens_and_ends_sessions(flows, services, notion_oauth):
    result = await sign_in(flows, notion_oauth)
    access = services.vault.load(tenant_id=TENANT).access_token
    outcome = await flows.disconnect(tenant_id=TENANT)
    assert outcome == {"disconnected": True, "revoked_at_notion": True}
    assert notion_oauth.revoked == [access]
    assert services.vault.load(tenant_id=TENANT) is None
    assert services.tenants.get(tenant_id=TENANT).connection_status == ConnectionStatus.DISCONNECTED
    from shared.auth.sessions import epoch_reader

    with pytest.raises(SessionRevoked):
        services.sessions.verify(result.session_token, current_epoch=epoch_reader(services.backends.documents))
    assert await flows.disconnect(tenant_id=TENANT) == {"disconnected": True, "revoked_at_notion": True}


async def test_export_contains_user_data_but_no_credentials(flows, services, notion_oauth):
    await sign_in(flows, notion_oauth)
    services.backends.documents.set("tasks/t1", {"title": "Dentist"}, tenant_id=TENANT)
    services.backends.blobs.write("chroma/manifest.json", b"{}", tenant_id=TENANT)
    exported = flows.export(tenant_id=TENANT, blobs=services.backends.blobs)
    assert exported["documents"]["tasks/t1"] == {"title": "Dentist"}
    assert exported["documents"][""]["workspace_id"] == WORKSPACE_ID
    assert TOKENS_PATH not in exported["documents"] and "keys/data" not in exported["documents"]
    assert [f["key"] for f in exported["files"]] == ["chroma/manifest.json"]


async def test_delete_account_revokes_and_removes_everything_of_the_tenant_only(flows, services, notion_oauth):
    await sign_in(flows, notion_oauth)
    other = tenant_id_for_workspace("0" * 31 + "1")
    await sign_in(flows, notion_oauth, workspace_id="0" * 31 + "1")
    store, blobs = services.backends.documents, services.backends.blobs
    store.set("tasks/t1", {"title": "Dentist"}, tenant_id=TENANT)
    blobs.write("chroma/manifest.json", b"{}", tenant_id=TENANT)
    blobs.write("chroma/manifest.json", b"{}", tenant_id=other)
    sealed = store.get(TOKENS_PATH, tenant_id=TENANT)

    outcome = await flows.delete_account(tenant_id=TENANT, blobs=blobs)
    assert outcome["deleted"] and outcome["revoked_at_notion"] and outcome["files"] == 1
    assert store.export_tenant(tenant_id=TENANT) == {}
    assert blobs.list("", tenant_id=TENANT) == []
    # A leftover copy of the ciphertext is unreadable: the data key is gone.
    from shared.crypto import DecryptionError, KeyUnavailable

    with pytest.raises((DecryptionError, KeyUnavailable)):
        services.cipher.decrypt(sealed["access"], tenant_id=TENANT, purpose="notion-access")
    # The other tenant is untouched.
    assert services.vault.load(tenant_id=other) is not None
    assert [b.key for b in blobs.list("", tenant_id=other)] == ["chroma/manifest.json"]
