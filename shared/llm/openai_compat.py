"""The LLM port over any OpenAI-compatible Chat Completions API, with ``httpx``.

Works with OpenAI, Gemini's OpenAI-compatible endpoint
(``https://generativelanguage.googleapis.com/v1beta/openai``), Anthropic's
(``https://api.anthropic.com/v1``), vLLM and Ollama (``http://127.0.0.1:11434/v1``): each call is
``POST {base_url}/chat/completions`` with ``model``, ``messages``, ``max_tokens`` and, when tools
are offered, ``tools=[{"type": "function", "function": {name, description, parameters}}]`` and
``tool_choice="auto"``. ``max_tokens`` (not OpenAI's newer ``max_completion_tokens``) because
every compatible server understands it.

What the providers disagree on, and how this adapter evens it out:

* **Tool call ids**: Gemini has sent ``""`` (and a ``null`` completion id). A missing id is
  replaced by a stable one derived from the call, so tool results can still refer to it.
* **finish_reason**: Gemini and some vLLM versions say ``"stop"`` while returning tool calls; a
  message with tool calls is reported as ``"tool_calls"``.
* **Arguments**: a JSON string that may be broken or truncated. Never raised: the call carries
  ``error`` (see :func:`shared.llm.base.tool_error_result`). When such a call is replayed in a
  later request its arguments are sent as ``{}``, because Ollama rejects a whole request whose
  history holds unparsable arguments.
* **Gemini 3 thought signatures**: ``extra_content`` on a tool call is kept on
  ``ToolCall.extra`` and sent back with the call, as Gemini requires.
* **Usage**: some servers omit ``usage``; it is then estimated (:mod:`shared.llm.tokens`) and
  marked ``estimated``.
* **Errors**: OpenAI answers ``{"error": {...}}``, Gemini's compatible endpoint a list of them and
  an invalid Gemini key is a 400 with reason ``API_KEY_INVALID``; all map to
  :mod:`shared.llm.errors`.

Retries: 408, 429, 5xx (and Anthropic's 529), timeouts and network errors are retried up to
``max_attempts`` in total, waiting what ``Retry-After``/``retry-after-ms`` asks (or exponential
back-off with jitter), through an injectable ``sleep``. A ``Retry-After`` longer than
``max_retry_wait`` is not waited out: the error is raised at once with that ``retry_after``. A 429
whose code is ``insufficient_quota`` (the provider account is out of credit) is not retried.

Secrets: the API key is sent only in the ``Authorization`` header (redirects are not followed),
never logged and never part of an error; neither are prompts or provider error messages (which
quote keys and prompts). Logs carry the status, the provider's short error code and request id.

Event loops: without an injected ``http_client`` each call opens and closes its own
``httpx.AsyncClient``, because the agent runs every request in a fresh ``asyncio.run`` and a
client's connection pool cannot outlive its loop. An injected client is used as is and never
closed here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import SecretStr

from shared.ids import validate_tenant_id
from shared.llm.base import (
    Completion,
    FinishReason,
    LLMContext,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
    validate_request,
)
from shared.llm.errors import (
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMRequestRejected,
    LLMUnavailable,
)
from shared.llm.tokens import estimate_completion_tokens, estimate_prompt_tokens

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], datetime]

DEFAULT_MAX_TOKENS = 1024
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
_AUTH_STATUSES = frozenset({401, 403})
# Provider fields of a tool call that must travel back with it on the next request.
_ECHOED_CALL_FIELDS = ("extra_content",)
# Only short identifier-like provider codes are kept for logs; anything else could be free text.
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

_FINISH_REASONS: Mapping[str, FinishReason] = {
    "stop": "stop",
    "end_turn": "stop",
    "eos": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
    "safety": "content_filter",
}


async def _default_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class OpenAICompatLLM:
    """:class:`~shared.llm.base.LLM` over ``POST {base_url}/chat/completions``."""

    provider = "openai_compat"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: SecretStr | str = "",
        http_client: httpx.AsyncClient | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        temperature: float | None = None,
        timeout: float = 60.0,
        max_attempts: int = 3,
        max_retry_wait: float = 30.0,
        backoff_base: float = 0.5,
        sleep: Sleep = _default_sleep,
        clock: Clock = _utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        if not model:
            raise ValueError("model is required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._http_client = http_client
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_retry_wait = max_retry_wait
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def __repr__(self) -> str:  # never the key
        return f"OpenAICompatLLM(base_url={self.base_url!r}, model={self.model!r})"

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
        body = self._request_body(messages, tools, max_tokens or self.max_tokens)
        response = await self._post(body, tenant_id=tenant_id, context=context)
        try:
            payload = response.json()
        except ValueError:
            raise self._bad_response("body is not JSON", response) from None
        return self._parse(payload, response, messages=messages, tools=tools)

    # --- request -------------------------------------------------------------------------------

    def _request_body(self, messages: Sequence[Message], tools: Sequence[ToolSpec], max_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [_wire_message(message) for message in messages],
            "max_tokens": max_tokens,
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if tools:  # an empty tools array, or tool_choice without tools, is a 400 at OpenAI
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": dict(t.parameters)},
                }
                for t in tools
            ]
            body["tool_choice"] = "auto"
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        key = self._api_key.get_secret_value()
        if key:  # local servers (Ollama, vLLM) run without a key
            headers["Authorization"] = f"Bearer {key}"
        return headers

    async def _post(self, body: dict[str, Any], *, tenant_id: str, context: LLMContext) -> httpx.Response:
        if self._http_client is not None:
            return await self._post_with_retries(self._http_client, body, tenant_id=tenant_id, context=context)
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            return await self._post_with_retries(client, body, tenant_id=tenant_id, context=context)

    async def _post_with_retries(
        self, client: httpx.AsyncClient, body: dict[str, Any], *, tenant_id: str, context: LLMContext
    ) -> httpx.Response:
        url = f"{self.base_url}/chat/completions"
        headers = self._headers()
        for attempt in range(1, self._max_attempts + 1):
            retry_after: float | None = None
            try:
                response = await client.post(url, json=body, headers=headers, timeout=self._timeout)
            except httpx.TimeoutException:
                failure: LLMError = LLMUnavailable(
                    "The language model did not answer in time; try again later.", provider_code="timeout"
                )
                self._log_failure(attempt, tenant_id, context, status=None, code="timeout", request_id=None)
            except httpx.TransportError as exc:
                failure = LLMUnavailable(provider_code="network_error")
                self._log_failure(attempt, tenant_id, context, status=None, code=type(exc).__name__, request_id=None)
            else:
                if response.is_success:
                    return response
                failure = self._error_for(response)
                retry_after = self._retry_after(response)
                self._log_failure(
                    attempt,
                    tenant_id,
                    context,
                    status=response.status_code,
                    code=failure.provider_code,
                    request_id=failure.provider_request_id,
                )
                if response.status_code not in _RETRY_STATUSES or failure.code == "llm_quota_exhausted":
                    raise failure
                if retry_after is not None and isinstance(failure, (LLMRateLimited, LLMUnavailable)):
                    failure.retry_after = max(1, int(round(retry_after)))
            if attempt == self._max_attempts:
                raise failure
            if retry_after is not None and retry_after > self._max_retry_wait:
                raise failure  # the provider asked for longer than a chat request can wait
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            await self._sleep(delay)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _backoff(self, attempt: int) -> float:
        # Exponential with "equal jitter": half fixed, half random, so clients spread out.
        ceiling = min(self._max_retry_wait, self._backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + ceiling / 2 * self._jitter()

    def _retry_after(self, response: httpx.Response) -> float | None:
        milliseconds = response.headers.get("retry-after-ms")
        if milliseconds is not None:
            try:
                return max(0.0, float(milliseconds) / 1000)
            except ValueError:
                pass
        value = response.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - self._clock()).total_seconds())

    def _log_failure(
        self,
        attempt: int,
        tenant_id: str,
        context: LLMContext,
        *,
        status: int | None,
        code: str | None,
        request_id: str | None,
    ) -> None:
        logger.warning(
            "LLM call failed: model=%s status=%s code=%s attempt=%d/%d tenant=%s request_id=%s provider_request_id=%s",
            self.model,
            status,
            code,
            attempt,
            self._max_attempts,
            tenant_id,
            context.request_id,
            request_id,
        )

    # --- errors --------------------------------------------------------------------------------

    def _error_for(self, response: httpx.Response) -> LLMError:
        status = response.status_code
        code, reasons = _provider_error(response)
        kwargs: dict[str, Any] = dict(
            provider_status=status,
            provider_code=code,
            provider_request_id=_request_id(response),
        )
        if status in _AUTH_STATUSES or "API_KEY_INVALID" in reasons:
            return LLMAuthError(**kwargs)
        if status == 429 and code == "insufficient_quota":
            return LLMUnavailable(
                "The language model provider account has no quota left; an operator must add credit.",
                code="llm_quota_exhausted",
                **kwargs,
            )
        if status == 429:
            return LLMRateLimited(**kwargs)
        if status >= 500 or status == 408:
            return LLMUnavailable(**kwargs)
        return LLMRequestRejected(**kwargs)

    def _bad_response(self, why: str, response: httpx.Response) -> LLMBadResponse:
        # `why` is ours (a fixed phrase), never text from the provider.
        logger.warning("LLM response unusable: model=%s reason=%s", self.model, why)
        return LLMBadResponse(provider_status=response.status_code, provider_request_id=_request_id(response))

    # --- response ------------------------------------------------------------------------------

    def _parse(
        self, payload: Any, response: httpx.Response, *, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> Completion:
        if not isinstance(payload, dict):
            raise self._bad_response("body is not an object", response)
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._bad_response("no choices", response)
        choice = choices[0]
        raw_message = choice.get("message")
        if not isinstance(raw_message, dict):
            raise self._bad_response("choice has no message", response)

        response_id = payload.get("id") if isinstance(payload.get("id"), str) else ""
        content = _content_text(raw_message.get("content"))
        if content is None and isinstance(raw_message.get("refusal"), str):
            content = raw_message["refusal"]  # OpenAI puts a refusal beside a null content
        raw_calls = raw_message.get("tool_calls") or []
        if not isinstance(raw_calls, list):
            raise self._bad_response("tool_calls is not a list", response)
        calls = tuple(_parse_tool_call(item, index, response_id) for index, item in enumerate(raw_calls))
        message = Message.assistant(content or None, calls)

        reported = payload.get("model")
        return Completion(
            message=message,
            finish_reason=_finish_reason(choice.get("finish_reason"), has_tool_calls=bool(calls)),
            usage=_usage(payload.get("usage"), messages=messages, tools=tools, message=message),
            model=reported if isinstance(reported, str) and reported else self.model,
            response_id=response_id,
            provider=self.provider,
        )


# --- wire helpers (module level: pure functions of their arguments) ---------------------------------


def _wire_message(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content or ""}
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.raw_arguments if call.ok else "{}"},
                    **{key: value for key, value in call.extra.items() if key in _ECHOED_CALL_FIELDS},
                }
                for call in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content or ""}


def _content_text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
        texts = [part.get("text") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
        return "".join(texts) if texts else None
    return None


def _stable_call_id(response_id: str, index: int, name: str, raw: str) -> str:
    digest = hashlib.sha256(f"{response_id}\x00{index}\x00{name}\x00{raw}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def _parse_tool_call(item: Any, index: int, response_id: str) -> ToolCall:
    if not isinstance(item, dict) or not isinstance(item.get("function"), dict):
        return ToolCall(
            id=_stable_call_id(response_id, index, "", ""),
            name="",
            error="The tool call is malformed: it has no function.",
        )
    function = item["function"]
    name = function.get("name") if isinstance(function.get("name"), str) else ""
    raw = function.get("arguments")
    extra = {key: item[key] for key in _ECHOED_CALL_FIELDS if key in item}
    arguments: dict[str, Any] = {}
    error: str | None = None
    if isinstance(raw, dict):  # some servers send an object instead of a JSON string
        arguments, raw = raw, json.dumps(raw, ensure_ascii=False)
    elif raw is None or (isinstance(raw, str) and not raw.strip()):
        raw = ""  # no arguments at all: an empty object
    elif isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            error = (
                f"The arguments of {name or 'the tool call'} are not valid JSON ({exc.msg} at position {exc.pos}); "
                "send a JSON object."
            )
        else:
            if isinstance(parsed, dict):
                arguments = parsed
            else:
                error = f"The arguments of {name or 'the tool call'} must be a JSON object."
    else:
        raw = json.dumps(raw)
        error = f"The arguments of {name or 'the tool call'} must be a JSON object."
    if not name:
        error = "The tool call has no function name."
    call_id = item.get("id") if isinstance(item.get("id"), str) and item.get("id") else None
    return ToolCall(
        id=call_id or _stable_call_id(response_id, index, name, raw),
        name=name,
        arguments=arguments if error is None else {},
        raw_arguments=raw,  # "" with no error becomes "{}" in ToolCall
        error=error,
        extra=extra,
    )


def _finish_reason(value: Any, *, has_tool_calls: bool) -> FinishReason:
    reason: FinishReason = _FINISH_REASONS.get(value, "other") if isinstance(value, str) else "stop"
    if has_tool_calls and reason == "stop":
        return "tool_calls"
    return reason


def _usage(raw: Any, *, messages: Sequence[Message], tools: Sequence[ToolSpec], message: Message) -> Usage:
    if isinstance(raw, dict):
        tokens_in, tokens_out = raw.get("prompt_tokens"), raw.get("completion_tokens")
        if _count(tokens_in) and _count(tokens_out):
            return Usage(tokens_in=tokens_in, tokens_out=tokens_out)
    return Usage(
        tokens_in=estimate_prompt_tokens(messages, tools),
        tokens_out=estimate_completion_tokens(message),
        estimated=True,
    )


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _request_id(response: httpx.Response) -> str | None:
    value = response.headers.get("x-request-id") or response.headers.get("request-id")
    return value if value and _SAFE_CODE.fullmatch(value) else None


def _provider_error(response: httpx.Response) -> tuple[str | None, set[str]]:
    """The provider's short error code and any ``google.rpc.ErrorInfo`` reasons; never its message."""
    try:
        body = response.json()
    except ValueError:
        return None, set()
    if isinstance(body, list) and body:  # Gemini's compatible endpoint wraps the error in a list
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, set()
    code = None
    for key in ("code", "status", "type"):
        value = error.get(key)
        if isinstance(value, str) and _SAFE_CODE.fullmatch(value):
            code = value
            break
    reasons = {
        detail["reason"]
        for detail in error.get("details") or []
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str)
    }
    return code, reasons
