"""The Notion sandbox speaks Notion's protocol: OAuth, API shapes and errors, faults, webhooks.

Driven over HTTP with httpx against a server on 127.0.0.1 (a free port), never the network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from shared.notion.sandbox import NotionSandbox, SandboxServer, sign
from tests.shared.notion.conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
from tests.shared.notion.support import fixture

VERSION = {"Notion-Version": "2025-09-03"}
ROOT = Path(__file__).resolve().parents[3]


def authorize(server, *, decision="allow", state="st4te", workspace_id=None):
    """Open the consent page and click a button; return the redirect's query."""
    params = {"client_id": CLIENT_ID, "response_type": "code", "owner": "user", "redirect_uri": REDIRECT_URI, "state": state}
    page = httpx.get(f"{server.url}/v1/oauth/authorize", params=params)
    assert page.status_code == 200 and 'value="allow"' in page.text and 'value="deny"' in page.text
    form = dict(params, decision=decision)
    if workspace_id:
        form["workspace_id"] = workspace_id
    answer = httpx.post(f"{server.url}/v1/oauth/authorize", data=form)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token_request(server, body, *, auth=(CLIENT_ID, CLIENT_SECRET), form=False):
    kwargs = {"data": body} if form else {"json": body}
    return httpx.post(f"{server.url}/v1/oauth/token", auth=auth, **kwargs)


def connect(server):
    code = authorize(server)["code"]
    response = token_request(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    assert response.status_code == 200, response.text
    return response.json()


def api(server, method, path, token, **kwargs):
    headers = {"Authorization": f"Bearer {token}", **VERSION, **kwargs.pop("headers", {})}
    return httpx.request(method, f"{server.url}{path}", headers=headers, **kwargs)


# --- OAuth ---------------------------------------------------------------------------------------


def test_code_exchange_returns_notions_token_response(server, sandbox):
    tokens = connect(server)
    ws = sandbox.default_workspace
    assert set(tokens) == {
        "access_token", "token_type", "refresh_token", "bot_id", "workspace_id", "workspace_name",
        "workspace_icon", "owner", "duplicated_template_id", "request_id",
    }
    assert tokens["token_type"] == "bearer" and tokens["workspace_id"] == ws.id and tokens["bot_id"] == ws.bot_id
    assert tokens["owner"]["type"] == "user" and tokens["owner"]["user"]["object"] == "user"
    me = api(server, "GET", "/v1/users/me", tokens["access_token"]).json()
    assert me["bot"]["workspace_id"] == ws.id and me["type"] == "bot"
    assert set(me) == set(fixture("users_me.json"))


def test_state_is_returned_and_cancel_gives_access_denied(server):
    assert authorize(server, decision="deny", state="s-123") == {"error": "access_denied", "state": "s-123"}
    assert authorize(server, state="s-456")["state"] == "s-456"


def test_authorize_refuses_unknown_clients_and_unregistered_redirects(server):
    base = {"response_type": "code", "owner": "user", "redirect_uri": REDIRECT_URI}
    assert httpx.get(f"{server.url}/v1/oauth/authorize", params=dict(base, client_id="nope")).status_code == 400
    bad = dict(base, client_id=CLIENT_ID, redirect_uri="https://evil.example/cb")
    assert httpx.get(f"{server.url}/v1/oauth/authorize", params=bad).status_code == 400


def test_codes_are_single_use_and_bound_to_the_redirect_uri(server):
    code = authorize(server)["code"]
    wrong = token_request(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:9/other"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    first = token_request(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    again = token_request(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    assert first.status_code == 200 and again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_token_endpoint_requires_client_authentication(server):
    code = authorize(server)["code"]
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    assert token_request(server, body, auth=(CLIENT_ID, "wrong")).status_code == 401
    assert httpx.post(f"{server.url}/v1/oauth/token", json=body).json()["error"] == "invalid_client"
    assert token_request(server, {"grant_type": "password"}).json()["error"] == "unsupported_grant_type"


def test_client_credentials_may_be_form_encoded_inside_basic_auth():
    sandbox = NotionSandbox(client_id="id/with odd chars", client_secret="s3cr&t=+", redirect_uris=[REDIRECT_URI])
    tokens = sandbox.mint_tokens(sandbox.default_workspace.id)
    with SandboxServer(sandbox) as server:
        for user, password in (("id/with odd chars", "s3cr&t=+"), ("id%2Fwith+odd+chars", "s3cr%26t%3D%2B")):
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            answer = httpx.post(f"{server.url}/v1/oauth/introspect", headers={"Authorization": f"Basic {basic}"}, json={"token": tokens["access_token"]})
            assert answer.status_code == 200 and answer.json()["active"] is True


def test_form_encoded_token_requests_work_too(server):
    code = authorize(server)["code"]
    response = token_request(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, form=True)
    assert response.status_code == 200 and response.json()["access_token"].startswith("ntn_")


def test_refresh_tokens_rotate(server):
    first = connect(server)
    second = token_request(server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    reused = token_request(server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert api(server, "GET", "/v1/users/me", first["access_token"]).status_code == 401
    assert api(server, "GET", "/v1/users/me", second["access_token"]).status_code == 200


def test_revoke_and_introspect(server):
    tokens = connect(server)
    seen = httpx.post(f"{server.url}/v1/oauth/introspect", auth=(CLIENT_ID, CLIENT_SECRET), json={"token": tokens["access_token"]}).json()
    assert seen["active"] is True and isinstance(seen["iat"], int) and "scope" in seen
    assert httpx.post(f"{server.url}/v1/oauth/revoke", auth=(CLIENT_ID, CLIENT_SECRET), json={"token": tokens["access_token"]}).status_code == 200
    assert api(server, "GET", "/v1/users/me", tokens["access_token"]).status_code == 401
    gone = httpx.post(f"{server.url}/v1/oauth/introspect", auth=(CLIENT_ID, CLIENT_SECRET), json={"token": tokens["refresh_token"]}).json()
    assert gone["active"] is False
    assert token_request(server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).status_code == 400


def test_each_workspace_sees_only_its_own_objects(server, sandbox):
    other = httpx.post(f"{server.url}/__sandbox__/workspaces", json={"name": "Second"}).json()
    code = authorize(server, workspace_id=other["workspace_id"])["code"]
    tokens = token_request(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}).json()
    assert tokens["workspace_id"] == other["workspace_id"] and tokens["workspace_name"] == "Second"
    first_ds = sandbox.default_workspace.demo["tasks_data_source_id"]
    missing = api(server, "POST", f"/v1/data_sources/{first_ds}/query", tokens["access_token"], json={})
    assert missing.status_code == 404 and missing.json()["code"] == "object_not_found"


# --- API protocol ---------------------------------------------------------------------------------


def test_version_header_and_token_are_required_with_notions_error_bodies(server):
    tokens = connect(server)
    no_version = httpx.get(f"{server.url}/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert no_version.status_code == 400 and no_version.json()["code"] == "missing_version"
    bad_token = api(server, "GET", "/v1/users/me", "ntn_not_a_token")
    body = bad_token.json()
    expected = fixture("error_unauthorized.json")
    assert bad_token.status_code == 401 and set(body) == set(expected)
    assert (body["object"], body["status"], body["code"], body["message"]) == ("error", 401, "unauthorized", expected["message"])
    unknown = api(server, "GET", "/v1/invalid", tokens["access_token"]).json()
    assert unknown["code"] == fixture("error_invalid_request_url.json")["code"]


def test_admin_can_expire_tokens(server, sandbox):
    tokens = connect(server)
    answer = httpx.post(f"{server.url}/__sandbox__/tokens/expire", json={"workspace_id": tokens["workspace_id"]}).json()
    assert answer == {"expired": 1}
    assert api(server, "GET", "/v1/users/me", tokens["access_token"]).status_code == 401
    refreshed = token_request(server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
    assert api(server, "GET", "/v1/users/me", refreshed["access_token"]).status_code == 200


def test_database_and_data_source_shapes_match_the_recorded_ones(server, sandbox):
    token = connect(server)["access_token"]
    demo = sandbox.default_workspace.demo
    database = api(server, "GET", f"/v1/databases/{demo['tasks_database_id']}", token).json()
    assert set(database) == set(fixture("database.json"))
    assert database["data_sources"] == [{"id": demo["tasks_data_source_id"], "name": "Tasks"}]
    source = api(server, "GET", f"/v1/data_sources/{demo['tasks_data_source_id']}", token).json()
    assert set(source) == set(fixture("data_source.json"))
    assert set(source["properties"]["Name"]) == set(fixture("data_source.json")["properties"]["Name"])
    assert source["properties"]["Status"]["type"] == "select"
    assert [o["name"] for o in source["properties"]["Status"]["select"]["options"]] == ["To do", "In progress", "Blocked", "Done", "Cancelled"]


def test_create_retrieve_update_and_trash_a_page(server, sandbox, sandbox_clock):
    token = connect(server)["access_token"]
    ds = sandbox.default_workspace.demo["tasks_data_source_id"]
    created = api(server, "POST", "/v1/pages", token, json={
        "parent": {"type": "data_source_id", "data_source_id": ds},
        "properties": {"Name": {"title": [{"text": {"content": "Try the sandbox"}}]}, "Estimate": {"number": 25}},
        "children": [{"paragraph": {"rich_text": [{"text": {"content": "hello"}}]}}],
    })
    assert created.status_code == 200, created.text
    page = created.json()
    assert set(page) == set(fixture("page_created.json"))
    assert page["parent"]["type"] == "data_source_id" and page["parent"]["database_id"] == sandbox.default_workspace.demo["tasks_database_id"]
    assert page["properties"]["Status"]["select"] is None and page["properties"]["Tags"]["multi_select"] == []
    assert api(server, "GET", f"/v1/blocks/{page['id']}/children", token).json()["results"][0]["paragraph"]["rich_text"][0]["plain_text"] == "hello"

    sandbox_clock.now += timedelta(minutes=5)
    updated = api(server, "PATCH", f"/v1/pages/{page['id']}", token, json={"properties": {"Status": {"select": {"name": "Done"}}}}).json()
    assert updated["properties"]["Status"]["select"]["name"] == "Done"
    assert updated["last_edited_time"] == "2026-07-06T08:05:00.000Z"

    trashed = api(server, "PATCH", f"/v1/pages/{page['id']}", token, json={"in_trash": True}).json()
    assert trashed["in_trash"] is True and trashed["archived"] is True
    refused = api(server, "PATCH", f"/v1/pages/{page['id']}", token, json={"properties": {"Estimate": {"number": 1}}})
    assert refused.status_code == 400 and refused.json()["code"] == "validation_error"
    ids = [p["id"] for p in api(server, "POST", f"/v1/data_sources/{ds}/query", token, json={}).json()["results"]]
    assert page["id"] not in ids
    assert api(server, "GET", f"/v1/pages/{page['id']}", token).json()["in_trash"] is True


def test_page_validation_errors_are_notions(server, sandbox):
    token = connect(server)["access_token"]
    ds = sandbox.default_workspace.demo["tasks_data_source_id"]
    parent = {"type": "data_source_id", "data_source_id": ds}
    cases = [
        ({"Nope": {"number": 1}}, "Nope is not a property that exists."),
        ({"Estimate": {"select": {"name": "x"}}}, "Estimate is expected to be number."),
        ({"Due": {"date": {"start": "next tuesday"}}}, None),
        ({"Name": {"title": [{"text": {"content": "x" * 2001}}]}}, None),
    ]
    for properties, message in cases:
        answer = api(server, "POST", "/v1/pages", token, json={"parent": parent, "properties": properties})
        assert answer.status_code == 400 and answer.json()["code"] == "validation_error"
        if message:
            assert answer.json()["message"].startswith(message)
    missing = api(server, "GET", "/v1/pages/00000000-0000-4000-8000-000000000000", token)
    assert missing.status_code == 404 and missing.json()["code"] == "object_not_found"
    bad_json = api(server, "POST", "/v1/pages", token, content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == "invalid_json"


def _query(server, token, ds, **body):
    answer = api(server, "POST", f"/v1/data_sources/{ds}/query", token, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _titles(result):
    return [p["properties"]["Name"]["title"][0]["plain_text"] for p in result["results"]]


def test_query_filters_sorts_and_pagination(server, sandbox, sandbox_clock):
    token = connect(server)["access_token"]
    ws = sandbox.default_workspace
    ds = ws.demo["tasks_data_source_id"]
    everything = _query(server, token, ds)
    assert len(everything["results"]) == 14 and everything["has_more"] is False and everything["type"] == "page_or_data_source"

    done = _query(server, token, ds, filter={"property": "Status", "select": {"equals": "Done"}})
    assert _titles(done) == ["Submit expense report"]
    splittable_urgent = _query(server, token, ds, filter={"and": [
        {"property": "Splittable", "checkbox": {"equals": True}},
        {"or": [{"property": "Priority", "select": {"equals": "High"}}, {"property": "Priority", "select": {"equals": "Urgent"}}]},
    ]})
    assert sorted(_titles(splittable_urgent)) == ["Refactor the invoicing module", "Write Q3 planning doc"]
    work = _query(server, token, ds, filter={"property": "Tags", "multi_select": {"contains": "code"}})
    assert len(work["results"]) == 2

    by_priority = _query(server, token, ds, sorts=[{"property": "Priority", "direction": "descending"}, {"property": "Due", "direction": "ascending"}])
    assert _titles(by_priority)[:2] == ["Reply to Anna about the offsite", "Fix flaky CI test in the sync worker"]
    due_order = [p["properties"]["Due"]["date"] for p in _query(server, token, ds, sorts=[{"property": "Due", "direction": "ascending"}])["results"]]
    assert due_order[-1] is None  # empty values sort last

    # An edit made later is found by a last_edited_time filter (minute precision, as Notion).
    sandbox_clock.now += timedelta(hours=1)
    target = everything["results"][3]["id"]
    api(server, "PATCH", f"/v1/pages/{target}", token, json={"properties": {"Estimate": {"number": 5}}})
    since = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-07-06T09:00:00.000Z"}}
    assert [p["id"] for p in _query(server, token, ds, filter=since)["results"]] == [target]

    pages, cursor, seen = 0, None, []
    while True:
        body = {"page_size": 5} | ({"start_cursor": cursor} if cursor else {})
        result = _query(server, token, ds, **body)
        pages += 1
        seen += [p["id"] for p in result["results"]]
        cursor = result["next_cursor"]
        assert result["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert pages == 3 and seen == [p["id"] for p in everything["results"]]


def test_query_rejects_a_filter_of_the_wrong_type(server, sandbox):
    token = connect(server)["access_token"]
    ds = sandbox.default_workspace.demo["tasks_data_source_id"]
    answer = api(server, "POST", f"/v1/data_sources/{ds}/query", token, json={"filter": {"property": "Status", "status": {"equals": "Done"}}})
    assert answer.status_code == 400 and answer.json()["code"] == "validation_error"
    too_big = api(server, "POST", f"/v1/data_sources/{ds}/query", token, json={"page_size": 101})
    assert too_big.status_code == 400


def test_block_children_append_list_delete(server, sandbox):
    token = connect(server)["access_token"]
    root = sandbox.default_workspace.demo["root_page_id"]
    too_many = [{"paragraph": {"rich_text": [{"text": {"content": str(i)}}]}} for i in range(101)]
    assert api(server, "PATCH", f"/v1/blocks/{root}/children", token, json={"children": too_many}).status_code == 400
    appended = api(server, "PATCH", f"/v1/blocks/{root}/children", token, json={"children": too_many[:3]}).json()
    assert set(appended) == set(fixture("blocks_appended.json")) and len(appended["results"]) == 3
    assert set(appended["results"][0]) == set(fixture("blocks_appended.json")["results"][0])
    listed = api(server, "GET", f"/v1/blocks/{root}/children", token, params={"page_size": 2}).json()
    assert [b["type"] for b in listed["results"]] == ["paragraph", "child_database"] and listed["has_more"] is True
    deleted = api(server, "DELETE", f"/v1/blocks/{appended['results'][0]['id']}", token).json()
    assert deleted["in_trash"] is True and deleted["archived"] is True
    remaining = []
    cursor = None
    while True:
        page = api(server, "GET", f"/v1/blocks/{root}/children", token, params={"page_size": 2} | ({"start_cursor": cursor} if cursor else {})).json()
        remaining += page["results"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [b["type"] for b in remaining] == ["paragraph", "child_database", "child_database", "paragraph", "paragraph"]


def test_search_finds_pages_and_data_sources(server, sandbox):
    token = connect(server)["access_token"]
    found = api(server, "POST", "/v1/search", token, json={"query": "routines", "filter": {"property": "object", "value": "data_source"}}).json()
    assert [r["object"] for r in found["results"]] == ["data_source"] and found["results"][0]["id"] == sandbox.default_workspace.demo["routines_data_source_id"]
    pages = api(server, "POST", "/v1/search", token, json={"query": "passport"}).json()
    assert [r["object"] for r in pages["results"]] == ["page"]
    assert set(pages) == set(fixture("search_results.json"))
    bad = api(server, "POST", "/v1/search", token, json={"filter": {"property": "object", "value": "database"}})
    assert bad.status_code == 400


# --- faults, rate limit, request log ---------------------------------------------------------------


def test_injected_429_and_529_have_notions_shapes_and_are_consumed(server):
    token = connect(server)["access_token"]
    httpx.post(f"{server.url}/__sandbox__/faults", json={"status": 429, "count": 2, "retry_after": 3, "path": "/v1/users"})
    httpx.post(f"{server.url}/__sandbox__/faults", json={"status": 529, "count": 1})
    first = api(server, "GET", "/v1/users/me", token)
    assert first.status_code == 429 and first.headers["Retry-After"] == "3" and first.json()["code"] == "rate_limited"
    assert api(server, "GET", "/v1/users/me", token).status_code == 429
    overloaded = api(server, "GET", "/v1/users/me", token)
    assert overloaded.status_code == 529 and overloaded.json()["code"] == "service_overload"
    assert api(server, "GET", "/v1/users/me", token).status_code == 200
    assert httpx.get(f"{server.url}/__sandbox__/faults").json() == {"faults": []}


def test_sandbox_rate_limit_answers_429_with_retry_after(server):
    token = connect(server)["access_token"]
    httpx.post(f"{server.url}/__sandbox__/rate_limit", json={"rate": 0.001, "burst": 2})
    statuses = [api(server, "GET", "/v1/users/me", token).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = api(server, "GET", "/v1/users/me", token)
    assert int(limited.headers["Retry-After"]) >= 1
    httpx.post(f"{server.url}/__sandbox__/rate_limit", json={"rate": None})
    assert api(server, "GET", "/v1/users/me", token).status_code == 200


def test_request_log_counts_what_reached_the_sandbox(server):
    tokens = connect(server)
    httpx.delete(f"{server.url}/__sandbox__/requests")
    for _ in range(3):
        api(server, "GET", "/v1/users/me", tokens["access_token"])
    api(server, "GET", "/v1/users/me", "bad")
    log = httpx.get(f"{server.url}/__sandbox__/requests", params={"workspace_id": tokens["workspace_id"]}).json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in log] == [("GET", "/v1/users/me", 200)] * 3
    assert len(httpx.get(f"{server.url}/__sandbox__/requests").json()["requests"]) == 4


# --- webhooks ------------------------------------------------------------------------------------


def _verify(headers, body, token):
    expected = "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Notion-Signature"], expected)


def test_user_edits_queue_signed_webhooks_that_flush_in_order(server, sandbox, receiver):
    ws = sandbox.default_workspace
    answer = httpx.post(f"{server.url}/__sandbox__/webhooks/subscription", json={"url": receiver.url, "verification_token": "secret_v", "verify": True}).json()
    assert receiver.payloads() == [{"verification_token": "secret_v"}] and answer["verification"]["status"] == 200
    ds = ws.demo["tasks_data_source_id"]
    page = httpx.post(f"{server.url}/__sandbox__/workspaces/{ws.id}/pages", json={
        "parent": {"type": "data_source_id", "data_source_id": ds}, "properties": {"Name": {"title": [{"text": {"content": "From the phone"}}]}},
    }).json()
    httpx.patch(f"{server.url}/__sandbox__/workspaces/{ws.id}/pages/{page['id']}", json={"properties": {"Priority": {"select": {"name": "High"}}}})
    httpx.patch(f"{server.url}/__sandbox__/workspaces/{ws.id}/pages/{page['id']}", json={"in_trash": True})
    pending = httpx.get(f"{server.url}/__sandbox__/webhooks").json()["pending"]
    assert [e["type"] for e in pending] == ["page.created", "page.properties_updated", "page.deleted"]

    flushed = httpx.post(f"{server.url}/__sandbox__/webhooks/flush").json()["delivered"]
    assert [d["status"] for d in flushed] == [200, 200, 200]
    received = receiver.received[1:]
    assert all(_verify(headers, body, "secret_v") for headers, body in received)
    events = receiver.payloads()[1:]
    assert set(events[0]) == {
        "id", "timestamp", "workspace_id", "workspace_name", "subscription_id", "integration_id", "type",
        "authors", "accessible_by", "attempt_number", "api_version", "entity", "data",
    }
    assert events[1]["entity"] == {"id": page["id"], "type": "page"}
    assert events[1]["authors"] == [{"id": ws.person["id"], "type": "person"}]
    assert events[1]["data"]["updated_properties"] == [page["properties"]["Priority"]["id"]]
    assert events[1]["data"]["parent"] == {"id": ws.demo["tasks_database_id"], "type": "database", "data_source_id": ds}
    assert events[0]["api_version"] == "2025-09-03" and events[0]["workspace_id"] == ws.id
    assert httpx.get(f"{server.url}/__sandbox__/webhooks").json()["pending"] == []


def test_emit_webhook_signs_the_exact_body(sandbox, receiver):
    page_id = sandbox.default_workspace.demo["root_page_id"]
    delivery = sandbox.emit_webhook("page.content_updated", page_id, receiver.url, "tok_123", attempt_number=2)
    assert delivery.status == 200
    (headers, body), = receiver.received
    assert headers["X-Notion-Signature"] == sign(body, "tok_123") and _verify(headers, body, "tok_123")
    event = receiver.payloads()[0]
    assert event["type"] == "page.content_updated" and event["entity"] == {"id": page_id, "type": "page"}
    assert event["attempt_number"] == 2 and event["data"]["parent"] == {"id": sandbox.default_workspace.id, "type": "space"}


# --- persistence and the command line -------------------------------------------------------------


def test_state_file_survives_a_restart(tmp_path):
    path = tmp_path / "notion.json"
    first = NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, state_file=path)
    tokens = first.mint_tokens(first.default_workspace.id)
    with SandboxServer(first) as server:
        ds = first.default_workspace.demo["tasks_data_source_id"]
        api(server, "POST", "/v1/pages", tokens["access_token"], json={"parent": {"data_source_id": ds}, "properties": {"Name": {"title": [{"text": {"content": "Persisted"}}]}}})
    second = NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, state_file=path)
    with SandboxServer(second) as server:
        assert api(server, "GET", "/v1/users/me", tokens["access_token"]).status_code == 200
        titles = _titles(_query(server, tokens["access_token"], ds, filter={"property": "Name", "title": {"equals": "Persisted"}}))
        assert titles == ["Persisted"]


def test_command_line_serves_on_the_requested_port():
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.notion.sandbox", "--port", "0", "--client-id", "cli", "--client-secret", "cli-secret"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        url = None
        for _ in range(50):
            line = process.stderr.readline()
            if not line:
                break
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if found:
                url = found.group(1)
                break
        assert url, "the sandbox did not report its address"
        assert httpx.get(f"{url}/__sandbox__/health", timeout=5).json() == {"ok": True}
        workspaces = httpx.get(f"{url}/__sandbox__/workspaces", timeout=5).json()["workspaces"]
        assert len(workspaces) == 1 and workspaces[0]["tasks_data_source_id"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
