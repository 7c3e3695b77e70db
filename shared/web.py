"""HTTP plumbing shared by every function: routing, request context, and the one error mapping.

A function's ``main.py`` builds a :class:`Router`, registers thin handlers, and exposes
``router.as_entry_point()`` to functions-framework. The router

* binds the log context (trace id from ``X-Cloud-Trace-Context``, a fresh request id, the function),
* refuses bodies above the limit (413) and unknown routes (404/405) with the standard JSON error,
* maps every :class:`shared.errors.AppError` to its status and the stable body
  ``{"error": {"code", "message", "request_id", ...details}}``, and anything unexpected to a 500
  that says nothing about internals (the exception goes to the log and to Sentry, scrubbed).
  Request bodies become 400s naming the field only through :func:`parse_json` /
  :func:`parse_query`: a validation error raised anywhere else is a bug (bad stored data, say)
  and is a 500, not the caller's fault,
* writes one request log line with latency, status, function, hashed tenant and trace.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import flask
import pydantic

from shared import logs
from shared.errors import AppError, InvalidRequest, MethodNotAllowed, NotFound, PayloadTooLarge

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=pydantic.BaseModel)

DEFAULT_MAX_BODY = 256 * 1024

Handler = Callable[[flask.Request, "RequestContext"], Any]


@dataclass
class RequestContext:
    """What a handler knows about the request besides the request itself."""

    request_id: str
    function: str
    path_params: dict[str, str] = field(default_factory=dict)
    tenant_id: str | None = None

    def set_tenant(self, tenant_id: str) -> None:
        """Record the tenant this request acts for (logged hashed, never in clear)."""
        self.tenant_id = tenant_id
        logs.bind_tenant(tenant_id)


def error_body(error: AppError, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message, "request_id": request_id}
    body.update(error.details())
    return {"error": body}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> flask.Response:
    response = flask.Response(
        json.dumps(body, default=_json_default, ensure_ascii=False), status=status, mimetype="application/json"
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _json_default(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    from decimal import Decimal
    from enum import Enum

    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def validation_error(exc: pydantic.ValidationError) -> InvalidRequest:
    """A 400 that names the first offending field and says what is wrong, without echoing input."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__") or None
    kind = first.get("type", "")
    if kind == "missing":
        message = f"The field '{loc}' is required."
    elif kind == "extra_forbidden":
        message = f"The field '{loc}' is not allowed."
    else:
        reason = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
        message = f"The field '{loc}' is invalid: {reason}." if loc else f"The request is invalid: {reason}."
    return InvalidRequest(message, field=loc)


def parse_json(request: flask.Request, model: type[M]) -> M:
    """The request's JSON body validated as ``model``; InvalidRequest (400) otherwise."""
    raw = request.get_data(cache=True)
    if not raw:
        payload: Any = {}
    else:
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise InvalidRequest("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    try:
        return model.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None


def parse_query(request: flask.Request, model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None


@dataclass(frozen=True)
class _Route:
    method: str
    parts: tuple[str, ...]
    handler: Handler


class Router:
    """Method + path routing for one function, with ``{param}`` path segments."""

    def __init__(self, function: str, *, max_body_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.function = function
        self.max_body_bytes = max_body_bytes
        self._routes: list[_Route] = []
        self.get("/healthz")(self._healthz)

    def _healthz(self, request: flask.Request, ctx: RequestContext) -> dict[str, Any]:
        from shared.config import get_settings

        settings = get_settings()
        return {"status": "ok", "function": self.function, "profile": settings.profile, "release": settings.release}

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes.append(_Route(method.upper(), _split(path), handler))
            return handler

        return register

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def routes(self) -> list[tuple[str, str]]:
        return [(r.method, "/" + "/".join(r.parts)) for r in self._routes]

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        parts = _split(path)
        allowed = False
        for route in self._routes:
            params = _match_parts(route.parts, parts)
            if params is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route.handler, params
            allowed = True
        if allowed:
            raise MethodNotAllowed()
        raise NotFound("No such endpoint.", code="no_route")

    def handle(self, request: flask.Request) -> flask.Response:
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        trace_id, span_id, sampled = logs.parse_trace_header(request.headers)
        token = logs.bind(trace_id=trace_id, span_id=span_id, sampled=sampled, request_id=request_id,
                          function=self.function, tenant_hash=None)
        ctx = RequestContext(request_id=request_id, function=self.function)
        try:
            try:
                if request.content_length is not None and request.content_length > self.max_body_bytes:
                    raise PayloadTooLarge()
                handler, ctx.path_params = self._match(request.method, request.path)
                response = to_response(handler(request, ctx))
            except AppError as error:
                if error.status >= 500:
                    logger.error("request failed: %s", error.code, exc_info=error)
                    capture_exception(error)
                response = json_response(error_body(error, request_id), error.status, error.headers())
            except Exception as exc:  # the one place unexpected errors become a 500
                logger.exception("unhandled error")
                capture_exception(exc)
                error = AppError()
                response = json_response(error_body(error, request_id), 500)
            response.headers["X-Request-Id"] = request_id
            _log_request(request, response, started)
            return response
        finally:
            logs.reset(token)

    def as_entry_point(self) -> Callable[[flask.Request], flask.Response]:
        def entry_point(request: flask.Request) -> flask.Response:
            return self.handle(request)

        entry_point.__name__ = self.function
        return entry_point


def _split(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.strip("/").split("/") if part)


def _match_parts(pattern: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, parts):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def to_response(result: Any) -> flask.Response:
    """A handler's result as a response: a Response as is, else JSON (``body``, ``(body, status)``
    or ``(body, status, headers)``)."""
    if isinstance(result, flask.Response):
        return result
    status = 200
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    return json_response(result, status, headers)


def capture_exception(exc: BaseException) -> None:
    """Send ``exc`` to Sentry (scrubbed by its before_send hook); never raises."""
    try:
        import sentry_sdk

        sentry_sdk.capture_exception(exc)
    except Exception:  # Sentry must never turn an error page into a crash
        logger.debug("sentry capture failed", exc_info=True)


def _log_request(request: flask.Request, response: flask.Response, started: float) -> None:
    latency = time.perf_counter() - started
    severity = logging.ERROR if response.status_code >= 500 else logging.WARNING if response.status_code >= 400 else logging.INFO
    logger.log(
        severity,
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra=logs.log_fields(
            httpRequest={
                "requestMethod": request.method,
                "requestUrl": request.path,  # no query string: it may carry OAuth codes
                "status": response.status_code,
                "latency": f"{latency:.6f}s",
                "userAgent": request.headers.get("User-Agent", "")[:200],
            },
            latency_ms=round(latency * 1000, 3),
        ),
    )


def html_page(title: str, message: str, *, status: int = 200, link: tuple[str, str] | None = None,
              headers: dict[str, str] | None = None) -> flask.Response:
    """A small self-contained HTML page (no external assets) for flows a browser lands on."""
    from html import escape

    action = f'<p><a href="{escape(link[0])}">{escape(link[1])}</a></p>' if link else ""
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;"
        "margin:4rem auto;padding:0 1rem;color:#1f2328}h1{font-size:1.4rem}</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(message)}</p>{action}</body></html>"
    )
    response = flask.Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers.add(key, value)
    return response


def redirect(location: str, *, cookies: list[str] = ()) -> flask.Response:
    response = flask.Response(status=302)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie)
    return response
