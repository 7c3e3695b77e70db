"""The chat against a local server speaking the OpenAI Chat Completions protocol (scripted tool
calls) and the Notion sandbox: writes happen only for valid calls and are confirmed in the answer;
malformed arguments, unknown tools, bad values and ambiguous tasks get a clear error and no write."""

from __future__ import annotations

import json

import pytest

from shared.agent.workload import get_task
from shared.llm.openai_compat import OpenAICompatLLM
from tests.shared.agent.openai_server import ScriptedOpenAI, text, tool_calls


@pytest.fixture
def openai():
    servers = []

    def start(*script):
        server = ScriptedOpenAI(*script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def llm_for(server: ScriptedOpenAI) -> OpenAICompatLLM:
    return OpenAICompatLLM(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-test-key")


def error_of(tool_message: dict) -> str:
    return json.loads(tool_message["content"])["error"]


async def test_malformed_tool_arguments_get_a_clear_error_and_no_write(world, openai):
    server = openai(tool_calls(("create_task", '{"title": "Buy milk", "due": ')),
                    text("Sorry, I could not create it."))
    reply = await world.chat(llm_for(server)).chat(tenant_id=world.tenant_id, message="add buy milk tomorrow")
    assert world.writes() == [] and reply.writes == []
    [tool_message] = server.tool_messages(1)
    assert tool_message["tool_call_id"] == "call_1"
    assert "could not be read" in error_of(tool_message) and "nothing was done" in error_of(tool_message)
    # The broken call is replayed with empty arguments (providers reject unparsable history).
    assistant = [m for m in server.requests[1]["messages"] if m["role"] == "assistant"][-1]
    assert assistant["tool_calls"][0]["function"]["arguments"] == "{}"
    assert reply.answer == "Sorry, I could not create it." and "Saved in Notion" not in reply.answer


async def test_an_unknown_tool_gets_a_clear_error_and_no_write(world, openai):
    server = openai(tool_calls(("delete_all_tasks", {"confirm": True})), text("I can't do that."))
    reply = await world.chat(llm_for(server)).chat(tenant_id=world.tenant_id, message="delete everything")
    assert world.writes() == [] and reply.writes == []
    message = error_of(server.tool_messages(1)[0])
    assert "no tool called 'delete_all_tasks'" in message and "update_task" in message


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"task": "Renew passport", "priority": "super"}, "The argument 'priority' is invalid"),
        ({"task": "Renew passport", "estimate_minutes": 0}, "The argument 'estimate_minutes' is invalid"),
        ({"task": "Renew passport", "colour": "red"}, "The argument 'colour' is not one this tool takes"),
        ({"priority": "high"}, "The argument 'task' is required"),
        ({"task": "Renew passport"}, "Say what to change"),
        ({"task": "Renew passport", "due": "next Friday"}, "'due' must be YYYY-MM-DD"),
        ({"task": "Renew passport", "scheduled_start": "2026-03-31"}, "needs a time of day"),
        ({"task": "Renew pasport", "priority": "high"},
         "No task is called “Renew pasport”. Did you mean “Renew passport”"),
        ({"task": "re", "priority": "high"}, "matches several tasks"),
    ],
)
async def test_invalid_calls_are_refused_before_anything_is_written(world, openai, arguments, expected):
    server = openai(tool_calls(("update_task", arguments)), text("I could not do that."))
    reply = await world.chat(llm_for(server)).chat(tenant_id=world.tenant_id, message="change it")
    assert world.writes() == [] and reply.writes == []
    assert expected in error_of(server.tool_messages(1)[0])


async def test_a_multi_step_request_writes_to_notion_and_confirms_every_write(world, openai):
    passport = world.task_page("Renew passport")["id"]
    server = openai(
        tool_calls(("search_tasks", {"query": "passport"})),
        tool_calls(("update_task", {"task": passport, "due": "2026-04-03", "priority": "high"}),
                   ("create_task", {"title": "Book photo booth", "due": "2026-04-01", "estimate_minutes": 20})),
        text("Done: the passport renewal is due Friday and I added the photo booth."),
    )
    reply = await world.chat(llm_for(server)).chat(tenant_id=world.tenant_id, message="passport by Friday, high",
                                                   request_id="req-1")
    # What the model saw of the search.
    found = json.loads(server.tool_messages(1)[0]["content"])
    assert [t["title"] for t in found["tasks"]] == ["Renew passport"]
    # Two writes reached Notion: the update and the creation.
    assert [method for method, _ in world.writes()] == ["PATCH", "POST"]
    page = world.task_page("Renew passport")["properties"]
    assert page["Due"]["date"]["start"] == "2026-04-03" and page["Priority"]["select"]["name"] == "High"
    created = world.task_page("Book photo booth")["properties"]
    assert created["Due"]["date"]["start"] == "2026-04-01" and created["Estimate"]["number"] == 20
    # Both confirmed in the answer, after the model's text.
    assert reply.answer == (
        "Done: the passport renewal is due Friday and I added the photo booth.\n\nSaved in Notion:\n"
        "- Updated “Renew passport” in Notion: due Fri 3 Apr 2026, priority high.\n"
        "- Created “Book photo booth” in Notion, due Wed 1 Apr 2026.")
    assert [w.action for w in reply.writes] == ["updated", "created"]
    # The store's copy follows at once; the key never reached anything but the Authorization header.
    assert get_task(world.store, passport, tenant_id=world.tenant_id).due.isoformat() == "2026-04-03"
    assert set(server.authorizations) == {"Bearer sk-test-key"}
    # Each model call was metered with the provider's token counts.
    daily = world.store.get(f"usage_daily/{world.clock().date()}", tenant_id=world.tenant_id)
    assert daily["count_llm_call"] == 3 and daily["tokens_in_llm_call"] == 150 + 150 + 200
    assert daily["count_chat"] == 1


async def test_the_step_bound_stops_a_model_that_never_answers(world, openai):
    server = openai(tool_calls(("show_plan", {})))
    reply = await world.chat(llm_for(server), max_steps=3).chat(tenant_id=world.tenant_id, message="plan?")
    assert (reply.steps, reply.finished, len(server.requests)) == (3, False, 3)
    assert reply.answer.startswith("I stopped after 3 steps")


async def test_history_is_sent_back_and_kept_per_conversation(world, openai):
    server = openai(text("Hello! How can I help?"), text("You asked me to say hello."))
    chat = world.chat(llm_for(server))
    await chat.chat(tenant_id=world.tenant_id, message="hello", conversation_id="kitchen")
    await chat.chat(tenant_id=world.tenant_id, message="what did I ask?", conversation_id="kitchen")
    second = [(m["role"], m["content"]) for m in server.requests[1]["messages"] if m["role"] != "system"]
    assert second == [("user", "hello"), ("assistant", "Hello! How can I help?"), ("user", "what did I ask?")]
    stored = world.store.get("conversations/kitchen", tenant_id=world.tenant_id)
    assert [t["role"] for t in stored["history"]] == ["user", "assistant", "user", "assistant"]
    system = server.requests[0]["messages"][0]
    assert system["role"] == "system" and "Monday 2026-03-30 07:30 (Europe/Paris, UTC+0200)" in system["content"]
