"""A new user, in Chromium, against the local stack and the sandbox Notion: signs in with Notion
(the sandbox's consent page), completes onboarding with databases created from the templates, sees
today's plan, sends a chat message (answered by the offline LLM adapter), and opens the usage page
with its charts. A screenshot is saved at each step (test-artifacts/browser/). The page must load
nothing from outside the machine and trip no Content-Security-Policy rule."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import httpx
import pytest

pytestmark = pytest.mark.browser

EXAMPLE_TITLES = ("Try the planner: mark this task done in Notion", "Write the project update", "Inbox zero",
                  "Stretch break", "Review last week's notes", "Book a dentist appointment")


def new_workspace(notion: str) -> tuple[str, str]:
    """A fresh sandbox workspace (a new user) holding one empty page; returns (id, name)."""
    made = httpx.post(f"{notion}/__sandbox__/workspaces", json={"name": "Browser Test Co", "seed": False}, timeout=10)
    made.raise_for_status()
    workspace = made.json()["workspace_id"]
    page = httpx.post(f"{notion}/__sandbox__/workspaces/{workspace}/pages", timeout=10, json={
        "parent": {"type": "workspace", "workspace": True},
        "properties": {"title": [{"type": "text", "text": {"content": "My planner"}}]},
    })
    page.raise_for_status()
    return workspace, "Browser Test Co"


def test_new_user_signs_in_onboards_sees_the_plan_chats_and_reads_usage(browser, stack, shots):
    web = stack.urls["web"]
    workspace, name = new_workspace(stack.notion)
    context = browser.new_context(timezone_id="Europe/Paris", locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    hosts: set[str] = set()
    problems: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    # Errors on the dashboard's pages (the sandbox's consent page answers its favicon request with
    # Notion's 400, as api.notion.com would; that is not ours).
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and page.url.startswith(web) else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)

    # 1. Landing → sign in with Notion → the sandbox's consent page.
    page.goto(web + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your day, planned in Notion"
    shots(page, "landing")
    page.click("#sign-in")
    page.wait_for_selector("#allow")
    page.select_option("#workspace", workspace)
    shots(page, "notion-consent")
    page.click("#allow")

    # 2. Onboarding: connected (a new tenant lands on /onboarding).
    page.wait_for_url(web + "/onboarding")
    assert name in page.inner_text("main")
    shots(page, "onboarding-connected")
    page.click("#continue")

    # 3. Databases created from the templates under the user's page, with examples.
    page.wait_for_url(web + "/onboarding/sources")
    assert page.locator("#parent_page_id option", has_text="My planner").count() == 1
    page.select_option("#parent_page_id", label="My planner")
    assert page.is_checked("#examples")
    shots(page, "onboarding-sources")
    page.click("#create-databases")

    # 4. Schedule: the browser's time zone was detected by the page's script.
    page.wait_for_url(web + "/onboarding/schedule")
    assert page.input_value("#timezone") == "Europe/Paris"
    page.fill("#planning_time", "07:30")
    page.fill("#work_start", "00:00")
    page.fill("#work_end", "23:59")
    for day in range(1, 8):
        page.check(f"#day-{day}")
    shots(page, "onboarding-schedule")
    page.click("#save-schedule")

    # 5. Preview of today's plan, then finish.
    page.wait_for_url(web + "/onboarding/preview")
    preview = page.inner_text("#plan")
    assert any(title in preview for title in EXAMPLE_TITLES), preview
    shots(page, "onboarding-preview")
    page.click("#finish")

    # 6. Today's plan.
    page.wait_for_url(re.compile(re.escape(web) + r"/app(\?.*)?$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Today"
    plan = page.locator("#plan")
    assert plan.is_visible()
    text = plan.inner_text()
    assert any(title in text for title in EXAMPLE_TITLES), text
    shots(page, "today")

    # 7. Chat: sent through fetch (no page load), answered by the offline adapter.
    page.click("nav >> text=Chat")
    page.wait_for_url(web + "/chat")
    page.fill("#message", "What's next?")
    page.click("#send")
    answer = page.locator(".turn.assistant").last
    answer.wait_for()
    assert answer.inner_text().strip() and page.url == web + "/chat"
    assert page.locator(".turn.user").last.inner_text().endswith("What's next?")
    shots(page, "chat")
    page.reload()  # the conversation was stored, not just drawn
    assert page.locator(".turn.assistant").count() >= 1

    # 8. Usage with its charts (inline SVG drawn by the server).
    page.click("nav >> text=Usage")
    page.wait_for_url(web + "/usage")
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 3
    assert charts.first.is_visible() and charts.first.bounding_box()["height"] > 100
    assert page.locator("#tokens-chart rect").count() >= 1 or page.locator("#tokens-chart line").count() > 1
    shots(page, "usage")

    context.close()
    assert hosts == {"127.0.0.1"}, f"the pages contacted {hosts}"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not failed, failed
    assert not problems, problems
