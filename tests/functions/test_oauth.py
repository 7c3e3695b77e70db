"""The oauth function end to end against the sandbox Notion: sign-in, re-auth, denied consent,
tampered and replayed state, disconnect, export and deletion, and no secret left in plaintext."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

from shared import logs
from shared.ids import tenant_id_for_workspace
from tests.functions.conftest import CLIENT_SECRET, CSRF_SECRET, FUNCTION_URLS, function_client


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    logs.configure_logging(stream=stream)
    yield stream
    logs.configure_logging()


@pytest.fixture
def oauth(local_env):
    return function_client("oauth")


def consent(server, authorize_url: str, *, decision: str = "allow", workspace_id: str | None = None) -> str:
    """Play the user on the sandbox's consent page; return where Notion sends the browser back."""
    query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
    page = httpx.get(authorize_url)
    assert page.status_code == 200 and "would like to access" in page.text
    form = {**query, "decision": decision, **({"workspace_id": workspace_id} if workspace_id else {})}
    answer = httpx.post(f"{server.url}/v1/oauth/authorize", content=urlencode(form),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code in (302, 303)
    return answer.headers["Location"]


def callback_path(location: str) -> str:
    url = urlparse(location)
    assert f"{url.scheme}://{url.netloc}" == FUNCTION_URLS["oauth"] and url.path == "/oauth/callback"
    return f"{url.path}?{url.query}"


def sign_in(client, server, **consent_args):
    started = client.get("/oauth/start")
    assert started.status_code == 302
    back = consent(server, started.headers["Location"], **consent_args)
    return client.get(callback_path(back))


def session_info(client) -> dict:
    response = client.get("/session")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_sign_in_creates_the_tenant_and_a_browser_session(oauth, notion_sandbox, local_env):
    sandbox, server = notion_sandbox
    response = sign_in(oauth, server)
    assert response.status_code == 302
    assert response.headers["Location"] == FUNCTION_URLS["web"] + "/onboarding"
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("planner_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    info = session_info(oauth)
    workspace = sandbox.default_workspace
    assert info["tenant_id"] == tenant_id_for_workspace(workspace.id)
    assert info["workspace_name"] == workspace.name and info["connection_status"] == "connected"
    # API clients use the same session as a Bearer token.
    token = session_cookie.split(";")[0].split("=", 1)[1]
    api = function_client("oauth")
    assert api.get("/session", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert api.get("/session").get_json()["error"]["code"] == "session_missing"


def test_reauthorising_updates_the_same_tenant_and_goes_to_the_app(oauth, notion_sandbox, local_env):
    sandbox, server = notion_sandbox
    sign_in(oauth, server)
    again = sign_in(function_client("oauth"), server)
    assert again.headers["Location"] == FUNCTION_URLS["web"] + "/app"
    rows = local_env.documents.tenants_where("workspace_id", sandbox.default_workspace.id)
    assert len(rows) == 1


def test_denied_consent_gets_a_clear_page_and_changes_nothing(oauth, notion_sandbox, local_env):
    sandbox, server = notion_sandbox
    response = sign_in(oauth, server, decision="deny")
    assert response.status_code == 400
    assert "did not allow access" in response.get_data(as_text=True)
    assert local_env.documents.tenants_where("workspace_id", sandbox.default_workspace.id) == []


def test_tampered_and_replayed_state_fail_and_change_nothing(oauth, notion_sandbox, local_env):
    sandbox, server = notion_sandbox
    started = oauth.get("/oauth/start")
    back = consent(server, started.headers["Location"])
    path = callback_path(back)
    tampered = path.replace("state=", "state=x")
    response = oauth.get(tampered)
    assert response.status_code == 400 and "no longer valid" in response.get_data(as_text=True)
    assert local_env.documents.tenants_where("workspace_id", sandbox.default_workspace.id) == []
    # Another browser (no nonce cookie) replaying the genuine callback fails too.
    stranger = function_client("oauth")
    assert stranger.get(path).status_code == 400
    assert local_env.documents.tenants_where("workspace_id", sandbox.default_workspace.id) == []
    # A failed callback clears the nonce cookie: the flow must start again. A genuine callback
    # succeeds once; replaying the same state afterwards fails.
    browser = function_client("oauth")
    genuine = callback_path(consent(server, browser.get("/oauth/start").headers["Location"]))
    assert browser.get(genuine).status_code == 302
    assert browser.get(genuine).status_code == 400


def test_disconnect_revokes_at_notion_and_ends_the_session(oauth, notion_sandbox, local_env):
    sandbox, server = notion_sandbox
    sign_in(oauth, server)
    info = session_info(oauth)
    tenant = info["tenant_id"]
    assert oauth.post("/oauth/disconnect").status_code == 403  # cookie auth without CSRF token
    response = oauth.post("/oauth/disconnect", headers={"X-CSRF-Token": info["csrf_token"]})
    assert response.status_code == 200 and response.get_json() == {"disconnected": True, "revoked_at_notion": True}
    assert all(not token.active for token in sandbox.oauth.tokens.values() if token.kind == "access")
    assert local_env.documents.get("connection/notion", tenant_id=tenant) is None
    assert oauth.get("/session").status_code == 401


def test_export_returns_the_tenants_data_without_credentials(oauth, notion_sandbox, local_env):
    _, server = notion_sandbox
    sign_in(oauth, server)
    tenant = session_info(oauth)["tenant_id"]
    local_env.documents.set("tasks/page-1", {"title": "Dentist"}, tenant_id=tenant)
    response = oauth.get("/account/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    body = response.get_json()
    assert body["documents"]["tasks/page-1"] == {"title": "Dentist"}
    assert "connection/notion" not in body["documents"] and "keys/data" not in body["documents"]


def test_deletion_leaves_nothing_of_the_tenant_in_store_blobs_or_vectors(oauth, notion_sandbox, local_env, tmp_path):
    from shared.memory.documents import MemoryDocument
    from shared.memory.memory import MemoryService

    _, server = notion_sandbox
    sign_in(oauth, server)
    info = session_info(oauth)
    tenant = info["tenant_id"]
    memory = MemoryService(local_env.blobs, local_env.documents, cache_dir=tmp_path / "memory-cache")
    memory.upsert([MemoryDocument("page-1", "Dentist appointment on Friday", {"kind": "task"})], tenant_id=tenant)
    assert memory.search("dentist", tenant_id=tenant)
    local_env.documents.set("tasks/page-1", {"title": "Dentist"}, tenant_id=tenant)

    response = oauth.post("/account/delete", headers={"X-CSRF-Token": info["csrf_token"]})
    assert response.status_code == 200 and response.get_json()["deleted"] is True
    assert local_env.documents.export_tenant(tenant_id=tenant) == {}
    assert local_env.blobs.list("", tenant_id=tenant) == []
    fresh = MemoryService(local_env.blobs, local_env.documents, cache_dir=tmp_path / "other-cache")
    assert fresh.search("dentist", tenant_id=tenant) == []
    assert oauth.get("/session").status_code == 401


def test_no_token_or_secret_in_plaintext_in_store_logs_or_sentry(oauth, notion_sandbox, local_env, tmp_path, log_stream):
    import sentry_sdk

    from shared.config import get_settings
    from shared.sentry import init_sentry
    from tests.support.sentry_collector import sentry_collector

    sandbox, server = notion_sandbox
    with sentry_collector() as collector:
        from pydantic import SecretStr

        init_sentry(get_settings().model_copy(update={"sentry_dsn": SecretStr(collector.dsn)}), function="oauth")
        signed_in = sign_in(oauth, server)
        session_token = next(c for c in signed_in.headers.getlist("Set-Cookie")
                             if c.startswith("planner_session=")).split(";")[0].split("=", 1)[1]
        sign_in(function_client("oauth"), server)  # a re-auth rotates in a second pair
        info = session_info(oauth)
        # Corrupt stored data so that a request fails with a 500 that Sentry captures.
        local_env.documents.set("", {"tier": "platinum"}, tenant_id=info["tenant_id"], merge=True)
        assert oauth.get("/session").status_code == 500
        sentry_sdk.flush(timeout=10)
        assert collector.received.wait(10) and collector.events()
        sentry_raw = collector.raw
    local_env.documents.set("", {"tier": "free"}, tenant_id=info["tenant_id"], merge=True)
    oauth.post("/oauth/disconnect", headers={"X-CSRF-Token": info["csrf_token"]})
    secrets = [token for token in sandbox.oauth.tokens] + [CLIENT_SECRET, CSRF_SECRET, session_token]
    secrets += [(tmp_path / "secrets" / name).read_text().strip() for name in ("token-kek", "csrf-secret")]
    assert len(secrets) >= 6
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and "secrets" not in path.parts)
    logged = log_stream.getvalue()
    assert logged  # the requests were logged
    for secret in secrets:
        assert secret.encode() not in stored, "a secret is stored in plaintext"
        assert secret not in logged, "a secret reached the logs"
        assert secret not in sentry_raw, "a secret reached Sentry"
