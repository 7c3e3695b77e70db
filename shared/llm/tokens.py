"""Token counts when nobody reports them: a documented, deliberately rough heuristic.

Used in three places: to size the quota reservation before a call, to fill in usage when a
provider omits ``usage`` (the result is marked ``estimated``), and by the offline adapter.

* **Provider estimate**: one token per 4 characters of the text as sent (OpenAI's published rule of
  thumb for English; tokenizers differ by model, and code or non-Latin text uses more tokens per
  character). Each message adds 4 tokens of framing (role and separators), the way OpenAI's
  cookbook counts chat messages; tool specs count as the JSON they are sent as. Rounded up, so an
  estimate errs towards reserving too much rather than too little.
* **Offline count**: words (whitespace-separated runs), because the offline adapter has no
  tokenizer and its cost is zero anyway; the number only shows activity in usage reports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

from shared.llm.base import Message, ToolCall, ToolSpec

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3  # every reply starts with a few tokens of assistant framing


def estimate_text_tokens(text: str) -> int:
    """Tokens in ``text`` by the 4-characters-per-token rule (0 for empty text)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def _call_text(calls: Iterable[ToolCall]) -> str:
    return "".join(call.name + call.raw_arguments for call in calls)


def estimate_prompt_tokens(messages: Sequence[Message], tools: Sequence[ToolSpec] = ()) -> int:
    """Estimated prompt tokens of a request with ``messages`` and ``tools``."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += MESSAGE_OVERHEAD_TOKENS
        total += estimate_text_tokens((message.content or "") + _call_text(message.tool_calls))
    for tool in tools:
        spec = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
        total += estimate_text_tokens(json.dumps(spec, ensure_ascii=False, separators=(",", ":")))
    return total


def estimate_completion_tokens(message: Message) -> int:
    """Estimated tokens of a generated assistant message (text plus tool calls)."""
    return estimate_text_tokens((message.content or "") + _call_text(message.tool_calls))


def count_words(text: str) -> int:
    """Whitespace-separated words in ``text``: the offline adapter's token count."""
    return len(text.split())


def count_message_words(messages: Iterable[Message]) -> int:
    """Words in the text and tool-call arguments of ``messages``."""
    return sum(
        count_words(m.content or "") + sum(count_words(f"{c.name} {c.raw_arguments}") for c in m.tool_calls)
        for m in messages
    )
