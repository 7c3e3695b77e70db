"""The chat: a bounded tool-calling loop over the tenant's tasks and plan.

One request (:meth:`ChatService.chat`):

1. the conversation's history (:mod:`shared.agent.conversation`; a request without a
   conversation id starts a new conversation, whose id the reply carries) and a system prompt with
   the user's date, time and timezone go to the model with the tools of :mod:`shared.agent.tools`;
2. while the model asks for tools, each call is run (or refused with a clear error and no write)
   and its result sent back — at most :data:`MAX_STEPS` model calls and
   :data:`MAX_CALLS_PER_STEP` tool calls per model call, so a confused model cannot loop or write
   without end;
3. the answer is the model's text followed by one confirmation line per change made in Notion,
   taken from Notion's answers (``Saved in Notion: …``), so every write is confirmed whatever the
   model wrote; if the step bound was hit, the answer says so;
4. the exchange is appended to the conversation, and a ``chat`` usage record is written (each model
   call is metered by :class:`~shared.llm.metered.MeteredLLM`: quota reserved before, settled after).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from shared.agent.conversation import Conversations, new_conversation_id
from shared.agent.tools import ChatTools, Replanner, Searcher, WriteRecord
from shared.connections.tenants import TenantRepository
from shared.llm.base import LLM, LLMContext, Message
from shared.models import OperationType, UsageRecord, UserConfig
from shared.notion.client import NotionGateway
from shared.observability import log_event
from shared.store.base import DocumentStore
from shared.usage.meter import UsageMeter

logger = logging.getLogger(__name__)

MAX_STEPS = 6
MAX_CALLS_PER_STEP = 8


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def system_prompt(config: UserConfig, now: datetime) -> str:
    local = now.astimezone(config.zone)
    return (
        "You are the user's planning assistant. Their tasks live in a Notion Tasks database; a daily "
        "time-blocked plan is made from them. Use the tools to look tasks up and to change them; never say "
        "you changed something unless a tool did it. When a request names a task, pass its title as the "
        "user said it. Dates are YYYY-MM-DD; times ISO 8601 with the UTC offset.\n"
        f"Now: {local:%A %Y-%m-%d %H:%M} ({config.timezone}, UTC{local:%z}). "
        f"Working hours: {config.working_hours.start:%H:%M}-{config.working_hours.end:%H:%M}.\n"
        "Answer briefly."
    )


@dataclass
class ChatReply:
    """The endpoint's answer."""

    conversation_id: str
    answer: str
    writes: list[WriteRecord] = field(default_factory=list)
    steps: int = 0
    tool_calls: int = 0
    finished: bool = True  # False when the step bound stopped the loop

    def to_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "answer": self.answer,
                "writes": [w.to_dict() for w in self.writes], "steps": self.steps,
                "tool_calls": self.tool_calls, "finished": self.finished}


def with_confirmations(answer: str, writes: list[WriteRecord]) -> str:
    """The model's answer followed by one line per Notion change actually made."""
    if not writes:
        return answer
    lines = "\n".join(f"- {write.confirmation}" for write in writes)
    head = answer.rstrip() + "\n\n" if answer.strip() else ""
    return f"{head}Saved in Notion:\n{lines}"


@dataclass
class ChatAgent:
    """The loop itself, independent of storage: messages in, answer and tool use out."""

    llm: LLM
    max_steps: int = MAX_STEPS
    max_calls_per_step: int = MAX_CALLS_PER_STEP

    async def converse(self, messages: list[Message], tools: ChatTools, *, tenant_id: str,
                       context: LLMContext) -> tuple[str, int, int, bool]:
        """``(answer, model calls, tool calls, finished)``; ``messages`` grows with the exchange."""
        calls = 0
        for step in range(1, self.max_steps + 1):
            completion = await self.llm.complete(messages, tools.specs, tenant_id=tenant_id, context=context)
            requested = list(completion.tool_calls)
            if not requested:
                messages.append(completion.message)
                return completion.content, step, calls, True
            kept = requested[: self.max_calls_per_step]
            messages.append(Message.assistant(completion.message.content, kept))
            for call in kept:
                calls += 1
                messages.append(await tools.run(call))
            if len(requested) > len(kept):
                logger.warning("chat: %d tool calls over the per-step bound were dropped", len(requested) - len(kept))
        stopped = (f"I stopped after {self.max_steps} steps without finishing this request. "
                   "Try asking for one thing at a time.")
        return stopped, self.max_steps, calls, False


@dataclass
class ChatService:
    """A chat request end to end for one tenant: history, tools, loop, confirmations, usage."""

    store: DocumentStore
    tenants: TenantRepository
    llm: LLM
    gateway_factory: Callable[[], NotionGateway]
    meter: UsageMeter
    clock: Callable[[], datetime] = _utcnow
    searcher: Searcher | None = None
    replanner_factory: Callable[[str, str], Replanner] | None = None  # (tenant_id, request_id) -> replanner
    max_steps: int = MAX_STEPS

    async def chat(self, *, tenant_id: str, message: str, conversation_id: str | None = None,
                   request_id: str = "") -> ChatReply:
        conversation_id = conversation_id or new_conversation_id()
        conversations = Conversations(self.store)
        state = conversations.load(conversation_id, tenant_id=tenant_id)  # validates the id first
        config = self.tenants.get_config(tenant_id=tenant_id)
        now = self.clock()
        context = LLMContext(now=now, timezone=config.timezone, request_id=request_id)
        messages = [Message.system(system_prompt(config, now)), *conversations.prompt(state), Message.user(message)]
        replanner = self.replanner_factory(tenant_id, request_id) if self.replanner_factory else None
        async with self.gateway_factory() as gateway:
            tools = ChatTools(store=self.store, tenant_id=tenant_id, config=config, gateway=gateway, now=now,
                              searcher=self.searcher, replanner=replanner)
            answer, steps, calls, finished = await ChatAgent(self.llm, max_steps=self.max_steps).converse(
                messages, tools, tenant_id=tenant_id, context=context)
        reply = ChatReply(conversation_id, with_confirmations(answer, tools.writes), list(tools.writes), steps, calls,
                          finished)
        conversations.record(conversation_id, tenant_id=tenant_id, user=message, assistant=reply.answer, at=now)
        self.meter.record(UsageRecord(operation=OperationType.CHAT, timestamp=now, request_id=request_id,
                                      detail=f"steps={steps} tools={calls} writes={len(tools.writes)}"),
                          tenant_id=tenant_id)
        log_event("chat_answered", logger=logger, steps=steps, tool_calls=calls, writes=len(tools.writes),
                  finished=finished)
        return reply

