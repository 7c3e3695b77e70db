"""MeteredLLM: reserve before, settle after, release on failure; over quota means no call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.errors import RateLimited
from shared.llm.base import Completion, LLMContext, Message
from shared.ids import InvalidTenantId
from shared.llm.errors import InvalidLLMRequest, LLMAuthError
from shared.llm.metered import MeteredLLM
from shared.llm.offline import OfflineLLM
from shared.llm.openai_compat import OpenAICompatLLM
from shared.llm.pricing import PriceTable
from shared.llm.tokens import estimate_prompt_tokens
from tests.shared.llm.conftest import TENANT
from tests.shared.llm.support import AGENT_TOOLS, Script, error, ok


@dataclass
class FakeQuota:
    """A test double of shared.usage.quotas.QuotaService's port: records every call."""

    limit: int = 1_000_000
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def reserve_tokens(self, *, tenant_id: str, estimated_tokens: int) -> str:
        self.calls.append(("reserve", {"tenant_id": tenant_id, "estimated_tokens": estimated_tokens}))
        if estimated_tokens > self.limit:
            raise RateLimited("The tenant's token quota is used up.", retry_after=3600)
        return f"res-{len(self.calls)}"

    def settle(self, reservation: str, **kwargs: Any) -> None:
        self.calls.append(("settle", {"reservation": reservation, **kwargs}))

    def release(self, reservation: str) -> None:
        self.calls.append(("release", {"reservation": reservation}))


class AsyncFakeQuota(FakeQuota):
    async def reserve_tokens(self, *, tenant_id: str, estimated_tokens: int) -> str:  # type: ignore[override]
        return FakeQuota.reserve_tokens(self, tenant_id=tenant_id, estimated_tokens=estimated_tokens)

    async def settle(self, reservation: str, **kwargs: Any) -> None:  # type: ignore[override]
        FakeQuota.settle(self, reservation, **kwargs)

    async def release(self, reservation: str) -> None:  # type: ignore[override]
        FakeQuota.release(self, reservation)


def openai_llm(script: Script, sleep) -> OpenAICompatLLM:
    return OpenAICompatLLM(
        base_url="https://api.openai.example/v1",
        model="gpt-4o-mini",
        api_key="sk-x",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(script)),
        sleep=sleep,
        max_tokens=500,
    )


MESSAGES = [Message.system("You plan days."), Message.user("move the dentist task to Friday")]


@pytest.mark.parametrize("quota_class", [FakeQuota, AsyncFakeQuota])
async def test_reserve_call_settle_with_provider_usage_and_price(sleep, context, quota_class):
    quota = quota_class()
    script = Script(ok("openai_tool_calls.json"))
    llm = MeteredLLM(openai_llm(script, sleep), quota, pricing=PriceTable())

    completion = await llm.complete(MESSAGES, AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert completion.tool_calls[0].name == "update_task"
    assert [name for name, _ in quota.calls] == ["reserve", "settle"]
    reserve, settle = quota.calls[0][1], quota.calls[1][1]
    assert reserve == {"tenant_id": TENANT, "estimated_tokens": estimate_prompt_tokens(MESSAGES, AGENT_TOOLS) + 500}
    assert settle == {
        "reservation": "res-1",
        "tokens_in": 291,
        "tokens_out": 46,
        "cost_usd": Decimal("0.00007125"),
        "model": "gpt-4o-mini-2024-07-18",
        "request_id": "req-1",
    }
    assert script.bodies()[0]["max_tokens"] == 500


async def test_the_calls_own_budget_is_reserved_and_sent(sleep, context):
    quota = FakeQuota()
    script = Script(ok("openai_text.json"))
    llm = MeteredLLM(openai_llm(script, sleep), quota, pricing=PriceTable())

    await llm.complete(MESSAGES, (), tenant_id=TENANT, context=context, max_tokens=64)

    assert quota.calls[0][1]["estimated_tokens"] == estimate_prompt_tokens(MESSAGES) + 64
    assert script.bodies()[0]["max_tokens"] == 64


async def test_over_quota_raises_and_the_model_is_never_called(sleep, context):
    quota = FakeQuota(limit=10)
    script = Script()
    llm = MeteredLLM(openai_llm(script, sleep), quota, pricing=PriceTable())

    with pytest.raises(RateLimited) as caught:
        await llm.complete(MESSAGES, AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert caught.value.status == 429 and caught.value.retry_after == 3600
    assert script.requests == []
    assert [name for name, _ in quota.calls] == ["reserve"]


async def test_a_failed_call_releases_its_reservation(sleep, context):
    quota = FakeQuota()
    llm = MeteredLLM(openai_llm(Script(error(401, "openai_error_401.json")), sleep), quota, pricing=PriceTable())

    with pytest.raises(LLMAuthError):
        await llm.complete(MESSAGES, AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert quota.calls[1:] == [("release", {"reservation": "res-1"})]


async def test_a_failing_release_does_not_hide_the_calls_error(sleep, context, caplog):
    class BrokenRelease(FakeQuota):
        def release(self, reservation: str) -> None:
            raise RuntimeError("store down")

    llm = MeteredLLM(openai_llm(Script(error(401, "openai_error_401.json")), sleep), BrokenRelease(), pricing=PriceTable())

    with pytest.raises(LLMAuthError):
        await llm.complete(MESSAGES, AGENT_TOOLS, tenant_id=TENANT, context=context)

    assert "releasing an LLM token reservation failed" in caplog.text


async def test_without_a_request_id_the_provider_completion_id_is_recorded(sleep, context):
    quota = FakeQuota()
    bare = LLMContext(now=context.now, timezone=context.timezone)
    llm = MeteredLLM(openai_llm(Script(ok("openai_text.json")), sleep), quota, pricing=PriceTable())

    await llm.complete(MESSAGES, (), tenant_id=TENANT, context=bare)

    assert quota.calls[1][1]["request_id"] == "chatcmpl-BcO1gPfCFAf86O5CyQ9CTeEyoc8KG"


async def test_offline_calls_are_metered_at_zero_cost(context):
    quota = FakeQuota()
    llm = MeteredLLM(OfflineLLM(), quota, pricing=PriceTable(local=True))

    completion = await llm.complete(MESSAGES, AGENT_TOOLS, tenant_id=TENANT, context=context)

    settle = quota.calls[1][1]
    assert (settle["model"], settle["cost_usd"]) == ("offline", Decimal("0"))
    assert (settle["tokens_in"], settle["tokens_out"]) == (completion.usage.tokens_in, completion.usage.tokens_out)
    assert llm.model == "offline" and llm.max_tokens == 1024


async def test_estimated_usage_is_settled_too(sleep, context):
    quota = FakeQuota()
    llm = MeteredLLM(openai_llm(Script(ok("no_usage_text.json")), sleep), quota, pricing=PriceTable())

    completion = await llm.complete(MESSAGES, (), tenant_id=TENANT, context=context)

    assert completion.usage.estimated
    assert quota.calls[1][1]["tokens_out"] == completion.usage.tokens_out > 0


async def test_invalid_requests_reserve_nothing(context):
    quota = FakeQuota()
    llm = MeteredLLM(OfflineLLM(), quota, pricing=PriceTable())

    with pytest.raises(InvalidLLMRequest):
        await llm.complete([], AGENT_TOOLS, tenant_id=TENANT, context=context)
    with pytest.raises(InvalidTenantId):
        await llm.complete(MESSAGES, AGENT_TOOLS, tenant_id="Not A Tenant", context=context)

    assert quota.calls == []


async def test_cancellation_releases(context):
    class Hanging:
        model = "slow"
        max_tokens = 10

        async def complete(self, *args: Any, **kwargs: Any) -> Completion:
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    quota = FakeQuota()
    llm = MeteredLLM(Hanging(), quota, pricing=PriceTable())
    task = asyncio.ensure_future(llm.complete(MESSAGES, (), tenant_id=TENANT, context=context))
    while not quota.calls:
        await asyncio.sleep(0)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task

    assert [name for name, _ in quota.calls] == ["reserve", "release"]
