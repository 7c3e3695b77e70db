"""Quota and usage around any LLM: reserve before the call, settle after, release on failure.

``MeteredLLM(llm, quota, pricing=...)`` is itself an :class:`~shared.llm.base.LLM`. Each call:

1. reserves an estimate of its tokens from the tenant's quota — the prompt estimate of
   :mod:`shared.llm.tokens` plus the call's completion budget (``max_tokens``). An over-quota
   tenant gets the quota service's ``shared.errors.RateLimited`` and the model is never called;
2. calls the model;
3. settles the reservation with the tokens the provider reported (or the marked estimate), the
   cost from the price table (``Decimal``) for the model that answered, and the request id
   (``context.request_id``, else the provider's completion id) — the quota service records this
   as the call's usage;
4. releases the reservation instead if the call raised (or was cancelled), then re-raises.

The quota rules (limits, windows, what a reservation holds) belong to the usage module; this
module only defines the :class:`QuotaPort` it needs. Both sync and async implementations work:
a method's awaitable result is awaited. Sync ones are called in the event loop thread on purpose,
because the document store adapters they use may be bound to the thread that opened them.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from shared.ids import validate_tenant_id
from shared.llm.base import LLM, Completion, LLMContext, Message, ToolSpec, validate_request
from shared.llm.pricing import PriceTable
from shared.llm.tokens import estimate_prompt_tokens

logger = logging.getLogger(__name__)


class QuotaPort(Protocol):
    """What ``MeteredLLM`` needs from ``shared.usage.quotas.QuotaService``."""

    def reserve_tokens(self, *, tenant_id: str, estimated_tokens: int) -> Any:
        """Hold ``estimated_tokens`` of the tenant's quota; raise ``RateLimited`` if over quota."""
        ...

    def settle(
        self,
        reservation: Any,
        *,
        tokens_in: int,
        tokens_out: int,
        cost_usd: Decimal,
        model: str,
        request_id: str,
    ) -> Any:
        """Replace the reservation with what the call really used, and record it as usage."""
        ...

    def release(self, reservation: Any) -> Any:
        """Give the reservation back: the call did not happen or failed."""
        ...


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class MeteredLLM:
    """An :class:`~shared.llm.base.LLM` whose every call is reserved, settled and priced."""

    def __init__(self, llm: LLM, quota: QuotaPort, *, pricing: PriceTable) -> None:
        self._llm = llm
        self._quota = quota
        self._pricing = pricing

    @property
    def model(self) -> str:
        return self._llm.model

    @property
    def max_tokens(self) -> int:
        return self._llm.max_tokens

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tenant_id: str,
        context: LLMContext,
        max_tokens: int | None = None,
    ) -> Completion:
        validate_tenant_id(tenant_id)
        validate_request(messages, tools, max_tokens)
        budget = max_tokens or self._llm.max_tokens
        estimate = estimate_prompt_tokens(messages, tools) + budget
        reservation = await _resolve(self._quota.reserve_tokens(tenant_id=tenant_id, estimated_tokens=estimate))
        try:
            completion = await self._llm.complete(
                messages, tools, tenant_id=tenant_id, context=context, max_tokens=budget
            )
        except BaseException:
            await self._release(reservation, tenant_id=tenant_id)
            raise
        usage = completion.usage
        cost = self._pricing.cost(completion.model, usage.tokens_in, usage.tokens_out)
        await _resolve(
            self._quota.settle(
                reservation,
                tokens_in=usage.tokens_in,
                tokens_out=usage.tokens_out,
                cost_usd=cost,
                model=completion.model,
                request_id=context.request_id or completion.response_id,
            )
        )
        return completion

    async def _release(self, reservation: Any, *, tenant_id: str) -> None:
        try:
            await _resolve(self._quota.release(reservation))
        except Exception:
            # The call's own error matters more; the usage module expires stale reservations.
            logger.exception("releasing an LLM token reservation failed: tenant=%s", tenant_id)
