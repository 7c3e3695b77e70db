"""The agent's per-tenant state: a bounded conversation history, learned preferences, activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.models._base import DomainModel, utcnow

MAX_TURNS = 40  # older turns are folded into `summary` by the agent


class ConversationTurn(DomainModel):
    role: Literal["user", "assistant", "tool", "system"]
    content: str = Field(max_length=20_000)
    at: datetime = Field(default_factory=utcnow)
    tool_name: str | None = None


class AgentState(DomainModel):
    conversation_id: str = "default"
    summary: str = ""  # what the dropped older turns said
    history: list[ConversationTurn] = Field(default_factory=list)
    preferences: dict[str, Any] = Field(default_factory=dict)
    last_activity: datetime | None = None

    def append(self, turn: ConversationTurn, *, max_turns: int = MAX_TURNS) -> list[ConversationTurn]:
        """Add a turn; return the turns pushed out of the window (for the caller to summarise)."""
        history = [*self.history, turn]
        overflow = history[:-max_turns] if len(history) > max_turns else []
        self.history = history[-max_turns:]
        self.last_activity = turn.at
        return overflow
