"""The documented token heuristics."""

from __future__ import annotations

from shared.llm.base import Message, ToolCall, ToolSpec
from shared.llm.tokens import (
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    count_message_words,
    count_words,
    estimate_completion_tokens,
    estimate_prompt_tokens,
    estimate_text_tokens,
)


def test_four_characters_per_token_rounded_up():
    assert [estimate_text_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]


def test_prompt_estimate_counts_framing_text_calls_and_tools():
    call = ToolCall(id="c", name="show_plan", arguments={})  # "show_plan" + "{}" = 11 characters
    messages = [Message.user("x" * 40), Message.assistant(None, [call])]
    tool = ToolSpec("show_plan", "Show the plan.")

    without_tools = estimate_prompt_tokens(messages)
    with_tools = estimate_prompt_tokens(messages, [tool])

    assert without_tools == REPLY_PRIMING_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS + 10 + 3
    assert with_tools > without_tools


def test_completion_estimate():
    message = Message.assistant("12345678", [ToolCall(id="c", name="ab", arguments={})])  # 8 + 2 + 2 chars

    assert estimate_completion_tokens(message) == 3


def test_word_counts():
    call = ToolCall(id="c", name="complete_task", arguments={"title": "Buy milk"})

    assert count_words("  two   words ") == 2
    # 'complete_task {"title": "Buy milk"}' is 4 whitespace-separated words
    assert count_message_words([Message.user("complete buy milk"), Message.assistant(None, [call])]) == 3 + 4
