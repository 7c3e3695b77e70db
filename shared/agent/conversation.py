"""Chat history: one :class:`~shared.models.AgentState` per conversation, ``conversations/{id}``.

The history is bounded twice. The stored window keeps the last ``MAX_TURNS`` turns
(:meth:`AgentState.append` returns what falls out); the turns that fall out are folded into the
state's ``summary`` — one short line per turn, newest last, the whole summary capped at
:data:`SUMMARY_LIMIT` characters — so the thread of a long conversation survives without growing
the document or the prompt. The summary is built by rule, not by the model: it costs no tokens and
cannot invent anything. The prompt then carries the summary and the last :data:`PROMPT_TURNS`
turns.

Only the user's messages and the assistant's final answers are kept; tool calls and their results
belong to one request.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from shared.agent.errors import InvalidConversation
from shared.errors import InvalidRequest
from shared.ids import validate_segment
from shared.llm.base import Message
from shared.models import AgentState, ConversationTurn
from shared.models.agent_state import MAX_TURNS
from shared.store.base import DocumentStore

COLLECTION = "conversations"
DEFAULT_CONVERSATION = "default"
PROMPT_TURNS = 20
SUMMARY_LIMIT = 4000
TURN_LIMIT = 8000  # characters kept of one turn
_LINE_LIMIT = 160  # characters of a turn kept in the summary


def new_conversation_id() -> str:
    """The id of a new conversation (a request without one starts one)."""
    return f"c-{secrets.token_hex(6)}"


def conversation_path(conversation_id: str) -> str:
    try:
        return f"{COLLECTION}/{validate_segment(conversation_id, field='conversation_id')}"
    except InvalidRequest:
        raise InvalidConversation(field="conversation_id") from None


def fold(summary: str, overflow: list[ConversationTurn]) -> str:
    """``summary`` extended with one line per turn of ``overflow``, cut to the newest part."""
    lines = [summary] if summary else []
    for turn in overflow:
        text = " ".join(turn.content.split())
        if len(text) > _LINE_LIMIT:
            text = text[: _LINE_LIMIT - 1] + "…"
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {text}")
    folded = "\n".join(lines)
    if len(folded) > SUMMARY_LIMIT:
        folded = "…" + folded[-(SUMMARY_LIMIT - 1):]
    return folded


class Conversations:
    """Loads and appends to a tenant's conversations."""

    def __init__(self, store: DocumentStore, *, max_turns: int = MAX_TURNS) -> None:
        self.store = store
        self.max_turns = max_turns

    def load(self, conversation_id: str, *, tenant_id: str) -> AgentState:
        data = self.store.get(conversation_path(conversation_id), tenant_id=tenant_id)
        return AgentState.model_validate(data) if data else AgentState(conversation_id=conversation_id)

    @staticmethod
    def prompt(state: AgentState) -> list[Message]:
        """The history as model messages: the summary of older turns, then the recent turns."""
        messages = []
        if state.summary:
            messages.append(Message.system("Summary of the earlier conversation:\n" + state.summary))
        for turn in state.history[-PROMPT_TURNS:]:
            if turn.role == "user":
                messages.append(Message.user(turn.content))
            elif turn.role == "assistant":
                messages.append(Message.assistant(turn.content))
        return messages

    def record(self, conversation_id: str, *, tenant_id: str, user: str, assistant: str, at: datetime) -> AgentState:
        """Append the exchange (in a transaction: concurrent requests both keep theirs)."""
        path = conversation_path(conversation_id)

        def append(txn) -> AgentState:
            data = txn.get(path)
            state = AgentState.model_validate(data) if data else AgentState(conversation_id=conversation_id)
            overflow = []
            for role, content in (("user", user), ("assistant", assistant)):
                turn = ConversationTurn(role=role, content=content[:TURN_LIMIT] or "…", at=at)
                overflow.extend(state.append(turn, max_turns=self.max_turns))
            if overflow:
                state.summary = fold(state.summary, overflow)
            txn.set(path, state.model_dump(mode="json"))
            return state

        return self.store.transaction(append, tenant_id=tenant_id)


__all__ = ["DEFAULT_CONVERSATION", "Conversations", "conversation_path", "fold", "new_conversation_id"]
