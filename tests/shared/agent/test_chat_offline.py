"""The chat on the offline adapter (no model, no network) against the Notion sandbox: each request
the offline adapter documents does what it says in Notion and confirms it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.agent.plans import load_plan
from shared.llm.offline import OfflineLLM
from tests.shared.agent.support import DAY


async def ask(world, message: str):
    return await world.chat(OfflineLLM()).chat(tenant_id=world.tenant_id, message=message)


def props(world, title):
    return world.task_page(title)["properties"]


async def test_create_a_task_due_friday(world):
    reply = await ask(world, 'create "Write report" due Friday')
    assert props(world, "Write report")["Due"]["date"]["start"] == "2026-04-03"  # the Friday after Mon 30 Mar
    assert world.writes() == [("POST", "/v1/pages")]
    assert "Created “Write report”, due Fri 3 Apr 2026." in reply.answer
    assert reply.answer.endswith("Saved in Notion:\n- Created “Write report” in Notion, due Fri 3 Apr 2026.")


async def test_create_with_priority_and_estimate(world):
    reply = await ask(world, "add task buy milk tomorrow high priority 30 min")
    page = props(world, "buy milk")
    assert (page["Due"]["date"]["start"], page["Priority"]["select"]["name"], page["Estimate"]["number"]) == (
        "2026-03-31", "High", 30)
    assert [w.action for w in reply.writes] == ["created"]


async def test_move_a_task_to_tomorrow_3pm(world):
    reply = await ask(world, "move Renew passport to tomorrow 3pm")
    start = props(world, "Renew passport")["Scheduled"]["date"]["start"]
    assert datetime.fromisoformat(start) == datetime(2026, 3, 31, 13, 0, tzinfo=timezone.utc)  # 15:00 CEST
    assert "Moved “Renew passport” to Tue 31 Mar 2026, 15:00." in reply.answer
    assert "- Updated “Renew passport” in Notion: scheduled Tue 31 Mar 2026, 15:00." in reply.answer


async def test_move_the_dentist_task_to_friday(world):
    reply = await ask(world, "move the dentist task to Friday")
    assert props(world, "Book dentist appointment")["Due"]["date"]["start"] == "2026-04-03"
    assert "Moved “Book dentist appointment” to Fri 3 Apr 2026." in reply.answer


@pytest.mark.parametrize(
    ("message", "title", "check"),
    [
        ("make Weekly grocery order high priority", "Weekly grocery order",
         lambda p: p["Priority"]["select"]["name"] == "High"),
        ("Renew passport will take 45 min", "Renew passport", lambda p: p["Estimate"]["number"] == 45),
        ("mark Renew passport blocked", "Renew passport", lambda p: p["Status"]["select"]["name"] == "Blocked"),
        ("complete Reply to Anna about the offsite", "Reply to Anna about the offsite",
         lambda p: p["Status"]["select"]["name"] == "Done"),
        ("mark Weekly grocery order done", "Weekly grocery order", lambda p: p["Status"]["select"]["name"] == "Done"),
    ],
)
async def test_updates_and_completions(world, message, title, check):
    reply = await ask(world, message)
    assert check(props(world, title)), message
    assert [method for method, _ in world.writes()] == ["PATCH"]
    assert len(reply.writes) == 1 and title in reply.writes[0].confirmation


async def test_whats_my_plan_today_before_and_after_the_daily_plan(world):
    before = await ask(world, "what's my plan today")
    assert "There is no plan for Mon 30 Mar 2026 yet" in before.answer and world.writes() == []
    await world.job().run(tenant_id=world.tenant_id, day=DAY, mode="daily")
    plan = load_plan(world.store, DAY, tenant_id=world.tenant_id)
    writes = world.writes()
    reply = await ask(world, "what's my plan today")
    assert reply.answer.startswith("Your plan for Mon 30 Mar 2026:")
    first = plan.blocks[0]
    assert f"- {first.start:%H:%M}–{first.end:%H:%M} {first.title}" in reply.answer
    assert "Not planned:" in reply.answer and world.writes() == writes and reply.writes == []


async def test_replan_my_day(world):
    world.clock.set(hour=11, minute=0)
    reply = await ask(world, "replan my day")
    plan = load_plan(world.store, DAY, tenant_id=world.tenant_id)
    assert plan.mode == "replan" and plan.reason == "asked in chat" and plan.page_id
    assert all(block.start >= world.clock() for block in plan.blocks)
    assert reply.answer.startswith("Replanned your day for Mon 30 Mar 2026:")
    assert reply.answer.endswith(f"- Replanned Mon 30 Mar 2026: {len(plan.blocks)} blocks; the Daily plan page in "
                                 "Notion is updated.")
    assert len(world.plan_pages()) == 1


async def test_find_a_task(world):
    reply = await ask(world, "find dentist")
    assert reply.answer.startswith("Found 1 task: “Book dentist appointment” (due Mon 6 Apr 2026)")
    assert world.writes() == [] and reply.writes == []


async def test_what_it_does_not_understand_changes_nothing(world):
    reply = await ask(world, "sing me a song")
    assert "I'm running without a language model" in reply.answer and "replan my day" in reply.answer
    assert world.writes() == [] and reply.writes == []


async def test_an_unknown_task_is_reported_not_guessed(world):
    reply = await ask(world, "complete Learn Klingon")
    assert "I couldn't complete “Learn Klingon”: No task is called “Learn Klingon”." in reply.answer
    assert world.writes() == [] and reply.writes == []
