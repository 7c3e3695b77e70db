import io
import json
import logging

import flask
import pydantic
import pytest

from shared import logs
from shared.errors import InvalidRequest, RateLimited
from shared.web import Router, parse_json

app = flask.Flask(__name__)


class Body(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    title: str
    minutes: int = pydantic.Field(ge=1)


def make_router() -> Router:
    router = Router("test", max_body_bytes=1024)

    @router.post("/items")
    def create(request, ctx):
        body = parse_json(request, Body)
        return {"title": body.title}, 201

    @router.get("/items/{item_id}")
    def show(request, ctx):
        return {"id": ctx.path_params["item_id"]}

    @router.get("/limited")
    def limited(request, ctx):
        raise RateLimited(retry_after=42)

    @router.get("/boom")
    def boom(request, ctx):
        raise RuntimeError("secret_abcdefghijklmnop leaked internals")

    return router


def call(router, method, path, **kwargs):
    with app.test_request_context(path, method=method, **kwargs):
        return router.handle(flask.request)


def test_routes_and_path_params():
    router = make_router()
    response = call(router, "GET", "/items/abc")
    assert response.status_code == 200
    assert response.get_json() == {"id": "abc"}
    assert response.headers["X-Request-Id"]


def test_healthz_is_built_in():
    response = call(make_router(), "GET", "/healthz")
    assert response.get_json()["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/nowhere", {}, 404, "no_route"),
        ("DELETE", "/items", {}, 405, "method_not_allowed"),
        ("POST", "/items", {"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ("POST", "/items", {"json": [1, 2]}, 400, "invalid_json"),
        ("POST", "/items", {"json": {"minutes": 5}}, 400, "invalid_request"),
        ("POST", "/items", {"json": {"title": "x", "minutes": 0}}, 400, "invalid_request"),
        ("POST", "/items", {"json": {"title": "x", "minutes": 5, "admin": True}}, 400, "invalid_request"),
        ("POST", "/items", {"data": "x" * 2048, "content_type": "application/json"}, 413, "payload_too_large"),
        ("GET", "/limited", {}, 429, "rate_limited"),
        ("GET", "/boom", {}, 500, "internal"),
    ],
)
def test_errors_have_one_stable_shape(method, path, kwargs, status, code):
    response = call(make_router(), method, path, **kwargs)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_validation_error_names_the_field_without_echoing_input():
    response = call(make_router(), "POST", "/items", json={"title": "x", "minutes": "lots-of-secret"})
    error = response.get_json()["error"]
    assert error["field"] == "minutes"
    assert "minutes" in error["message"]
    assert "lots-of-secret" not in json.dumps(error)


def test_missing_field_is_named():
    error = call(make_router(), "POST", "/items", json={"minutes": 3}).get_json()["error"]
    assert error == {**error, "field": "title", "message": "The field 'title' is required."}


def test_rate_limit_carries_retry_after():
    response = call(make_router(), "GET", "/limited")
    assert response.headers["Retry-After"] == "42"
    assert response.get_json()["error"]["retry_after"] == 42


def test_internal_error_says_nothing_about_internals_and_logs_are_scrubbed():
    stream = io.StringIO()
    logs.configure_logging(stream=stream)
    try:
        response = call(make_router(), "GET", "/boom", headers={"X-Cloud-Trace-Context": "4bf92f3577b34da6a3ce929d0e0e4736/7;o=1"})
    finally:
        logs.configure_logging()
    body = response.get_json()["error"]
    assert "internals" not in body["message"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert all("secret_abcdefghijklmnop" not in json.dumps(line) for line in lines)
    request_line = lines[-1]
    assert request_line["httpRequest"]["status"] == 500
    assert request_line["logging.googleapis.com/trace"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert request_line["logging.googleapis.com/spanId"] == "7"
    assert request_line["logging.googleapis.com/labels"]["request_id"] == response.headers["X-Request-Id"]


def test_tenant_is_logged_hashed_only():
    stream = io.StringIO()
    logs.configure_logging(stream=stream)
    router = Router("test")

    @router.get("/t")
    def handler(request, ctx):
        ctx.set_tenant("ws-0123456789abcdef0123456789abcdef")
        logging.getLogger("x").info("working")
        return {}

    try:
        call(router, "GET", "/t")
    finally:
        logs.configure_logging()
    text = stream.getvalue()
    assert "0123456789abcdef" not in text
    assert logs.hash_tenant("ws-0123456789abcdef0123456789abcdef") in text


def test_invalid_request_field_detail():
    error = InvalidRequest("bad", field="timezone")
    assert error.details() == {"field": "timezone"}
