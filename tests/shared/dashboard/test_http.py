"""Page and API wrappers: sign-in redirects, error pages with their status and headers, and the
security headers on everything (a real Router, a real template folder)."""

from __future__ import annotations

import flask
import pytest

from shared.dashboard.http import PageHandlers, found, see_other
from shared.dashboard.render import Renderer
from shared.dashboard.security import CONTENT_SECURITY_POLICY
from shared.errors import InvalidRequest, RateLimited, Unauthenticated
from shared.web import Router

app = flask.Flask(__name__)


@pytest.fixture
def router(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "error.html").write_text("<h1>{{ error.status }} {{ error.message }}</h1><p>{{ request_id }}</p>"
                                          "<a href='{{ sign_in_url }}'>in</a>")
    (templates / "ok.html").write_text("<p>{{ name }}</p>")
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body{}")
    renderer = Renderer(templates, static)
    pages = PageHandlers(renderer, landing="/", context=lambda: {"sign_in_url": "/in"})
    r = Router("test")

    @r.get("/ok")
    @pages.page
    def ok(request, ctx):
        return renderer.page("ok.html", name="<b>")

    @r.get("/private")
    @pages.page
    def private(request, ctx):
        raise Unauthenticated()

    @r.get("/slow")
    @pages.page
    def slow(request, ctx):
        raise RateLimited("Too many requests; wait a little.", retry_after=17)

    @r.get("/boom")
    @pages.page
    def boom(request, ctx):
        raise RuntimeError("secret_do_not_show internals")

    @r.post("/api")
    @pages.api
    def api(request, ctx):
        raise InvalidRequest("The field 'x' is required.", field="x")

    @r.get("/api-ok")
    @pages.api
    def api_ok(request, ctx):
        return {"ok": True}, 201

    return r


def call(router, method, path):
    with app.test_request_context(path, method=method):
        return router.handle(flask.request)


def test_pages_are_escaped_and_hardened(router):
    response = call(router, "GET", "/ok")
    assert response.get_data(as_text=True) == "<p>&lt;b&gt;</p>"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Frame-Options"] == "DENY"


def test_a_page_without_a_session_redirects_to_the_landing_page(router):
    response = call(router, "GET", "/private")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_errors_render_the_error_page_with_status_and_headers(router):
    slow = call(router, "GET", "/slow")
    assert slow.status_code == 429 and slow.headers["Retry-After"] == "17" and slow.mimetype == "text/html"
    assert "429 Too many requests; wait a little." in slow.get_data(as_text=True)
    assert slow.headers["X-Content-Type-Options"] == "nosniff"
    boom = call(router, "GET", "/boom")
    body = boom.get_data(as_text=True)
    assert boom.status_code == 500 and "secret_do_not_show" not in body and boom.headers["X-Request-Id"] in body


def test_api_errors_keep_the_json_body_and_get_the_headers(router):
    response = call(router, "POST", "/api")
    assert response.status_code == 400 and response.headers["X-Frame-Options"] == "DENY"
    error = response.get_json()["error"]
    assert error["field"] == "x" and error["request_id"] == response.headers["X-Request-Id"]
    ok = call(router, "GET", "/api-ok")
    assert ok.status_code == 201 and ok.get_json() == {"ok": True} and "Content-Security-Policy" in ok.headers


def test_redirect_helpers():
    assert see_other("/x").status_code == 303 and found("/y").headers["Location"] == "/y"
    assert see_other("/x").headers["Referrer-Policy"] == "same-origin"


def test_static_files_are_looked_up_never_joined(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.js").write_text("1")
    (static / "notes.txt").write_text("not served")
    (tmp_path / "t").mkdir()
    renderer = Renderer(tmp_path / "t", static)
    assert renderer.asset_url("app.js").startswith("/assets/app.js?v=")
    with app.test_request_context("/"):
        assert renderer.static_response("app.js").mimetype == "text/javascript"
        for name in ("notes.txt", "../static/app.js", ""):
            with pytest.raises(Exception) as caught:
                renderer.static_response(name)
            assert getattr(caught.value, "status", None) == 404
    with pytest.raises(KeyError):
        renderer.asset_url("missing.css")
