"""The offline adapter end to end: each documented request, its tool call, then its confirmation."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from shared.llm.base import LLMContext, Message, ToolSpec, Usage
from shared.llm.offline import OfflineLLM
from tests.shared.llm.conftest import TENANT
from tests.shared.llm.support import AGENT_TOOLS

# context: Tuesday 1 December 2026, 10:30 in Paris.


async def ask(text: str, context: LLMContext, tools=AGENT_TOOLS):
    llm = OfflineLLM()
    messages = [Message.system("You are a planning assistant."), Message.user(text)]
    return llm, messages, await llm.complete(messages, tools, tenant_id=TENANT, context=context)


async def answer(llm, messages, completion, results, context, tools=AGENT_TOOLS):
    follow = [*messages, completion.message]
    follow += [Message.tool_result(call, result) for call, result in zip(completion.tool_calls, results)]
    return await llm.complete(follow, tools, tenant_id=TENANT, context=context)


@pytest.mark.parametrize(
    "text, tool, arguments, result, confirmation",
    [
        (
            'create "Write report" due Friday',
            "create_task",
            {"title": "Write report", "due": "2026-12-04"},
            {"task": {"id": "p1", "title": "Write report", "due": "2026-12-04"}},
            "Created “Write report”, due Fri 4 Dec 2026.",
        ),
        (
            "add task buy milk tomorrow high priority 30 min",
            "create_task",
            {"title": "buy milk", "due": "2026-12-02", "priority": "high", "estimate_minutes": 30},
            {"task": {"id": "p2", "title": "Buy milk", "due": "2026-12-02"}},
            "Created “Buy milk”, due Wed 2 Dec 2026.",
        ),
        (
            "move the dentist task to Friday",
            "update_task",
            {"title": "dentist", "due": "2026-12-04"},
            {"task": {"id": "p3", "title": "Dentist", "due": "2026-12-04"}},
            "Moved “Dentist” to Fri 4 Dec 2026.",
        ),
        (
            "move Dentist to tomorrow 3pm",
            "update_task",
            {"title": "Dentist", "scheduled_start": "2026-12-02T15:00:00+01:00"},
            {"task": {"id": "p3", "title": "Dentist", "scheduled_start": "2026-12-02T14:00:00Z"}},
            "Moved “Dentist” to Wed 2 Dec 2026, 15:00.",
        ),
        (
            "complete Write report",
            "complete_task",
            {"title": "Write report"},
            {"task": {"id": "p1", "title": "Write report", "status": "done"}},
            "Marked “Write report” as done.",
        ),
        (
            "mark buy milk done",
            "complete_task",
            {"title": "buy milk"},
            {"title": "Buy milk", "status": "done"},
            "Marked “Buy milk” as done.",
        ),
        (
            "what's my plan today",
            "show_plan",
            {"date": "2026-12-01"},
            {
                "date": "2026-12-01",
                "blocks": [
                    {"start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T10:30:00+01:00", "title": "Write report"},
                    {"start": "2026-12-01T13:00:00Z", "end": "2026-12-01T13:30:00Z", "title": "Buy milk"},
                ],
                "left_out": [{"title": "Taxes", "reason": "no time left before 18:00"}],
            },
            "Your plan for Tue 1 Dec 2026:\n- 09:00–10:30 Write report\n- 14:00–14:30 Buy milk\n"
            "Not planned:\n- Taxes (no time left before 18:00)",
        ),
        ("replan", "replan_day", {}, {"summary": "Replanned: 4 blocks from 10:30 to 17:00."}, "Replanned: 4 blocks from 10:30 to 17:00."),
        (
            "replan my day",
            "replan_day",
            {},
            {"date": "2026-12-01", "blocks": [{"start": "2026-12-01T11:00:00+01:00", "end": "2026-12-01T12:00:00+01:00", "title": "Taxes"}]},
            "Replanned your day for Tue 1 Dec 2026:\n- 11:00–12:00 Taxes",
        ),
        (
            "find dentist",
            "search_tasks",
            {"query": "dentist"},
            {"tasks": [{"id": "p3", "title": "Dentist", "due": "2026-12-04"}]},
            "Found 1 task: “Dentist” (due Fri 4 Dec 2026).",
        ),
    ],
)
async def test_documented_requests(context, text, tool, arguments, result, confirmation):
    llm, messages, completion = await ask(text, context)

    assert completion.finish_reason == "tool_calls"
    (call,) = completion.tool_calls
    assert (call.name, call.arguments, call.id) == (tool, arguments, "offline_call_1")
    assert json.loads(call.raw_arguments) == arguments

    final = await answer(llm, messages, completion, [result], context)

    assert final.finish_reason == "stop" and final.tool_calls == ()
    assert final.content == confirmation


async def test_tool_errors_are_reported_not_confirmed(context):
    llm, messages, completion = await ask("move the dentist task to Friday", context)

    final = await answer(llm, messages, completion, [{"error": "No task matches “dentist”."}], context)

    assert final.content == "I couldn't update “dentist”: No task matches “dentist”."


async def test_plain_text_results_are_echoed(context):
    llm, messages, completion = await ask("what's my plan today", context)

    final = await answer(llm, messages, completion, ["Nothing planned yet: connect Notion first."], context)

    assert final.content == "Nothing planned yet: connect Notion first."


async def test_a_missing_tool_result_is_reported(context):
    llm, messages, completion = await ask("complete taxes", context)

    final = await llm.complete([*messages, completion.message], AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert final.content == "I couldn't complete “taxes”: no result came back"


async def test_unknown_requests_get_help_listing_what_works(context):
    _, _, completion = await ask("sing me a song about spreadsheets", context)

    assert completion.finish_reason == "stop" and completion.tool_calls == ()
    text = completion.content
    assert "without a language model" in text
    for example in ('create "Write report" due Friday', "move Dentist to tomorrow 3pm", "what's my plan today", "replan my day", "mark buy milk done"):
        assert example in text


async def test_help_only_lists_offered_tools(context):
    tools = [spec for spec in AGENT_TOOLS if spec.name == "show_plan"]

    _, _, completion = await ask("complete taxes", context, tools=tools)

    assert "that tool is not available" in completion.content
    assert "what's my plan today" in completion.content
    assert "complete" not in completion.content.split("\n", 1)[1]


async def test_move_without_a_time_explains(context):
    _, _, completion = await ask("move dentist to whenever suits", context)

    assert completion.tool_calls == ()
    assert "could not tell when" in completion.content


async def test_arguments_fit_the_offered_schema(context):
    by_id = ToolSpec(
        "complete_task", "Mark done.", {"type": "object", "properties": {"task_id": {"type": "string"}}, "required": ["task_id"]}
    )
    plan_without_date = ToolSpec("show_plan", "Today's plan.", {"type": "object", "properties": {}})

    _, _, done = await ask("complete the taxes task", context, tools=[by_id])
    _, _, plan = await ask("what's my plan tomorrow", context, tools=[plan_without_date])

    assert done.tool_calls[0].arguments == {"task_id": "taxes"}
    assert plan.tool_calls[0].arguments == {}


async def test_relative_dates_use_the_users_timezone(context):
    # 23:30 UTC on Tuesday is already Wednesday in Tokyo: "tomorrow" is Thursday there.
    late = LLMContext(now=datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc), timezone="Asia/Tokyo")
    early = LLMContext(now=datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc), timezone="America/Los_Angeles")

    _, _, tokyo = await ask("add task call mum tomorrow 9am", late)
    _, _, la = await ask("add task call mum tomorrow 9am", early)

    assert tokyo.tool_calls[0].arguments["due"] == "2026-12-03T09:00:00+09:00"
    assert la.tool_calls[0].arguments["due"] == "2026-12-02T09:00:00-08:00"


async def test_call_ids_are_numbered_through_the_conversation(context):
    llm, messages, first = await ask("complete taxes", context)
    history = [*messages, first.message, Message.tool_result(first.tool_calls[0], {"title": "Taxes"})]
    history += [Message.assistant("Marked “Taxes” as done."), Message.user("replan")]

    second = await llm.complete(history, AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert second.tool_calls[0].id == "offline_call_2" and second.tool_calls[0].name == "replan_day"


async def test_the_same_conversation_gives_the_same_answer(context):
    _, _, one = await ask("add task buy milk tomorrow high priority 30 min", context)
    _, _, two = await ask("add task buy milk tomorrow high priority 30 min", context)

    assert one == two


async def test_usage_is_counted_words_and_the_model_is_offline(context):
    llm = OfflineLLM()
    messages = [Message.user("complete the quarterly taxes task")]

    completion = await llm.complete(messages, AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.model == "offline" and completion.provider == "offline"
    # in: the 5 words of the message; out: 'complete_task {"title": "quarterly taxes"}' is 4 words.
    assert completion.usage == Usage(tokens_in=5, tokens_out=4, estimated=True)


async def test_a_conversation_without_a_user_message_gets_help(context):
    completion = await OfflineLLM().complete([Message.system("hello")], AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.tool_calls == () and "understand" in completion.content
