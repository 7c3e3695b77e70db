"""The offline adapter: the LLM port with no model, for the local stack and tests.

Deterministic and network-free. Each call looks at the end of the conversation:

* if the last user message has already been answered by tool calls whose results came back
  (``tool`` messages after the assistant's tool calls), it writes the final answer: one
  confirmation per call from :mod:`shared.llm.replies` (``Moved “Dentist” to Fri 4 Dec 2026.``);
* otherwise it parses the last user message with :mod:`shared.llm.intents` and returns one tool
  call, resolving relative dates with ``context.now`` on ``context.timezone``;
* a request it does not understand, or whose tool the agent did not offer, gets a short answer
  listing what it can do (:func:`shared.llm.replies.help_text`).

Tool calls are fitted to the offered tool's JSON schema: the task reference goes to ``title``,
else to ``task`` or ``task_id``, whichever the schema declares, and arguments the schema does not
declare are dropped. Call ids are ``offline_call_<n>``, numbered through the conversation, so the
same conversation always produces the same ids.

Usage is counted in words (prompt: every message's text and tool-call arguments; completion: the
answer's), marked ``estimated``, and priced at zero under the model name ``offline``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.ids import validate_tenant_id
from shared.llm.base import Completion, LLMContext, Message, ToolCall, ToolSpec, Usage, validate_request
from shared.llm.intents import Intent, parse_request
from shared.llm.replies import confirm, help_text
from shared.llm.tokens import count_message_words

MODEL = "offline"
_REFERENCE_KEYS = ("title", "task", "task_id")


class OfflineLLM:
    """:class:`~shared.llm.base.LLM` that understands the planner's common requests by rules."""

    provider = "offline"
    model = MODEL

    def __init__(self, *, max_tokens: int = 1024) -> None:
        self.max_tokens = max_tokens

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
        reply = self._reply(messages, tools, context)
        return Completion(
            message=reply,
            finish_reason="tool_calls" if reply.tool_calls else "stop",
            usage=Usage(
                tokens_in=count_message_words(messages),
                tokens_out=count_message_words([reply]),
                estimated=True,
            ),
            model=MODEL,
            provider=self.provider,
        )

    def _reply(self, messages: Sequence[Message], tools: Sequence[ToolSpec], context: LLMContext) -> Message:
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
        if last_user is None:
            return Message.assistant(help_text(t.name for t in tools))
        answered = _tool_results_since(messages, last_user)
        if answered:
            return Message.assistant(confirm(answered, context.tz))
        intent = parse_request(messages[last_user].content or "", now=context.local_now, tz=context.tz)
        by_name = {tool.name: tool for tool in tools}
        if intent.tool is None or intent.tool not in by_name:
            reason = intent.reason
            if intent.tool is not None:
                reason = "I can't do that here: that tool is not available."
            return Message.assistant(help_text(by_name, reason=reason))
        call = ToolCall(
            id=f"offline_call_{_calls_so_far(messages) + 1}",
            name=intent.tool,
            arguments=_fit(intent, by_name[intent.tool]),
        )
        return Message.assistant(None, [call])


def _tool_results_since(messages: Sequence[Message], start: int) -> list[tuple[ToolCall, str | None]]:
    """(call, result content) for every tool call made after ``messages[start]``, in order."""
    calls: list[ToolCall] = []
    results: dict[str, str | None] = {}
    for message in messages[start + 1 :]:
        calls.extend(message.tool_calls)
        if message.role == "tool" and message.tool_call_id:
            results[message.tool_call_id] = message.content
    if not calls:
        return []
    missing = json.dumps({"error": "no result came back"})
    return [(call, results.get(call.id, missing)) for call in calls]


def _calls_so_far(messages: Sequence[Message]) -> int:
    return sum(len(message.tool_calls) for message in messages)


def _fit(intent: Intent, tool: ToolSpec) -> dict[str, Any]:
    """The intent's arguments renamed and filtered to what ``tool``'s schema declares."""
    arguments = dict(intent.arguments)
    if "properties" not in tool.parameters:
        return arguments  # the schema says nothing about its parameters: send what was understood
    declared = tool.properties
    if "title" in arguments and "title" not in declared and intent.tool != "create_task":
        target = next((key for key in _REFERENCE_KEYS if key in declared), None)
        if target is not None:
            arguments[target] = arguments.pop("title")
    return {key: value for key, value in arguments.items() if key in declared}
