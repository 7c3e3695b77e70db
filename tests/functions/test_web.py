"""The web function end to end: real sign-in through the oauth function against the sandbox
Notion, then the dashboard's pages and forms on the local store (CSRF on every form, security
headers on every response, onboarding that creates databases in the sandbox, every URL under the
public base path)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlparse, urlsplit

import httpx
import pytest

from shared.backends import get_backends
from shared.config import reset_settings_cache
from shared.connections.services import ConnectionServices
from shared.ids import tenant_id_for_workspace
from tests.functions.conftest import FUNCTION_URLS, function_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def consent(server, authorize_url: str) -> str:
    query = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items()}
    answer = httpx.post(f"{server.url}/v1/oauth/authorize", content=urlencode({**query, "decision": "allow"}),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code in (302, 303)
    return answer.headers["Location"]


def sign_in(server) -> tuple[str, str]:
    """Sign in through the oauth function as a browser would; return (session token, landing URL)."""
    oauth = function_client("oauth")
    started = oauth.get("/oauth/start")
    back = urlparse(consent(server, started.headers["Location"]))
    response = oauth.get(f"{back.path}?{back.query}")
    assert response.status_code == 302, response.get_data(as_text=True)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("planner_session="))
    return cookie.split(";")[0].split("=", 1)[1], response.headers["Location"]


@pytest.fixture
def web(local_env, notion_sandbox):
    """A signed-in browser on the web function (a new tenant: the sandbox's demo workspace)."""
    _, server = notion_sandbox
    token, landing = sign_in(server)
    assert landing == FUNCTION_URLS["web"] + "/onboarding"
    client = function_client("web")
    client.set_cookie("planner_session", token)
    return client


def csrf_of(page) -> str:
    match = CSRF.search(page.get_data(as_text=True))
    assert match, "the page has no CSRF field"
    return match.group(1)


def post(client, path: str, page, data: dict | None = None, **kwargs):
    """Submit a form of ``page`` (its CSRF token included) as the browser would."""
    return client.post(path, data={"csrf_token": csrf_of(page), **(data or {})}, **kwargs)


def tenant_of(sandbox) -> str:
    return tenant_id_for_workspace(sandbox.default_workspace.id)


def assert_secure_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "http" not in csp  # no source from another origin, not even a CDN
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def onboard_with_templates(web, *, examples: bool = True, days=("1", "2", "3", "4", "5", "6", "7")):
    """Walk the wizard: create the databases under the demo page, then a schedule covering the day."""
    sources = web.get("/onboarding/sources")
    parent = re.search(r'<option value="([0-9a-f-]{36})">Planner demo</option>', sources.get_data(as_text=True))
    assert parent, "the demo page is offered as a parent"
    data = {"parent_page_id": parent.group(1), **({"examples": "on"} if examples else {})}
    created = post(web, "/onboarding/template", sources, data)
    assert created.status_code == 303 and created.headers["Location"] == "/onboarding/schedule"
    schedule = web.get("/onboarding/schedule")
    saved = post(web, "/onboarding/schedule", schedule, {
        "planning_time": "07:30", "timezone": "UTC", "work_start": "00:00", "work_end": "23:59", "work_days": list(days)})
    assert saved.status_code == 303 and saved.headers["Location"] == "/onboarding/preview"
    return parent.group(1)


# --- public pages, headers, static files ---------------------------------------------------------


def test_landing_offers_sign_in_with_notion_and_sends_every_security_header(local_env):
    client = function_client("web")
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert f'href="{FUNCTION_URLS["oauth"]}/oauth/start"' in html and "Sign in with Notion" in html
    assert '<html lang="en">' in html and "<h1>" in html and 'href="#main"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html.replace(FUNCTION_URLS["oauth"], ""))  # nothing external
    assert_secure_headers(page)
    assert page.headers["Cache-Control"] == "no-store"
    help_page = client.get("/help")  # public
    assert help_page.status_code == 200 and "How planning works" in help_page.get_data(as_text=True)


def test_pages_send_a_signed_out_browser_to_the_landing_page_and_the_api_answers_401(local_env):
    client = function_client("web")
    for path in ("/app", "/onboarding", "/onboarding/sources", "/chat", "/usage", "/settings", "/feedback"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/", path
    api = client.post("/api/chat", json={"message": "hello"})
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "session_missing"
    assert_secure_headers(api)
    forged = client.get("/app", headers={"Cookie": "planner_session=not-a-token"})
    assert forged.status_code == 302


def test_static_files_are_served_with_a_content_hash_and_nothing_else_is(local_env):
    client = function_client("web")
    html = client.get("/").get_data(as_text=True)
    css_url = re.search(r'href="(/assets/app\.css\?v=[0-9a-f]+)"', html).group(1)
    css = client.get(css_url)
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "immutable" in css.headers["Cache-Control"] and css.headers["X-Content-Type-Options"] == "nosniff"
    js_url = re.search(r'src="(/assets/app\.js\?v=[0-9a-f]+)"', html).group(1)
    assert client.get(js_url).mimetype == "text/javascript"
    for path in ("/assets/main.py", "/assets/..%2fmain.py", "/assets/%2e%2e%2fmain.py", "/assets/", "/assets/a/b"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"import" not in response.get_data()


# --- onboarding -------------------------------------------------------------------------------------


def test_onboarding_creates_the_databases_sets_the_schedule_previews_and_finishes(web, notion_sandbox, local_env):
    sandbox, _ = notion_sandbox
    tenant = tenant_of(sandbox)
    welcome = web.get("/onboarding")
    assert welcome.status_code == 200 and "Connected to" in welcome.get_data(as_text=True)
    assert_secure_headers(welcome)
    assert web.get("/app").headers["Location"] == "/onboarding"  # not onboarded yet
    assert web.get("/onboarding/preview").headers["Location"] == "/onboarding/sources"

    sources = web.get("/onboarding/sources")
    html = sources.get_data(as_text=True)
    assert "Tasks" in html and "Routines" in html and "Planner demo" in html
    before = {source["id"] for ws in [sandbox.default_workspace] for source in ws.data_sources.values()}
    onboard_with_templates(web)

    config = ConnectionServices(local_env).tenants.get_config(tenant_id=tenant)
    new_sources = {config.tasks_data_source_id, config.routines_data_source_id}
    assert None not in new_sources and not new_sources & before  # two new data sources
    workspace = sandbox.default_workspace
    tasks_schema = workspace.data_sources[config.tasks_data_source_id]["properties"]
    assert {"Name", "Status", "Priority", "Due", "Scheduled", "Estimate", "Splittable"} <= set(tasks_schema)
    rows = [p for p in workspace.pages.values() if p["parent"].get("data_source_id") == config.tasks_data_source_id]
    assert len(rows) == 4  # the example tasks
    assert config.timezone == "UTC" and config.working_hours.days == [1, 2, 3, 4, 5, 6, 7]

    preview = web.get("/onboarding/preview")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="plan"' in text
    assert "Try the planner: mark this task done in Notion" in text and "Inbox zero" in text

    finished = post(web, "/onboarding/finish", preview)
    assert finished.status_code == 303 and finished.headers["Location"] == "/app?welcome=1"
    root = local_env.documents.get("", tenant_id=tenant)
    assert root.get("next_plan_at") is not None  # the daily plan is scheduled
    queued = [t for t in local_env.tasks.all_tasks() if t.tenant_id == tenant and t.function == "sync"]
    assert len(queued) == 1 and queued[0].payload["full"] is True and queued[0].path == "/tasks/sync"
    today = web.get("/app?welcome=1")
    assert today.status_code == 200 and "Write the project update" in today.get_data(as_text=True)
    assert web.get("/").headers["Location"] == "/app"


def test_every_onboarding_form_refuses_a_missing_or_foreign_csrf_token(web, notion_sandbox, local_env):
    sandbox, server = notion_sandbox
    tenant = tenant_of(sandbox)
    forms = {"/onboarding/sources": {"tasks_data_source_id": "2793432a-dd11-4cdb-8241-447531d0a674"},
             "/onboarding/template": {"parent_page_id": "2793432a-dd11-4cdb-8241-447531d0a674"},
             "/onboarding/schedule": {"planning_time": "07:00", "timezone": "UTC", "work_start": "09:00",
                                      "work_end": "17:00", "work_days": ["1"]},
             "/onboarding/finish": {}, "/settings": {}, "/settings/disconnect": {}, "/settings/delete": {"confirm": "DELETE"},
             "/feedback": {"message": "hi"}, "/chat": {"message": "hi"}, "/signout": {}}
    other_token, _ = sign_in(server)  # the same user's other session: its CSRF token must not work here
    other = function_client("web")
    other.set_cookie("planner_session", other_token)
    foreign = csrf_of(other.get("/onboarding"))
    for path, data in forms.items():
        missing = web.post(path, data=data)
        assert missing.status_code == 403, path
        assert "This form has expired" in missing.get_data(as_text=True)
        assert_secure_headers(missing)
        assert web.post(path, data={**data, "csrf_token": foreign}).status_code == 403, path
    assert ConnectionServices(local_env).tenants.get_config(tenant_id=tenant).tasks_data_source_id is None
    assert local_env.documents.query("feedback", tenant_id=tenant) == []
    assert local_env.documents.get("", tenant_id=tenant) is not None  # not deleted


def test_choosing_existing_sources_adds_missing_columns_and_rejects_unusable_ones(web, notion_sandbox, local_env):
    sandbox, _ = notion_sandbox
    workspace = sandbox.default_workspace
    demo = workspace.demo
    bare = workspace.create_database({
        "parent": {"type": "page_id", "page_id": demo["root_page_id"]},
        "title": [{"type": "text", "text": {"content": "My todo list"}}],
        "initial_data_source": {"properties": {"Task": {"title": {}}, "Done": {"checkbox": {}}}},
    }, workspace.user)
    bare_source = bare["data_sources"][0]["id"]
    page = web.get("/onboarding/sources")
    assert "My todo list (adds" in page.get_data(as_text=True)
    chosen = post(web, "/onboarding/sources", page, {"tasks_data_source_id": bare_source,
                                                     "routines_data_source_id": demo["routines_data_source_id"]})
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/onboarding/schedule"
    schema = workspace.data_sources[bare_source]["properties"]
    assert {"Task", "Done", "Status", "Priority", "Due", "Estimate"} <= set(schema)  # added, own columns kept
    assert "Name" not in schema  # the title column is never added

    unknown = post(web, "/onboarding/sources", web.get("/onboarding/sources"),
                   {"tasks_data_source_id": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 400
    assert "cannot be read" in unknown.get_data(as_text=True) and 'aria-invalid="true"' in unknown.get_data(as_text=True)
    garbage = post(web, "/onboarding/sources", web.get("/onboarding/sources"), {"tasks_data_source_id": "../etc"})
    assert garbage.status_code == 400 and "Tasks database: choose one of the listed options" in garbage.get_data(as_text=True)


def test_schedule_form_names_the_bad_field_and_keeps_the_config(web, notion_sandbox, local_env):
    sandbox, _ = notion_sandbox
    tenant = tenant_of(sandbox)
    demo = sandbox.default_workspace.demo
    post(web, "/onboarding/sources", web.get("/onboarding/sources"),
         {"tasks_data_source_id": demo["tasks_data_source_id"]})
    page = web.get("/onboarding/schedule")
    good = {"planning_time": "07:30", "timezone": "Europe/Paris", "work_start": "09:00", "work_end": "17:00",
            "work_days": ["1", "2"]}
    cases = {
        "work_end": ({"work_end": "08:00"}, "must end after they start"),
        "timezone": ({"timezone": "Mars/Olympus"}, "IANA"),
        "work_days": ({"work_days": []}, "at least one working day"),
        "planning_time": ({"planning_time": "25:99"}, "must be a time"),
    }
    for field, (change, words) in cases.items():
        response = post(web, "/onboarding/schedule", page, {**good, **change})
        body = response.get_data(as_text=True)
        assert response.status_code == 400, field
        assert words in body and f'aria-describedby="{field}-error"' in body, field
        assert "Mars/Olympus" not in body.split('id="form-error"')[1].split("</div>")[0]  # never echoed
    config = ConnectionServices(local_env).tenants.get_config(tenant_id=tenant)
    assert config.timezone == "UTC"
    assert post(web, "/onboarding/schedule", page, good).status_code == 303
    config = ConnectionServices(local_env).tenants.get_config(tenant_id=tenant)
    assert config.timezone == "Europe/Paris" and config.working_hours.days == [1, 2]


# --- settings, account, feedback, usage -------------------------------------------------------------


@pytest.fixture
def onboarded(web, notion_sandbox, local_env):
    demo = notion_sandbox[0].default_workspace.demo
    post(web, "/onboarding/sources", web.get("/onboarding/sources"),
         {"tasks_data_source_id": demo["tasks_data_source_id"], "routines_data_source_id": demo["routines_data_source_id"]})
    post(web, "/onboarding/schedule", web.get("/onboarding/schedule"), {
        "planning_time": "07:30", "timezone": "UTC", "work_start": "09:00", "work_end": "17:00", "work_days": ["1"]})
    assert post(web, "/onboarding/finish", web.get("/onboarding/preview")).status_code == 303
    return web


def test_settings_save_the_schedule_and_a_vetted_webhook_and_reschedule_the_plan(onboarded, notion_sandbox, local_env):
    web, tenant = onboarded, tenant_of(notion_sandbox[0])
    page = web.get("/settings")
    assert page.status_code == 200 and 'value="07:30"' in page.get_data(as_text=True)
    planned_before = local_env.documents.get("", tenant_id=tenant)["next_plan_at"]
    form = {"planning_time": "06:15", "timezone": "Asia/Tokyo", "work_start": "08:00", "work_end": "16:00",
            "work_days": ["1", "2", "3"], "notion_page": "on"}
    for url, reason in (("http://hooks.example.com/x", "https"), ("https://127.0.0.1/hook", "loopback"),
                        ("https://169.254.169.254/latest", "link-local"), ("not a url", "URL")):
        refused = post(web, "/settings", page, {**form, "webhook_url": url})
        body = refused.get_data(as_text=True)
        assert refused.status_code == 400 and reason in body and 'aria-describedby="webhook_url-error"' in body, url
    assert ConnectionServices(local_env).tenants.get_config(tenant_id=tenant).timezone == "UTC"
    saved = post(web, "/settings", page, {**form, "webhook_url": "https://8.8.8.8/hook"})
    assert saved.status_code == 303 and saved.headers["Location"] == "/settings?saved=1"
    config = ConnectionServices(local_env).tenants.get_config(tenant_id=tenant)
    assert config.timezone == "Asia/Tokyo" and str(config.notifications.webhook_url) == "https://8.8.8.8/hook"
    assert config.tasks_data_source_id == notion_sandbox[0].default_workspace.demo["tasks_data_source_id"]
    assert local_env.documents.get("", tenant_id=tenant)["next_plan_at"] != planned_before  # rescheduled
    assert "Settings saved" in web.get("/settings?saved=1").get_data(as_text=True)


def test_export_disconnect_and_sign_out(onboarded, notion_sandbox, local_env):
    web, (sandbox, _) = onboarded, notion_sandbox
    tenant = tenant_of(sandbox)
    export = web.get("/settings/export")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    body = export.get_json()
    assert body["tenant_id"] == tenant and "config/main" in body["documents"]
    assert "connection/notion" not in body["documents"]  # credentials never leave
    page = web.get("/settings")
    done = post(web, "/settings/disconnect", page)
    assert done.status_code == 200 and "Notion disconnected" in done.get_data(as_text=True)
    assert any(c.startswith("planner_session=;") for c in done.headers.getlist("Set-Cookie"))
    assert all(not token.active for token in sandbox.oauth.tokens.values() if token.kind == "access")
    assert web.get("/app").headers["Location"] == "/"  # every session ended


def test_sign_out_clears_the_cookie(onboarded):
    response = post(onboarded, "/signout", onboarded.get("/help"))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert any(c.startswith("planner_session=;") for c in response.headers.getlist("Set-Cookie"))


def test_delete_needs_the_typed_confirmation_then_removes_everything(onboarded, notion_sandbox, local_env):
    web, tenant = onboarded, tenant_of(notion_sandbox[0])
    page = web.get("/settings")
    wrong = post(web, "/settings/delete", page, {"confirm": "yes"})
    assert wrong.status_code == 400 and "type DELETE to confirm" in wrong.get_data(as_text=True)
    assert local_env.documents.get("", tenant_id=tenant) is not None
    gone = post(web, "/settings/delete", page, {"confirm": "DELETE"})
    assert gone.status_code == 200 and "Account deleted" in gone.get_data(as_text=True)
    assert local_env.documents.export_tenant(tenant_id=tenant) == {}
    assert web.get("/settings").headers["Location"] == "/"


def test_feedback_is_stored_per_tenant_and_validated(onboarded, notion_sandbox, local_env):
    web, tenant = onboarded, tenant_of(notion_sandbox[0])
    page = web.get("/feedback")
    empty = post(web, "/feedback", page, {"kind": "idea", "message": "   "})
    assert empty.status_code == 400 and "Message is required" in empty.get_data(as_text=True)
    bad_kind = post(web, "/feedback", page, {"kind": "<script>", "message": "x"})
    assert bad_kind.status_code == 400 and "<script>" not in bad_kind.get_data(as_text=True)
    sent = post(web, "/feedback", page, {"kind": "idea", "message": "Weekly view <b>please</b>", "may_contact": "on"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/feedback?sent=1"
    stored = local_env.documents.query("feedback", tenant_id=tenant)
    assert len(stored) == 1
    assert stored[0].data["message"] == "Weekly view <b>please</b>" and stored[0].data["may_contact"] is True
    again = web.get("/feedback?sent=1").get_data(as_text=True)
    assert "Thank you" in again and "Weekly view &lt;b&gt;please&lt;/b&gt;" in again  # escaped when shown


def test_usage_page_draws_the_charts_from_the_meter(onboarded, notion_sandbox, local_env):
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    from shared.models import OperationType, UsageRecord
    from shared.usage.meter import UsageMeter

    tenant = tenant_of(notion_sandbox[0])
    meter = UsageMeter(local_env.documents)
    now = datetime.now(timezone.utc)
    for days_ago, tokens in ((0, 1200), (0, 300), (3, 800)):
        meter.record(UsageRecord(operation=OperationType.LLM_CALL, tokens_in=tokens, tokens_out=tokens // 4,
                                 cost_usd=Decimal("0.0004"), timestamp=now - timedelta(days=days_ago)), tenant_id=tenant)
    meter.record(UsageRecord(operation=OperationType.SYNC, timestamp=now), tenant_id=tenant)
    page = onboarded.get("/usage")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 3
    assert "LLM tokens by day" in html and "Cost by day (USD)" in html and "Operations in the last 30 days" in html
    assert f"{now:%b %d}: Tokens in 1,500, Tokens out 375" in html  # today's bar, both layers
    assert "<th scope=\"row\">LLM calls</th><td class=\"num\">3</td>" in html
    assert 'id="meter-llm_tokens_per_day"' in html and "/usage/export.csv" in html
    assert_secure_headers(page)


# --- chat -------------------------------------------------------------------------------------------


def test_chat_form_and_json_api_answer_through_the_agent_and_keep_the_conversation(onboarded, notion_sandbox, local_env):
    web, tenant = onboarded, tenant_of(notion_sandbox[0])
    page = web.get("/chat")
    assert page.status_code == 200 and "No messages yet" in page.get_data(as_text=True)
    sent = post(web, "/chat", page, {"message": "What's next?", "conversation_id": "default"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/chat?c=default#latest"
    shown = web.get("/chat?c=default").get_data(as_text=True)
    assert "What&#39;s next?" in shown and shown.count('class="turn assistant"') == 1
    api = web.post("/api/chat", json={"message": "what do I have today?", "conversation_id": "default"},
                   headers={"X-CSRF-Token": csrf_of(page)})
    assert api.status_code == 200, api.get_data(as_text=True)
    body = api.get_json()
    assert body["conversation_id"] == "default" and body["reply"].strip() and isinstance(body["actions"], list)
    assert_secure_headers(api)
    stored = local_env.documents.get("conversations/default", tenant_id=tenant)
    assert [turn["role"] for turn in stored["history"]] == ["user", "assistant", "user", "assistant"]
    assert any(doc.data.get("operation") == "chat" for doc in local_env.documents.query("usage_logs", tenant_id=tenant))
    refused = web.post("/api/chat", json={"message": "hi"})  # cookie without the CSRF header
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_invalid"
    invalid = web.post("/api/chat", json={"message": "", "extra": 1}, headers={"X-CSRF-Token": csrf_of(page)})
    assert invalid.status_code == 400 and invalid.get_json()["error"]["field"] in ("message", "extra")
    fresh = web.get("/chat?new=1").get_data(as_text=True)
    assert "No messages yet" in fresh and re.search(r'name="conversation_id" value="web-[0-9a-f]{12}"', fresh)
    assert web.get("/chat?c=../x").status_code == 400


# --- under a path prefix ----------------------------------------------------------------------------
# In production every function shares one host, this one at https://…/web, and receives its paths
# without "/web": every URL the dashboard writes must carry the prefix, and none may when the
# function sits at the root of its host (local).

URL_ATTRIBUTES = ("href", "action", "src", "formaction")


class _Urls(HTMLParser):
    """The URL attributes of a page, and the base path it hands to its script (``<html data-base>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.data_base: str | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.urls.append((tag, name, value))
            if tag == "html" and name == "data-base":
                self.data_base = value


class Crawl:
    """Every path-absolute URL the function wrote (links, form actions, assets, ``Location``),
    with where it was seen; absolute URLs to other origins, ``#`` anchors and ``data:`` are left out."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen: list[tuple[str, str, str]] = []  # (where, kind, URL): kind is "get" or "post"

    def __call__(self, response, where: str):
        if response.status_code in (301, 302, 303, 307, 308):
            self._add(where, "get", response.headers["Location"])
        elif response.mimetype == "text/html":
            parser = _Urls()
            parser.feed(response.get_data(as_text=True))
            assert parser.data_base == (self.prefix or None), where  # what app.js builds its fetch URL from
            assert parser.urls, f"{where}: a page without a single link"
            for tag, attribute, value in parser.urls:
                self._add(f"{where} <{tag} {attribute}>", "post" if attribute in ("action", "formaction") else "get",
                          value)
        return response

    def _add(self, where: str, kind: str, url: str) -> None:
        parts = urlsplit(url)
        if url.startswith("#") or parts.scheme == "data":
            return
        if parts.scheme or parts.netloc:
            assert parts.scheme in ("http", "https") and not url.startswith("//"), (where, url)
            return  # another function (oauth, usage export) or Notion: absolute, so not ours to prefix
        assert url.startswith("/"), f"{where}: relative URL {url!r}"
        self.seen.append((where, kind, url))

    def routes(self) -> set[tuple[str, str]]:
        """(kind, route): each URL without the prefix, as the function receives it."""
        found = set()
        for where, kind, url in self.seen:
            if self.prefix:
                assert url.startswith(self.prefix + "/"), f"{where}: {url!r} is outside {self.prefix}/"
            else:
                assert not url.startswith("/web"), f"{where}: {url!r} has a prefix at the root of the host"
            found.add((kind, url[len(self.prefix):].split("#")[0]))
        return found


@pytest.fixture(params=[(FUNCTION_URLS["web"], ""), ("https://host.example/web", "/web")], ids=["root", "prefixed"])
def public_base(request, local_env, monkeypatch):
    """The dashboard's public URL (``PLANNER_PUBLIC_BASE_URL``, read by the oauth function's redirect
    too) and its base path."""
    public, prefix = request.param
    monkeypatch.setenv("PLANNER_PUBLIC_BASE_URL", public)
    reset_settings_cache()
    backends = get_backends()  # the same data folder, under the new settings
    yield public, prefix
    backends.documents.close()
    reset_settings_cache()


def test_every_link_form_asset_and_redirect_stays_under_the_public_base_path(public_base, notion_sandbox):
    _, prefix = public_base
    sandbox, server = notion_sandbox
    crawl = Crawl(prefix)
    anonymous = function_client("web")
    for path in ("/", "/help", "/app", "/chat", "/settings"):
        crawl(anonymous.get(path), f"signed out {path}")
    assert anonymous.get("/app").headers["Location"] == prefix + "/"

    token, landing = sign_in(server)
    assert landing.endswith("/onboarding")  # the oauth function's redirect (its own settings) to the dashboard
    web = function_client("web")
    web.set_cookie("planner_session", token)
    for path in ("/", "/onboarding", "/app", "/onboarding/preview", "/onboarding/schedule"):
        crawl(web.get(path), path)  # not onboarded: redirects to the next step
    sources = crawl(web.get("/onboarding/sources"), "/onboarding/sources")
    parent = re.search(r'<option value="([0-9a-f-]{36})">Planner demo</option>', sources.get_data(as_text=True))
    created = crawl(post(web, "/onboarding/template", sources, {"parent_page_id": parent.group(1), "examples": "on"}),
                    "POST /onboarding/template")
    assert created.headers["Location"] == prefix + "/onboarding/schedule"
    schedule = crawl(web.get("/onboarding/schedule"), "/onboarding/schedule")
    crawl(post(web, "/onboarding/schedule", schedule, {"planning_time": "07:30", "timezone": "UTC", "work_start": "00:00",
                                                       "work_end": "23:59", "work_days": [str(d) for d in range(1, 8)]}),
          "POST /onboarding/schedule")
    preview = crawl(web.get("/onboarding/preview"), "/onboarding/preview")
    assert crawl(post(web, "/onboarding/finish", preview), "POST /onboarding/finish").headers["Location"] == \
        prefix + "/app?welcome=1"

    for path in ("/", "/app?welcome=1", "/chat", "/usage", "/help", "/feedback?sent=1", "/settings?saved=1"):
        crawl(web.get(path), path)
    chat = web.get("/chat")
    sent = crawl(post(web, "/chat", chat, {"message": "What's next?", "conversation_id": "default"}), "POST /chat")
    crawl(web.get(urlsplit(sent.headers["Location"]).path[len(prefix):] + "?c=default"), "a conversation")
    crawl(post(web, "/feedback", web.get("/feedback"), {"kind": "idea", "message": "hi"}), "POST /feedback")
    settings = web.get("/settings")
    crawl(post(web, "/settings", settings, {"planning_time": "07:30", "timezone": "UTC", "work_start": "09:00",
                                           "work_end": "17:00", "work_days": ["1"]}), "POST /settings")
    crawl(post(web, "/settings", settings, {"planning_time": "25:00"}), "settings, refused")
    crawl(web.post("/feedback", data={"message": "no token"}), "the error page")
    other = crawl(web.get("/onboarding/sources?next=settings"), "/onboarding/sources?next=settings")
    demo = sandbox.default_workspace.demo
    crawl(post(web, "/onboarding/sources?next=settings", other, {"tasks_data_source_id": demo["tasks_data_source_id"]}),
          "POST /onboarding/sources?next=settings")

    routes = crawl.routes()
    paths = {(kind, urlsplit(route).path) for kind, route in routes}
    assert {("get", p) for p in ("/", "/app", "/chat", "/usage", "/settings", "/help", "/feedback", "/onboarding",
                                 "/onboarding/sources", "/onboarding/schedule", "/onboarding/preview",
                                 "/settings/export")} <= paths
    assert {("post", p) for p in ("/signout", "/chat", "/feedback", "/settings", "/settings/disconnect",
                                  "/settings/delete", "/onboarding/sources", "/onboarding/template",
                                  "/onboarding/schedule", "/onboarding/finish")} <= paths
    assert any(p.startswith("/assets/app.js") for _, p in routes) and any(p.startswith("/assets/app.css") for _, p in routes)
    for kind, route in sorted(routes):  # each URL, without its prefix, is one of the function's routes
        if kind == "get":
            assert web.get(route).status_code in (200, 302), route
        else:
            assert web.post(route).status_code == 403, route  # the route exists; the CSRF token is missing

    signed_out = crawl(post(web, "/signout", web.get("/help")), "POST /signout")
    assert signed_out.headers["Location"] == prefix + "/"
    token, _ = sign_in(server)
    web.set_cookie("planner_session", token)
    deleted = crawl(post(web, "/settings/delete", web.get("/settings"), {"confirm": "DELETE"}), "account deleted")
    assert f'href="{prefix}/"' in deleted.get_data(as_text=True)
    crawl.routes()  # the pages seen since still stay under the prefix
