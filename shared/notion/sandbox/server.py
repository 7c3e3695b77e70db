"""The sandbox's HTTP face: Notion's routes on a stdlib ``ThreadingHTTPServer``.

API routes (``/v1/...``) check, in Notion's order, the route (400 ``invalid_request_url``), the
``Notion-Version`` header (400 ``missing_version``) and the bearer token (401 ``unauthorized``),
after any injected fault or latency and before the optional rate limit. OAuth routes take HTTP
Basic client credentials. ``/__sandbox__/...`` is the admin API for tests and the local stack
(seed, mint or expire tokens, inject faults, read the request log, user edits, webhooks); it binds
to 127.0.0.1 only and must never be exposed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from shared.notion.sandbox import shapes as S
from shared.notion.sandbox.oauth import OAuthError, consent_page, error_page
from shared.notion.sandbox.shapes import SandboxError
from shared.notion.sandbox.state import NotionSandbox

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = frozenset({"2022-06-28", "2025-09-03"})
_ID = r"(?P<id>[0-9a-fA-F-]{32,36})"


class Reply:
    """A response to write: status, headers, body bytes."""

    def __init__(self, status: int, body: Any = None, *, headers: dict[str, str] | None = None, html: str | None = None) -> None:
        self.status = status
        self.headers = dict(headers or {})
        if html is not None:
            self.body = html.encode()
            self.headers.setdefault("Content-Type", "text/html; charset=utf-8")
        elif body is None:
            self.body = b""
        else:
            self.body = json.dumps(body, ensure_ascii=False).encode()
            self.headers.setdefault("Content-Type", "application/json; charset=utf-8")

    @classmethod
    def error(cls, error: SandboxError) -> "Reply":
        return cls(error.status, error.body(), headers=error.headers)

    @classmethod
    def redirect(cls, location: str) -> "Reply":
        return cls(302, headers={"Location": location})


class Request:
    """What a route handler needs of the HTTP request."""

    def __init__(self, method: str, path: str, query: dict[str, str], headers: Any, raw: bytes) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.raw = raw
        self.params: dict[str, str] = {}
        self.workspace_id: str | None = None

    def json(self) -> dict[str, Any]:
        """The JSON object body (``{}`` when empty)."""
        if not self.raw.strip():
            return {}
        try:
            body = json.loads(self.raw)
        except (ValueError, UnicodeDecodeError):
            raise SandboxError(400, "invalid_json", "Error parsing JSON body.") from None
        if not isinstance(body, dict):
            raise SandboxError(400, "invalid_json", "The request body must be a JSON object.")
        return body

    def form_or_json(self) -> dict[str, Any]:
        content_type = (self.headers.get("Content-Type") or "").lower()
        if "application/x-www-form-urlencoded" in content_type:
            return dict(parse_qsl(self.raw.decode("utf-8", "replace"), keep_blank_values=True))
        return self.json()


Handler = Callable[[NotionSandbox, Request], Reply]


class Router:
    """Routes of one kind (API, OAuth or admin)."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(f"^{pattern}$"), handler))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """``(handler, params, path_exists)``."""
        path_exists = False
        for route_method, pattern, handler in self.routes:
            found = pattern.match(path)
            if found:
                path_exists = True
                if route_method == method:
                    return handler, found.groupdict(), True
        return None, {}, path_exists


api = Router()
oauth = Router()
admin = Router()


def _ok(body: dict[str, Any]) -> Reply:
    return Reply(200, {**body, "request_id": S.request_id()})


# --- API routes --------------------------------------------------------------------------------------


def _ws(sandbox: NotionSandbox, request: Request):
    return sandbox.workspaces[request.workspace_id]


@api.add("GET", "/v1/users/me")
def users_me(sandbox, request):
    return _ok(_ws(sandbox, request).bot_user())


@api.add("POST", "/v1/databases")
def create_database(sandbox, request):
    ws = _ws(sandbox, request)
    return _ok(ws.create_database(request.json(), ws.bot))


@api.add("GET", f"/v1/databases/{_ID}")
def retrieve_database(sandbox, request):
    return _ok(_ws(sandbox, request).retrieve_database(request.params["id"]))


@api.add("GET", f"/v1/data_sources/{_ID}")
def retrieve_data_source(sandbox, request):
    return _ok(_ws(sandbox, request).retrieve_data_source(request.params["id"]))


@api.add("PATCH", f"/v1/data_sources/{_ID}")
def update_data_source(sandbox, request):
    ws = _ws(sandbox, request)
    return _ok(ws.update_data_source(request.params["id"], request.json(), ws.bot))


@api.add("POST", f"/v1/data_sources/{_ID}/query")
def query_data_source(sandbox, request):
    return _ok(_ws(sandbox, request).query_data_source(request.params["id"], request.json()))


@api.add("POST", "/v1/pages")
def create_page(sandbox, request):
    ws = _ws(sandbox, request)
    return _ok(ws.create_page(request.json(), ws.bot))


@api.add("GET", f"/v1/pages/{_ID}")
def retrieve_page(sandbox, request):
    return _ok(_ws(sandbox, request).retrieve_page(request.params["id"]))


@api.add("PATCH", f"/v1/pages/{_ID}")
def update_page(sandbox, request):
    ws = _ws(sandbox, request)
    return _ok(ws.update_page(request.params["id"], request.json(), ws.bot))


@api.add("GET", f"/v1/blocks/{_ID}")
def retrieve_block(sandbox, request):
    ws = _ws(sandbox, request)
    key = S.canonical_id(request.params["id"]) or ""
    view = ws._block_view(key)
    if view is None:
        raise S.not_found("block", request.params["id"])
    return _ok(view)


@api.add("GET", f"/v1/blocks/{_ID}/children")
def list_children(sandbox, request):
    return _ok(_ws(sandbox, request).list_children(request.params["id"], request.query))


@api.add("PATCH", f"/v1/blocks/{_ID}/children")
def append_children(sandbox, request):
    ws = _ws(sandbox, request)
    return _ok(ws.append_children(request.params["id"], request.json(), ws.bot))


@api.add("DELETE", f"/v1/blocks/{_ID}")
def delete_block(sandbox, request):
    ws = _ws(sandbox, request)
    return _ok(ws.delete_block(request.params["id"], ws.bot))


@api.add("POST", "/v1/search")
def search(sandbox, request):
    return _ok(_ws(sandbox, request).search(request.json()))


# --- OAuth routes ------------------------------------------------------------------------------------


@oauth.add("GET", "/v1/oauth/authorize")
def authorize(sandbox, request):
    problem = sandbox.oauth.check_authorize(request.query)
    if problem:
        return Reply(400, html=error_page(problem))
    workspaces = [(ws.id, ws.name) for ws in sandbox.workspaces.values()]
    if not workspaces:
        return Reply(400, html=error_page("The sandbox has no workspace."))
    return Reply(200, html=consent_page(request.query, sandbox.integration_name, workspaces))


@oauth.add("POST", "/v1/oauth/authorize")
def decide(sandbox, request):
    form = dict(parse_qsl(request.raw.decode("utf-8", "replace"), keep_blank_values=True))
    problem = sandbox.oauth.check_authorize(form)
    if problem:
        return Reply(400, html=error_page(problem))
    workspace_id = form.get("workspace_id") or sandbox.default_workspace.id
    if workspace_id not in sandbox.workspaces:
        return Reply(400, html=error_page("Unknown workspace."))
    allow = form.get("decision") == "allow"
    return Reply.redirect(sandbox.oauth.decide(form, allow=allow, workspace_id=workspace_id))


@oauth.add("POST", "/v1/oauth/token")
def token(sandbox, request):
    client_id = sandbox.oauth.authenticate_client(request.headers.get("Authorization"))
    workspace_id, access, refresh = sandbox.oauth.exchange(client_id, request.form_or_json())
    return _ok(sandbox.token_response(workspace_id, access, refresh))


@oauth.add("POST", "/v1/oauth/revoke")
def revoke(sandbox, request):
    sandbox.oauth.authenticate_client(request.headers.get("Authorization"))
    sandbox.oauth.revoke(request.form_or_json().get("token"))
    return _ok({})


@oauth.add("POST", "/v1/oauth/introspect")
def introspect(sandbox, request):
    sandbox.oauth.authenticate_client(request.headers.get("Authorization"))
    return _ok(sandbox.oauth.introspect(request.form_or_json().get("token")))


# --- admin routes ------------------------------------------------------------------------------------

_WS = r"(?P<ws>[0-9a-fA-F-]{36})"


def _admin_ws(sandbox: NotionSandbox, workspace_id: str | None):
    if workspace_id is None:
        return sandbox.default_workspace
    if workspace_id not in sandbox.workspaces:
        raise SandboxError(404, "object_not_found", "Unknown workspace.")
    return sandbox.workspaces[workspace_id]


@admin.add("GET", "/__sandbox__/health")
def health(sandbox, request):
    return Reply(200, {"ok": True})


@admin.add("POST", "/__sandbox__/reset")
def reset(sandbox, request):
    sandbox.reset(seed=bool(request.json().get("seed", True)))
    return Reply(200, {"workspaces": [sandbox.describe(ws) for ws in sandbox.workspaces.values()]})


@admin.add("GET", "/__sandbox__/workspaces")
def list_workspaces(sandbox, request):
    return Reply(200, {"workspaces": [sandbox.describe(ws) for ws in sandbox.workspaces.values()]})


@admin.add("POST", "/__sandbox__/workspaces")
def add_workspace(sandbox, request):
    body = request.json()
    ws = sandbox.add_workspace(str(body.get("name") or "Another workspace"), seed=bool(body.get("seed", True)))
    return Reply(201, sandbox.describe(ws))


@admin.add("POST", "/__sandbox__/tokens")
def mint_tokens(sandbox, request):
    ws = _admin_ws(sandbox, request.json().get("workspace_id"))
    return Reply(201, sandbox.mint_tokens(ws.id))


@admin.add("POST", "/__sandbox__/tokens/expire")
def expire_tokens(sandbox, request):
    body = request.json()
    if not body.get("token") and not body.get("workspace_id"):
        raise S.validation("give a token or a workspace_id")
    return Reply(200, {"expired": sandbox.oauth.expire(token=body.get("token"), workspace_id=body.get("workspace_id"))})


@admin.add("GET", "/__sandbox__/faults")
def list_faults(sandbox, request):
    return Reply(200, {"faults": sandbox.faults.pending()})


@admin.add("POST", "/__sandbox__/faults")
def add_fault(sandbox, request):
    try:
        sandbox.faults.add(request.json())
    except (TypeError, ValueError) as error:
        raise S.validation(str(error)) from None
    return Reply(201, {"faults": sandbox.faults.pending()})


@admin.add("DELETE", "/__sandbox__/faults")
def clear_faults(sandbox, request):
    sandbox.faults.clear()
    return Reply(200, {"faults": []})


@admin.add("POST", "/__sandbox__/rate_limit")
def rate_limit(sandbox, request):
    body = request.json()
    try:
        sandbox.faults.set_rate_limit(body.get("rate"), int(body.get("burst", 3)))
    except (TypeError, ValueError) as error:
        raise S.validation(str(error)) from None
    return Reply(200, {"rate": sandbox.faults.rate, "burst": sandbox.faults.burst})


@admin.add("GET", "/__sandbox__/requests")
def list_requests(sandbox, request):
    return Reply(200, {"requests": sandbox.faults.requests(request.query.get("workspace_id"))})


@admin.add("DELETE", "/__sandbox__/requests")
def clear_requests(sandbox, request):
    sandbox.faults.clear_log()
    return Reply(200, {"requests": []})


@admin.add("POST", f"/__sandbox__/workspaces/{_WS}/pages")
def user_creates_page(sandbox, request):
    ws = _admin_ws(sandbox, request.params["ws"])
    return Reply(200, ws.create_page(request.json(), ws.user))


@admin.add("PATCH", f"/__sandbox__/workspaces/{_WS}/pages/{_ID}")
def user_updates_page(sandbox, request):
    ws = _admin_ws(sandbox, request.params["ws"])
    return Reply(200, ws.update_page(request.params["id"], request.json(), ws.user))


@admin.add("GET", "/__sandbox__/webhooks")
def list_webhooks(sandbox, request):
    return Reply(200, sandbox.outbox.snapshot())


@admin.add("POST", "/__sandbox__/webhooks/subscription")
def subscribe(sandbox, request):
    body = request.json()
    if not isinstance(body.get("url"), str) or not isinstance(body.get("verification_token"), str):
        raise S.validation("url and verification_token are required")
    delivery = sandbox.subscribe(body["url"], body["verification_token"], verify=bool(body.get("verify")))
    return Reply(200, {"subscription_id": sandbox.outbox.subscription.id, "verification": delivery.to_dict() if delivery else None})


@admin.add("POST", "/__sandbox__/webhooks/flush")
def flush(sandbox, request):
    try:
        deliveries = sandbox.flush_webhooks()
    except ValueError as error:
        raise S.validation(str(error)) from None
    return Reply(200, {"delivered": [d.to_dict() for d in deliveries]})


@admin.add("POST", "/__sandbox__/webhooks/emit")
def emit(sandbox, request):
    body = request.json()
    for key in ("event_type", "entity", "url", "verification_token"):
        if not body.get(key):
            raise S.validation(f"{key} is required")
    delivery = sandbox.emit_webhook(
        body["event_type"], body["entity"], body["url"], body["verification_token"],
        workspace_id=body.get("workspace_id"), data=body.get("data"), attempt_number=int(body.get("attempt_number", 1)),
    )
    return Reply(200, delivery.to_dict())


# --- dispatch ----------------------------------------------------------------------------------------


def handle(sandbox: NotionSandbox, request: Request) -> Reply:
    """Answer one request (thread-safe: the sandbox lock is held while state is touched)."""
    if request.path.startswith("/__sandbox__/"):
        return _dispatch(sandbox, admin, request, mutating=request.method != "GET")
    if not request.path.startswith("/v1/"):
        return Reply.error(SandboxError(400, "invalid_request_url", "Invalid request URL."))
    fault = sandbox.faults.take(request.method, request.path)
    if fault is not None and fault.latency_ms:
        time.sleep(fault.latency_ms / 1000)
    request.workspace_id = sandbox.oauth.workspace_of_bearer(request.headers.get("Authorization"))
    injected = fault.error() if fault is not None else None
    reply = Reply.error(injected) if injected is not None else _answer(sandbox, request)
    sandbox.faults.record(request.method, request.path, request.workspace_id, reply.status)
    return reply


def _answer(sandbox: NotionSandbox, request: Request) -> Reply:
    if request.path.startswith("/v1/oauth/"):
        return _dispatch(sandbox, oauth, request, mutating=request.method == "POST")
    handler, params, path_exists = api.match(request.method, request.path)
    if handler is None:
        return Reply.error(SandboxError(400, "invalid_request_url", "Invalid request URL."))
    version = request.headers.get("Notion-Version")
    if not version:
        return Reply.error(SandboxError(
            400, "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
        ))
    if version not in SUPPORTED_VERSIONS:
        return Reply.error(S.validation(f"Notion-Version header failed validation: `{version}` is not a supported version."))
    if request.workspace_id is None:
        return Reply.error(SandboxError(401, "unauthorized", "API token is invalid."))
    limited = sandbox.faults.check_rate(request.workspace_id)
    if limited is not None:
        return Reply.error(limited)
    return _dispatch(sandbox, api, request, mutating=request.method != "GET")


def _dispatch(sandbox: NotionSandbox, router: Router, request: Request, *, mutating: bool) -> Reply:
    handler, params, path_exists = router.match(request.method, request.path)
    if handler is None:
        return Reply.error(SandboxError(400, "invalid_request_url", "Invalid request URL."))
    request.params = params
    try:
        with sandbox.lock:
            reply = handler(sandbox, request)
            if mutating and reply.status < 400:
                sandbox.save()
            return reply
    except SandboxError as error:
        return Reply.error(error)
    except OAuthError as error:
        return Reply(error.status, error.body())


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: httpx reuses connections
    server_version = "NotionSandbox/1"
    sandbox: NotionSandbox  # set on the subclass made per server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), self.headers, raw)
        try:
            reply = handle(self.sandbox, request)
        except Exception:  # a sandbox bug must still answer like Notion's 500, and be visible
            logger.exception("sandbox failed on %s %s", self.command, parts.path)
            reply = Reply.error(SandboxError(500, "internal_server_error", "Unexpected error occurred."))
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # Never the headers (bearer tokens, Basic credentials): only the request line and status.
        logger.debug("%s %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test, a closed browser tab) is not a sandbox failure.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            logger.debug("client %s went away", client_address)
            return
        logger.exception("sandbox connection error from %s", client_address)


class SandboxServer:
    """Serves a :class:`NotionSandbox` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, sandbox: NotionSandbox, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        handler = type("SandboxRequestHandler", (_RequestHandler,), {"sandbox": sandbox})
        self.httpd = _HTTPServer((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SandboxServer":
        """Serve in a background thread."""
        # A short poll interval: stop() (shutdown) waits up to one interval.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="notion-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever loop that must exist
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
