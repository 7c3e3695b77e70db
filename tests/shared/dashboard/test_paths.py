"""The dashboard's base path: taken from the public URL, put in front of every route, asset URL
and template link (a real template folder rendered by the Renderer)."""

from __future__ import annotations

import pytest

from shared.dashboard.paths import BasePath
from shared.dashboard.render import Renderer


@pytest.mark.parametrize(("public_url", "prefix"), [
    ("https://europe-west1-proj.cloudfunctions.net/web", "/web"),
    ("https://europe-west1-proj.cloudfunctions.net/web/", "/web"),
    ("https://planner.example/apps/planner/", "/apps/planner"),
    ("http://127.0.0.1:8085", ""),
    ("http://127.0.0.1:8085/", ""),
    ("https://web-123.europe-west1.run.app", ""),
])
def test_the_prefix_is_the_path_of_the_public_url_without_its_trailing_slash(public_url, prefix):
    assert BasePath.of(public_url).prefix == prefix


def test_routes_get_the_prefix_and_keep_their_query_and_fragment():
    web = BasePath("/web")
    assert web("/app") == "/web/app"
    assert web("/") == "/web/"
    assert web("/chat?c=default#latest") == "/web/chat?c=default#latest"
    root = BasePath()
    assert root("/app") == "/app" and root("/") == "/"


@pytest.mark.parametrize("route", ["app", "", "//evil.example/app", "https://evil.example/"])
def test_a_route_must_be_one_path_of_this_function(route):
    with pytest.raises(ValueError, match="route"):
        BasePath("/web")(route)


@pytest.mark.parametrize("prefix", ["web", "/web/", "/"])
def test_a_malformed_prefix_is_refused(prefix):
    with pytest.raises(ValueError, match="base path"):
        BasePath(prefix)


@pytest.fixture
def folders(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text(
        "<html{% if base %} data-base=\"{{ base }}\"{% endif %}><link href=\"{{ asset('app.css') }}\">"
        "<a href=\"{{ u('/chat?new=1') }}\">new</a><form action=\"{{ u('/' ~ step) }}\"></form></html>")
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body{}")
    return templates, static


def test_the_renderer_puts_the_prefix_in_front_of_assets_and_template_links(folders):
    page = Renderer(*folders, paths=BasePath("/web")).render("page.html", step="onboarding")
    assert page.startswith('<html data-base="/web"><link href="/web/assets/app.css?v=')
    assert '<a href="/web/chat?new=1">' in page and '<form action="/web/onboarding">' in page


def test_at_the_root_of_a_host_the_renderer_writes_plain_root_paths(folders):
    renderer = Renderer(*folders)
    page = renderer.render("page.html", step="onboarding")
    assert page.startswith('<html><link href="/assets/app.css?v=')
    assert '<a href="/chat?new=1">' in page and '<form action="/onboarding">' in page
    assert renderer.asset_url("app.css").startswith("/assets/app.css?v=")
