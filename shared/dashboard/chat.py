"""The dashboard's side of the chat: show a conversation, send a message to the agent.

The conversation, the tool loop and the LLM belong to the agent (``shared.agent.chat``); this
module only adapts them to what the pages and ``POST /api/chat`` show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Conversation:
    id: str | None
    turns: list[Turn] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    conversation_id: str
    reply: str
    actions: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "reply": self.reply, "actions": list(self.actions)}


def conversation(backends: Any, *, tenant_id: str, conversation_id: str | None) -> Conversation:
    raise NotImplementedError


def send(backends: Any, *, tenant_id: str, message: str, conversation_id: str | None, request_id: str) -> Reply:
    raise NotImplementedError
