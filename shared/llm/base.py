"""The LLM port: chat messages, tool specs, tool calls and a completion with its token usage.

One call is ``await llm.complete(messages, tools, tenant_id=..., context=...)``: the conversation
so far and the tools the model may call (each a JSON-schema object) go in; the model's next
assistant message comes out, with either text, tool calls or both, the reason it stopped and the
tokens it used. The agent runs the tool calls, appends one ``tool`` message per call
(:meth:`Message.tool_result`) and calls again until the model answers in text.

Arguments of a tool call arrive from the model as a JSON string that may be broken. Adapters never
raise for that: the call carries ``error`` instead of ``arguments`` and the agent answers it with
:func:`tool_error_result` (no tool runs), so the model can correct itself on the next step.

``LLMContext`` carries what a request needs besides the conversation: the current instant and the
user's IANA timezone (the offline adapter resolves "tomorrow 3pm" with them) and the request id
that usage is recorded under.

Adapters: :mod:`shared.llm.openai_compat` (any OpenAI-compatible Chat Completions API),
:mod:`shared.llm.offline` (rule-based, no model) and :mod:`shared.llm.metered` (quota and usage
around either). :func:`shared.llm.factory.build_llm` picks one from the settings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.llm.errors import InvalidLLMRequest

Role = Literal["system", "user", "assistant", "tool"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant", "tool"})

# The function-name alphabet OpenAI enforces; the strictest of the compatible providers.
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _copy(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    # A private copy: the caller's dict can change later without changing this call.
    return dict(mapping) if mapping else {}


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: a name, what it does, and its parameters as a JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _TOOL_NAME.fullmatch(self.name):
            raise InvalidLLMRequest("A tool name must be 1-64 letters, digits, '_' or '-'.", field="tools.name")
        if not isinstance(self.parameters, Mapping) or self.parameters.get("type") != "object":
            raise InvalidLLMRequest("A tool's parameters must be a JSON schema of type object.", field="tools.parameters")

    @property
    def properties(self) -> Mapping[str, Any]:
        """The parameters the schema declares (empty if it declares none)."""
        props = self.parameters.get("properties")
        return props if isinstance(props, Mapping) else {}


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for.

    ``arguments`` is the parsed JSON object. When the model sent something unusable (not JSON, not
    an object, no function name) ``error`` says why, ``arguments`` is empty and the tool must not
    run. ``raw_arguments`` is the string the model sent. ``extra`` holds provider fields that must
    be sent back with the call on the next request (Gemini 3's ``extra_content`` thought
    signature); callers treat it as opaque.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str = ""
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arguments", _copy(self.arguments))
        object.__setattr__(self, "extra", _copy(self.extra))
        if not self.raw_arguments and self.error is None:
            object.__setattr__(self, "raw_arguments", json.dumps(self.arguments, ensure_ascii=False))

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Message:
    """One chat message. Use the constructors: :meth:`system`, :meth:`user`, :meth:`assistant`,
    :meth:`tool_result`."""

    role: Role
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # role "tool": the call this message answers

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InvalidLLMRequest("A message role must be system, user, assistant or tool.", field="messages.role")
        if self.content is not None and not isinstance(self.content, str):
            raise InvalidLLMRequest("A message's content must be text.", field="messages.content")
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if self.tool_calls and self.role != "assistant":
            raise InvalidLLMRequest("Only assistant messages carry tool calls.", field="messages.tool_calls")
        if self.role == "tool" and not self.tool_call_id:
            raise InvalidLLMRequest("A tool message must name the tool call it answers.", field="messages.tool_call_id")

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str | None = None, tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls(role="assistant", content=content, tool_calls=tuple(tool_calls))

    @classmethod
    def tool_result(cls, call: ToolCall | str, content: str | Mapping[str, Any] | Sequence[Any]) -> Message:
        """The result of running ``call``; a non-string result is sent as JSON."""
        call_id = call.id if isinstance(call, ToolCall) else call
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, default=str)
        return cls(role="tool", content=text, tool_call_id=call_id)


def tool_error_result(call: ToolCall, message: str | None = None) -> Message:
    """The tool message answering a call that was not run: ``{"error": "..."}``.

    Without ``message`` it explains ``call.error`` (malformed arguments) to the model.
    """
    reason = message or call.error or "The tool call could not be run."
    return Message.tool_result(call, {"error": reason})


@dataclass(frozen=True)
class Usage:
    """Tokens one call used. ``estimated`` is true when the provider did not report them."""

    tokens_in: int
    tokens_out: int
    estimated: bool = False

    def __post_init__(self) -> None:
        if self.tokens_in < 0 or self.tokens_out < 0:
            raise ValueError("token counts cannot be negative")

    @property
    def total(self) -> int:
        return self.tokens_in + self.tokens_out


FinishReason = Literal["stop", "tool_calls", "length", "content_filter", "other"]


@dataclass(frozen=True)
class Completion:
    """The model's next message, why it stopped, the tokens it used and who answered."""

    message: Message
    finish_reason: FinishReason
    usage: Usage
    model: str  # as reported by the provider (may be a dated snapshot of the configured model)
    response_id: str = ""  # the provider's id of this completion, when it gives one
    provider: str = ""

    @property
    def content(self) -> str:
        return self.message.content or ""

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return self.message.tool_calls


@dataclass(frozen=True)
class LLMContext:
    """What a call needs besides the conversation: now, the user's timezone, the request id."""

    now: datetime
    timezone: str = "UTC"
    request_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.now, datetime) or self.now.tzinfo is None or self.now.utcoffset() is None:
            raise InvalidLLMRequest("The context's time must be timezone-aware.", field="context.now")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidLLMRequest("The timezone is not a known IANA timezone.", field="context.timezone") from None

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def local_now(self) -> datetime:
        """``now`` on the user's wall clock."""
        return self.now.astimezone(self.tz)


@runtime_checkable
class LLM(Protocol):
    """A chat model with tool calling."""

    model: str  # the configured model name (pricing falls back to it)
    max_tokens: int  # the completion budget used when a call does not pass one

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tenant_id: str,
        context: LLMContext,
        max_tokens: int | None = None,
    ) -> Completion:
        """The model's next assistant message for ``messages``, optionally calling ``tools``.

        Raises a :class:`~shared.llm.errors.LLMError` when the model cannot answer.
        """
        ...


def validate_request(messages: Sequence[Message], tools: Sequence[ToolSpec], max_tokens: int | None) -> None:
    """The checks every adapter applies before a call (raise :class:`InvalidLLMRequest`)."""
    if not messages:
        raise InvalidLLMRequest("A request needs at least one message.", field="messages")
    for message in messages:
        if not isinstance(message, Message):
            raise InvalidLLMRequest("Messages must be shared.llm Message objects.", field="messages")
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise InvalidLLMRequest("Tool names must be unique.", field="tools.name")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise InvalidLLMRequest("max_tokens must be a positive integer.", field="max_tokens")
