"""The dashboard's side of the chat: show a conversation, send a message to the agent.

The conversation, the tool loop and the LLM belong to the agent (``shared.agent.chat``); this
module only adapts them to what the pages and ``POST /api/chat`` show.
"""

from __future__ import annotations

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
    id: str | None
    turns: list[Turn] = field(default_factory=list)


def conversation(backends: Any, *, tenant_id: str, conversation_id: str | None) -> Conversation:
    raise NotImplementedError


def send(backends: Any, *, tenant_id: str, message: str, conversation_id: str | None, request_id: str) -> ChatReply:
    raise NotImplementedError
