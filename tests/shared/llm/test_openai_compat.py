"""The OpenAI-compatible adapter at the HTTP transport, with the providers' real payload shapes."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

import httpx
import pytest

from shared.ids import InvalidTenantId
from shared.llm.base import Message, ToolCall, tool_error_result
from shared.llm.errors import (
    InvalidLLMRequest,
    LLMAuthError,
    LLMBadResponse,
    LLMRateLimited,
    LLMRequestRejected,
    LLMUnavailable,
)
from shared.llm.openai_compat import OpenAICompatLLM
from tests.shared.llm.conftest import TENANT
from tests.shared.llm.support import AGENT_TOOLS, Script, error, ok

API_KEY = "sk-test-SECRET-0123456789abcdef"
PROMPT = "move the secret-dentist-appointment to Friday"


def make_llm(script: Script, sleep, **kwargs) -> OpenAICompatLLM:
    client = httpx.AsyncClient(transport=httpx.MockTransport(script))
    options = dict(
        base_url="https://api.openai.example/v1/",
        model="gpt-4o-mini",
        api_key=API_KEY,
        http_client=client,
        sleep=sleep,
        jitter=lambda: 1.0,
    )
    options.update(kwargs)
    return OpenAICompatLLM(**options)


def conversation() -> list[Message]:
    return [Message.system("You are a planning assistant."), Message.user(PROMPT)]


async def test_request_carries_model_messages_tools_and_bearer_key(sleep, context):
    script = Script(ok("openai_tool_calls.json"))
    llm = make_llm(script, sleep)

    await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context, max_tokens=300)

    request = script.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.openai.example/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = json.loads(request.content)
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 300
    assert body["tool_choice"] == "auto"
    assert body["messages"] == [
        {"role": "system", "content": "You are a planning assistant."},
        {"role": "user", "content": PROMPT},
    ]
    assert [tool["type"] for tool in body["tools"]] == ["function"] * len(AGENT_TOOLS)
    first = body["tools"][0]["function"]
    assert first["name"] == "search_tasks"
    assert first["parameters"]["properties"]["query"] == {"type": "string"}


async def test_no_tools_sends_neither_tools_nor_tool_choice_and_no_key_no_header(sleep, context):
    script = Script(ok("openai_text.json"))
    llm = make_llm(script, sleep, api_key="")

    await llm.complete(conversation(), (), tenant_id=TENANT, context=context)

    body = script.bodies()[0]
    assert "tools" not in body and "tool_choice" not in body
    assert body["max_tokens"] == llm.max_tokens
    assert "authorization" not in script.requests[0].headers


async def test_openai_tool_calls_are_parsed_with_usage(sleep, context):
    llm = make_llm(Script(ok("openai_tool_calls.json")), sleep)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.finish_reason == "tool_calls"
    assert completion.content == ""
    assert [(c.id, c.name, c.arguments) for c in completion.tool_calls] == [
        ("call_qOfTGgDrItLORNfC6VwUbyLL", "update_task", {"title": "Dentist", "due": "2026-12-04"}),
        ("call_w5fIfIJJsqfuvM4dqoQY1TrL", "show_plan", {}),
    ]
    assert all(call.ok for call in completion.tool_calls)
    assert (completion.usage.tokens_in, completion.usage.tokens_out, completion.usage.estimated) == (291, 46, False)
    assert completion.model == "gpt-4o-mini-2024-07-18"
    assert completion.response_id == "chatcmpl-BcQ8ko2nz9B7CRvV0uVbcowidHpQU"


async def test_openai_text_answer(sleep, context):
    llm = make_llm(Script(ok("openai_text.json")), sleep)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.finish_reason == "stop"
    assert completion.tool_calls == ()
    assert completion.content == "Moved “Dentist” to Friday 4 December."
    assert completion.usage.total == 366


async def test_gemini_empty_ids_and_stop_with_tool_calls_are_normalised(sleep, context):
    llm = make_llm(Script(ok("gemini_tool_call.json")), sleep, model="gemini-2.0-flash")

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    (call,) = completion.tool_calls
    assert call.name == "search_tasks" and call.arguments == {"query": "dentist"}
    assert call.id.startswith("call_") and len(call.id) > len("call_")
    assert completion.finish_reason == "tool_calls"  # Gemini said "stop"
    assert completion.response_id == ""
    assert (completion.usage.tokens_in, completion.usage.tokens_out) == (50, 6)


async def test_synthesised_ids_are_stable_for_the_same_response(sleep, context):
    script = Script(ok("gemini_tool_call.json"), ok("gemini_tool_call.json"))
    llm = make_llm(script, sleep)

    first = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)
    second = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert first.tool_calls[0].id == second.tool_calls[0].id


async def test_gemini3_thought_signature_is_sent_back_with_its_call(sleep, context):
    script = Script(ok("gemini3_thought_signature.json"), ok("openai_text.json"))
    llm = make_llm(script, sleep, model="gemini-3-flash-preview")

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)
    (call,) = completion.tool_calls
    assert call.extra["extra_content"]["google"]["thought_signature"].startswith("CiQB")

    follow_up = [*conversation(), completion.message, Message.tool_result(call, {"task": {"title": "Dentist"}})]
    await llm.complete(follow_up, AGENT_TOOLS, tenant_id=TENANT, context=context)

    sent = script.bodies()[1]["messages"]
    assistant = sent[2]
    assert assistant["role"] == "assistant" and assistant["content"] is None
    (wire_call,) = assistant["tool_calls"]
    assert wire_call["id"] == "function-call-12034817369283641097"
    assert wire_call["extra_content"] == call.extra["extra_content"]
    assert json.loads(wire_call["function"]["arguments"])["title"] == "Dentist"
    assert sent[3] == {
        "role": "tool",
        "tool_call_id": "function-call-12034817369283641097",
        "content": json.dumps({"task": {"title": "Dentist"}}),
    }


async def test_ollama_response_with_empty_content(sleep, context):
    llm = make_llm(Script(ok("ollama_tool_call.json")), sleep, base_url="http://127.0.0.1:11434/v1", api_key="")

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    (call,) = completion.tool_calls
    assert (call.id, call.name, call.arguments) == ("call_h3tdl2ew", "complete_task", {"title": "Buy milk"})
    assert completion.message.content is None  # "" means no text
    assert completion.model == "llama3.1:8b"
    assert completion.usage == completion.usage.__class__(214, 19, estimated=False)


async def test_vllm_response(sleep, context):
    llm = make_llm(Script(ok("vllm_tool_call.json")), sleep, model="Qwen/Qwen2.5-7B-Instruct")

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    (call,) = completion.tool_calls
    assert call.id == "chatcmpl-tool-26a54d122aa141b8868476c33250ab67"
    assert call.arguments == {"title": "Buy milk", "due": "2026-12-02", "priority": "high", "estimate_minutes": 30}
    assert (completion.usage.tokens_in, completion.usage.tokens_out) == (388, 38)


async def test_missing_usage_is_estimated_and_marked(sleep, context):
    llm = make_llm(Script(ok("no_usage_text.json")), sleep)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.usage.estimated is True
    assert completion.usage.tokens_in > 0
    # 4 characters per token over the 74-character answer, rounded up.
    assert completion.usage.tokens_out == -(-len(completion.content) // 4)
    assert completion.tool_calls == ()


async def test_malformed_arguments_become_error_calls_not_exceptions(sleep, context):
    script = Script(ok("openai_malformed_arguments.json"), ok("openai_text.json"))
    llm = make_llm(script, sleep)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    truncated, not_object = completion.tool_calls
    assert not truncated.ok and truncated.arguments == {}
    assert "not valid JSON" in truncated.error and truncated.name == "create_task"
    assert truncated.raw_arguments.startswith('{"title": "Write report"')
    assert not not_object.ok and "must be a JSON object" in not_object.error

    # The agent answers them with error results; replaying the history stays valid JSON everywhere.
    results = [tool_error_result(call) for call in completion.tool_calls]
    assert json.loads(results[0].content)["error"] == truncated.error
    await llm.complete([*conversation(), completion.message, *results], AGENT_TOOLS, tenant_id=TENANT, context=context)
    replayed = script.bodies()[1]["messages"][2]["tool_calls"]
    assert [c["function"]["arguments"] for c in replayed] == ["{}", "{}"]


@pytest.mark.parametrize(
    "raw_call, expected_error",
    [
        ({"id": "c1", "type": "function", "function": {"name": "show_plan", "arguments": ""}}, None),
        ({"id": "c1", "type": "function", "function": {"name": "show_plan", "arguments": {"date": "2026-12-01"}}}, None),
        ({"id": "c1", "type": "function", "function": {"name": "", "arguments": "{}"}}, "no function name"),
        ({"id": "c1", "type": "function", "function": {"name": "show_plan", "arguments": 7}}, "JSON object"),
        ({"id": "c1", "type": "function"}, "no function"),
        ("garbage", "no function"),
    ],
)
async def test_odd_tool_calls_never_crash(sleep, context, raw_call, expected_error):
    body = {"id": "x", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": [raw_call]}, "finish_reason": "tool_calls"}]}
    llm = make_llm(Script(httpx.Response(200, json=body)), sleep)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    (call,) = completion.tool_calls
    if expected_error is None:
        assert call.ok and isinstance(call.arguments, dict)
        assert json.loads(call.raw_arguments) == call.arguments
    else:
        assert expected_error in call.error and call.arguments == {}


async def test_content_parts_and_refusal(sleep, context):
    parts = {"choices": [{"message": {"role": "assistant", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]}, "finish_reason": "stop"}]}
    refusal = {"choices": [{"message": {"role": "assistant", "content": None, "refusal": "I can't help with that."}, "finish_reason": "stop"}]}
    llm = make_llm(Script(httpx.Response(200, json=parts), httpx.Response(200, json=refusal)), sleep)

    first = await llm.complete(conversation(), (), tenant_id=TENANT, context=context)
    second = await llm.complete(conversation(), (), tenant_id=TENANT, context=context)

    assert first.content == "Hello there" and first.model == "gpt-4o-mini"
    assert second.content == "I can't help with that."


@pytest.mark.parametrize("reason, expected", [("length", "length"), ("content_filter", "content_filter"), ("weird", "other"), (None, "stop")])
async def test_finish_reasons(sleep, context, reason, expected):
    body = {"choices": [{"message": {"role": "assistant", "content": "x"}, "finish_reason": reason}]}
    llm = make_llm(Script(httpx.Response(200, json=body)), sleep)

    completion = await llm.complete(conversation(), (), tenant_id=TENANT, context=context)

    assert completion.finish_reason == expected


# --- retries ----------------------------------------------------------------------------------------


async def test_429_then_success_honours_retry_after(sleep, context):
    script = Script(error(429, "openai_error_429.json", **{"retry-after": "7"}), ok("openai_text.json"))
    llm = make_llm(script, sleep)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.content.startswith("Moved")
    assert sleep.delays == [7.0]
    assert len(script.requests) == 2


async def test_retry_after_ms_wins_and_http_date_is_understood(sleep, context):
    now = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    script = Script(
        error(429, "openai_error_429.json", **{"retry-after-ms": "1500", "retry-after": "2"}),
        error(503, "openai_error_500.json", **{"retry-after": "Tue, 01 Dec 2026 09:30:04 GMT"}),
        ok("openai_text.json"),
    )
    llm = make_llm(script, sleep, clock=lambda: now)

    await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert sleep.delays == [1.5, 4.0]


async def test_5xx_and_timeouts_back_off_exponentially_then_succeed(sleep, context):
    script = Script(
        error(500, "openai_error_500.json"),
        httpx.ReadTimeout("slow"),
        error(529),  # Anthropic's "overloaded"
        error(408),
        ok("openai_text.json"),
    )
    llm = make_llm(script, sleep, backoff_base=0.5, max_attempts=5)

    completion = await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.finish_reason == "stop"
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0]  # jitter pinned to its maximum


async def test_backoff_jitter_keeps_at_least_half_the_step(sleep, context):
    script = Script(error(502), error(502), ok("openai_text.json"))
    llm = make_llm(script, sleep, backoff_base=1.0, jitter=lambda: 0.0)

    await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert sleep.delays == [0.5, 1.0]


async def test_rate_limited_after_the_last_attempt(sleep, context):
    script = Script(*(error(429, "openai_error_429.json", **{"retry-after": "3"}) for _ in range(3)))
    llm = make_llm(script, sleep, max_attempts=3)

    with pytest.raises(LLMRateLimited) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert len(script.requests) == 3 and sleep.delays == [3.0, 3.0]
    assert caught.value.retry_after == 3 and caught.value.status == 503
    assert caught.value.provider_code == "rate_limit_exceeded"


async def test_a_retry_after_beyond_the_cap_is_not_waited_out(sleep, context):
    script = Script(error(429, "openai_error_429.json", **{"retry-after": "120"}))
    llm = make_llm(script, sleep, max_retry_wait=30)

    with pytest.raises(LLMRateLimited) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert sleep.delays == [] and caught.value.retry_after == 120
    assert caught.value.headers() == {"Retry-After": "120"}


async def test_unavailable_after_repeated_network_errors(sleep, context):
    script = Script(httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    llm = make_llm(script, sleep, max_attempts=2)

    with pytest.raises(LLMUnavailable) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.provider_code == "network_error" and len(sleep.delays) == 1


async def test_timeout_after_the_last_attempt_is_unavailable(sleep, context):
    llm = make_llm(Script(httpx.ReadTimeout("slow")), sleep, max_attempts=1)

    with pytest.raises(LLMUnavailable) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.provider_code == "timeout" and "in time" in caught.value.message


# --- errors that are not retried ---------------------------------------------------------------------


async def test_401_is_an_auth_error_without_key_or_prompt(sleep, context, caplog):
    script = Script(error(401, "openai_error_401.json", **{"x-request-id": "req_abc123"}))
    llm = make_llm(script, sleep)

    with caplog.at_level(logging.DEBUG), pytest.raises(LLMAuthError) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    err = caught.value
    assert len(script.requests) == 1 and sleep.delays == []
    assert (err.status, err.code, err.provider_status, err.provider_code) == (502, "llm_auth_error", 401, "invalid_api_key")
    assert err.provider_request_id == "req_abc123"
    exposed = " ".join([str(err), repr(err), repr(vars(err)), caplog.text, repr(llm)])
    for secret in (API_KEY, "sk-proj", "abcd.", PROMPT, "secret-dentist"):
        assert secret not in exposed


async def test_gemini_invalid_key_400_is_an_auth_error(sleep, context):
    llm = make_llm(Script(error(400, "gemini_error_api_key_invalid.json")), sleep)

    with pytest.raises(LLMAuthError) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.provider_code == "INVALID_ARGUMENT"
    assert "API key not valid" not in str(caught.value)


async def test_insufficient_quota_is_not_retried(sleep, context):
    script = Script(error(429, "openai_error_insufficient_quota.json"))
    llm = make_llm(script, sleep)

    with pytest.raises(LLMUnavailable) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.code == "llm_quota_exhausted" and len(script.requests) == 1


async def test_context_length_400_is_a_rejected_request_without_the_provider_text(sleep, context):
    llm = make_llm(Script(error(400, "openai_error_context_length.json")), sleep)

    with pytest.raises(LLMRequestRejected) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.provider_code == "context_length_exceeded"
    assert "128000" not in str(caught.value)


async def test_non_json_error_body_still_maps(sleep, context):
    llm = make_llm(Script(error(404)), sleep)

    with pytest.raises(LLMRequestRejected) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.provider_status == 404 and caught.value.provider_code is None


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json=[1, 2]),
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json={"choices": [{"finish_reason": "stop"}]}),
        httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "tool_calls": {"a": 1}}}]}),
    ],
)
async def test_unusable_2xx_bodies_are_bad_responses(sleep, context, response):
    llm = make_llm(Script(response), sleep)

    with pytest.raises(LLMBadResponse) as caught:
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.status == 502


# --- validation and construction --------------------------------------------------------------------


async def test_invalid_requests_never_reach_the_network(sleep, context):
    script = Script()
    llm = make_llm(script, sleep)

    with pytest.raises(InvalidLLMRequest) as caught:
        await llm.complete([], AGENT_TOOLS, tenant_id=TENANT, context=context)
    assert caught.value.field == "messages"
    with pytest.raises(InvalidLLMRequest):
        await llm.complete(conversation(), [*AGENT_TOOLS, AGENT_TOOLS[0]], tenant_id=TENANT, context=context)
    with pytest.raises(InvalidLLMRequest):
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id=TENANT, context=context, max_tokens=0)
    with pytest.raises(InvalidTenantId):
        await llm.complete(conversation(), AGENT_TOOLS, tenant_id="../other", context=context)
    assert script.requests == []


def test_constructor_refuses_bad_configuration():
    with pytest.raises(ValueError):
        OpenAICompatLLM(base_url="ftp://x", model="m")
    with pytest.raises(ValueError):
        OpenAICompatLLM(base_url="https://x", model="")
    with pytest.raises(ValueError):
        OpenAICompatLLM(base_url="https://x", model="m", max_attempts=0)


async def test_without_an_injected_client_each_call_opens_its_own(monkeypatch, context):
    # A per-call client is what lets the agent's separate asyncio.run() calls share one adapter.
    script = Script(ok("openai_text.json"), ok("openai_text.json"))
    real = httpx.AsyncClient
    opened: list[httpx.AsyncClient] = []

    def client_factory(**kwargs):
        client = real(transport=httpx.MockTransport(script), **kwargs)
        opened.append(client)
        return client

    monkeypatch.setattr(httpx, "AsyncClient", client_factory)  # the third-party class, not our code
    llm = OpenAICompatLLM(base_url="https://api.openai.example/v1", model="gpt-4o-mini", api_key=API_KEY)

    await llm.complete(conversation(), (), tenant_id=TENANT, context=context)
    await llm.complete(conversation(), (), tenant_id=TENANT, context=context)

    assert len(opened) == 2 and all(client.is_closed for client in opened)


def test_tool_call_error_result_shape():
    call = ToolCall(id="c9", name="create_task", raw_arguments="{", error="bad JSON")
    message = tool_error_result(call)
    assert (message.role, message.tool_call_id, json.loads(message.content)) == ("tool", "c9", {"error": "bad JSON"})
