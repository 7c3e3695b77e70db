"""The dashboard under a path prefix, in Chromium: the oauth and web functions on one host at
``/oauth`` and ``/web`` (as on cloudfunctions.net, each receiving its paths without the prefix;
see tests/browser/one_host.py). A user signs in, onboards with the demo workspace's databases,
sees today's plan and chats through the page's script: every page, asset, form post and the chat's
fetch stay under ``/web/``, and nothing fails or trips the Content-Security-Policy."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import ROOT

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class OneHost:
    origin: str  # the shared host: the functions live at {origin}/oauth and {origin}/web
    notion: str


@pytest.fixture(scope="module")
def one_host(tmp_path_factory) -> Iterator[OneHost]:
    tmp = tmp_path_factory.mktemp("one-host")
    log_path = tmp / "one-host.log"
    with log_path.open("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.one_host", "--data-dir", str(tmp / "data")], cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            # Polls for the server's "UP" line; the bound only stops a broken run.
            deadline, found = time.monotonic() + 60, None
            while time.monotonic() < deadline and process.poll() is None:
                found = re.search(r"^UP (\S+) (\S+)$", log_path.read_text(), re.MULTILINE)
                if found:
                    break
                time.sleep(0.1)
            assert process.poll() is None and found, log_path.read_text()[-4000:]
            yield OneHost(origin=found.group(1), notion=found.group(2))
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def test_the_dashboard_works_under_its_path_prefix(browser, one_host, shots):
    web = one_host.origin + "/web"
    context = browser.new_context(timezone_id="Europe/Paris", locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    ours: list[str] = []  # every request to the shared host, as "METHOD path"
    problems: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: ours.append(f"{request.method} {urlsplit(request.url).path}")
            if request.url.startswith(one_host.origin) else None)
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and page.url.startswith(web) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.url.startswith(one_host.origin) else None)

    page.goto(web + "/")
    assert page.get_attribute("html", "data-base") == "/web"
    page.click("#sign-in")  # the oauth function, at /oauth on the same host, then Notion's consent page
    page.wait_for_selector("#allow")
    page.click("#allow")  # the sandbox's demo workspace

    page.wait_for_url(web + "/onboarding")
    page.click("#continue")
    page.wait_for_url(web + "/onboarding/sources")
    page.click("#use-existing")  # the demo workspace's Tasks and Routines
    page.wait_for_url(web + "/onboarding/schedule")
    assert page.input_value("#timezone") == "Europe/Paris"  # app.js was loaded from /web/assets/
    page.fill("#work_start", "00:00")
    page.fill("#work_end", "23:59")
    for day in range(1, 8):
        page.check(f"#day-{day}")
    page.click("#save-schedule")
    page.wait_for_url(web + "/onboarding/preview")
    page.click("#finish")
    page.wait_for_url(re.compile(re.escape(web) + r"/app(\?.*)?$"))
    assert page.locator("#plan").is_visible()

    page.click("nav >> text=Chat")
    page.wait_for_url(web + "/chat")
    page.fill("#message", "What's next?")
    page.click("#send")
    page.locator(".turn.assistant").last.wait_for()
    assert page.url == web + "/chat"  # sent by the script's fetch, not by posting the form
    shots(page, "prefixed-chat")
    page.click("nav >> text=Usage")
    page.wait_for_url(web + "/usage")
    page.click(".brand")
    page.wait_for_url(web + "/app")
    context.close()

    assert "POST /web/api/chat" in ours and "POST /web/chat" not in ours
    assert any(entry.startswith("GET /web/assets/app.css") for entry in ours)
    outside = [entry for entry in ours if not entry.split(" ", 1)[1].startswith(("/web/", "/oauth/"))]
    assert not outside, outside
    assert not failed, failed
    assert not problems, problems
