"""The dashboard's side of the chat: show a conversation, send a message to the agent.

The conversation, the tool loop and the LLM belong to the agent (``shared.agent.chat``, wired by
``shared.agent.services.AgentServices`` exactly as the agent function wires it); this module only
adapts them to what the pages and ``POST /api/chat`` show.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.dashboard.forms import safe_conversation_id


class ChatRequest(BaseModel):
    """Body of ``POST /api/chat``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=2000)
    conversation_id: str | None = Field(default=None, max_length=64,
                                        description="Continue this conversation; absent or null starts a new one.")

    @field_validator("conversation_id")
    @classmethod
    def _safe_id(cls, value: str | None) -> str | None:
        return None if value in (None, "") else safe_conversation_id(value)


class ChatReply(BaseModel):
    """Answer of ``POST /api/chat``."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    reply: str
    actions: list[str] = Field(default_factory=list, description="What the agent did (tools it used), in order.")


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: list[Turn] = field(default_factory=list)


def new_conversation_id() -> str:
    return "web-" + secrets.token_hex(6)


def conversation(backends: Any, *, tenant_id: str, conversation_id: str | None) -> Conversation:
    """The stored turns of a conversation (the agent's default one when none is named)."""
    from shared.agent.conversation import DEFAULT_CONVERSATION, Conversations

    conversation_id = conversation_id or DEFAULT_CONVERSATION
    state = Conversations(backends.documents).load(safe_conversation_id(conversation_id), tenant_id=tenant_id)
    turns = [Turn(role=turn.role, text=turn.content) for turn in state.history if turn.role in ("user", "assistant")]
    return Conversation(id=conversation_id, turns=turns)


def send(backends: Any, *, tenant_id: str, message: str, conversation_id: str | None, request_id: str) -> ChatReply:
    """One message through the agent's chat (its tools, metered LLM and replanning), in-process."""
    from shared.agent.services import AgentServices

    service = AgentServices(backends).chat_service(tenant_id=tenant_id, request_id=request_id)
    reply = asyncio.run(service.chat(tenant_id=tenant_id, message=message, conversation_id=conversation_id,
                                     request_id=request_id))
    return ChatReply(conversation_id=reply.conversation_id, reply=reply.answer,
                     actions=[write.confirmation for write in reply.writes])
