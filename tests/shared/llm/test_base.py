"""The port's value types: validation that names the field, tool results, the context."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from shared.llm.base import LLM, LLMContext, Message, ToolCall, ToolSpec, Usage, tool_error_result
from shared.llm.errors import InvalidLLMRequest
from shared.llm.metered import MeteredLLM
from shared.llm.offline import OfflineLLM
from shared.llm.openai_compat import OpenAICompatLLM
from shared.llm.pricing import PriceTable


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: ToolSpec("bad name!", "x"), "tools.name"),
        (lambda: ToolSpec("x" * 65, "x"), "tools.name"),
        (lambda: ToolSpec("ok", "x", {"type": "array"}), "tools.parameters"),
        (lambda: Message(role="robot", content="hi"), "messages.role"),
        (lambda: Message(role="user", content=5), "messages.content"),
        (lambda: Message(role="user", content="hi", tool_calls=(ToolCall(id="1", name="a"),)), "messages.tool_calls"),
        (lambda: Message(role="tool", content="{}"), "messages.tool_call_id"),
        (lambda: LLMContext(now=datetime(2026, 1, 1)), "context.now"),
        (lambda: LLMContext(now=datetime(2026, 1, 1, tzinfo=timezone.utc), timezone="Mars/Olympus"), "context.timezone"),
        (lambda: LLMContext(now=datetime(2026, 1, 1, tzinfo=timezone.utc), timezone="../etc/passwd"), "context.timezone"),
    ],
)
def test_invalid_values_name_the_field(make, field):
    with pytest.raises(InvalidLLMRequest) as caught:
        make()

    assert caught.value.field == field and caught.value.status == 400


def test_tool_result_serialises_structures_as_json():
    call = ToolCall(id="call_1", name="show_plan", arguments={"date": "2026-12-01"})

    text = Message.tool_result(call, "plain")
    structured = Message.tool_result("call_1", {"blocks": [], "date": "2026-12-01", "when": datetime(2026, 12, 1)})

    assert (text.role, text.tool_call_id, text.content) == ("tool", "call_1", "plain")
    assert json.loads(structured.content)["when"] == "2026-12-01 00:00:00"


def test_tool_calls_copy_their_arguments_and_fill_raw_arguments():
    arguments = {"title": "Dentist"}
    call = ToolCall(id="c", name="complete_task", arguments=arguments)
    arguments["title"] = "changed"

    assert call.arguments == {"title": "Dentist"} and call.ok
    assert json.loads(call.raw_arguments) == {"title": "Dentist"}


def test_error_result_explains_the_calls_error_or_a_given_reason():
    broken = ToolCall(id="c1", name="create_task", raw_arguments="{", error="not JSON")
    unknown = ToolCall(id="c2", name="delete_everything")

    assert json.loads(tool_error_result(broken).content) == {"error": "not JSON"}
    assert json.loads(tool_error_result(unknown, "Unknown tool delete_everything.").content) == {
        "error": "Unknown tool delete_everything."
    }


def test_context_local_now_is_on_the_users_clock():
    context = LLMContext(now=datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc), timezone="Asia/Tokyo")

    assert context.local_now.isoformat() == "2026-12-02T08:30:00+09:00"


def test_usage_total_and_no_negative_counts():
    assert Usage(3, 4).total == 7
    with pytest.raises(ValueError):
        Usage(-1, 0)


def test_every_adapter_satisfies_the_port():
    offline = OfflineLLM()
    remote = OpenAICompatLLM(base_url="https://api.openai.com/v1", model="gpt-4o-mini")
    metered = MeteredLLM(offline, quota=object(), pricing=PriceTable())  # type: ignore[arg-type]

    assert all(isinstance(llm, LLM) for llm in (offline, remote, metered))
