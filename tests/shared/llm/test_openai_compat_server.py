"""The OpenAI-compatible adapter over real sockets, against a scripted local server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from shared.config import Settings
from shared.llm import Message, build_llm
from shared.llm.errors import LLMAuthError
from shared.llm.openai_compat import OpenAICompatLLM
from tests.shared.llm.conftest import TENANT
from tests.shared.llm.fake_openai_server import FakeOpenAIServer
from tests.shared.llm.support import AGENT_TOOLS, fixture


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


def test_the_agent_pattern_two_asyncio_runs_one_adapter(server, context):
    """The agent calls asyncio.run per request; one adapter must serve all of them."""
    server.reply(200, fixture("ollama_tool_call.json"))
    server.reply(200, fixture("openai_text.json"))
    llm = build_llm(Settings(llm_provider="openai", llm_base_url=server.base_url, llm_model="llama3.1:8b"))
    messages = [Message.user("complete buy milk")]

    first = asyncio.run(llm.complete(messages, AGENT_TOOLS, tenant_id=TENANT, context=context))
    second = asyncio.run(
        llm.complete(
            [*messages, first.message, Message.tool_result(first.tool_calls[0], {"task": {"title": "Buy milk"}})],
            AGENT_TOOLS,
            tenant_id=TENANT,
            context=context,
        )
    )

    assert first.tool_calls[0].name == "complete_task"
    assert second.finish_reason == "stop"
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"] * 2
    assert "Authorization" not in server.requests[0]["headers"]  # local server, no key configured
    assert server.requests[1]["body"]["messages"][-1]["role"] == "tool"


async def test_retry_after_then_success_over_http(server, context, sleep):
    server.reply(429, fixture("openai_error_429.json"), **{"Retry-After": "2"})
    server.reply(200, fixture("openai_tool_calls.json"))
    llm = OpenAICompatLLM(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-local-test", sleep=sleep)

    completion = await llm.complete([Message.user("move dentist to friday")], AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert sleep.delays == [2.0]
    assert completion.tool_calls[0].name == "update_task"
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-local-test"


async def test_401_over_http(server, context, sleep):
    server.reply(401, fixture("openai_error_401.json"))
    llm = OpenAICompatLLM(base_url=server.base_url, model="gpt-4o-mini", api_key="sk-wrong", sleep=sleep)

    with pytest.raises(LLMAuthError):
        await llm.complete([Message.user("hi")], (), tenant_id=TENANT, context=context)

    assert len(server.requests) == 1
