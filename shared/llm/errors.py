"""Errors of the LLM port (``shared.llm``): every failure of a model call is one of these.

Adapters never let ``httpx`` exceptions or provider error bodies escape; callers handle one
documented family:

    UpstreamError (shared.errors)
    └── LLMError                   502 llm_error             base of the family
        ├── LLMAuthError           502 llm_auth_error        401/403: the provider refused our key
        │                                                    (operator configuration, not the user)
        ├── LLMRequestRejected     502 llm_request_rejected  other 4xx: the provider refused the
        │                                                    request (unknown model, context too
        │                                                    long, invalid schema)
        ├── LLMBadResponse         502 llm_bad_response      a 2xx whose body is not a usable chat
        │                                                    completion
        ├── LLMRateLimited         503 llm_rate_limited      429 after our retries (retry_after)
        └── LLMUnavailable         503 llm_unavailable       5xx, timeouts, network errors after
                                                             retries, or the provider account's
                                                             quota is exhausted (retry_after)

    InvalidRequest (shared.errors)
    └── InvalidLLMRequest          400 invalid_llm_request   the caller built an invalid request
                                                             (names the field)

Messages are fixed strings safe to show to a user. The provider's HTTP status, its short error
``type``/``code`` identifiers and its request id are kept as attributes for logs. The provider's
free-text error message is deliberately *not* kept: providers quote part of the API key in 401
messages and part of the prompt in 400 messages.

The tenant's own token quota is not part of this family: ``MeteredLLM`` lets the quota service's
``shared.errors.RateLimited`` (429) through unchanged.
"""

from __future__ import annotations

from shared.errors import InvalidRequest, UpstreamError


class LLMError(UpstreamError):
    """A call to the language model failed; base of the family."""

    code = "llm_error"
    default_message = "The language model could not answer."

    def __init__(
        self,
        message: str | None = None,
        *,
        provider_status: int | None = None,
        provider_code: str | None = None,
        provider_request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        self.provider_status = provider_status
        self.provider_code = provider_code
        self.provider_request_id = provider_request_id
        super().__init__(message, code=code)


class LLMAuthError(LLMError):
    """The provider rejected the configured API key (or it lacks access to the model)."""

    code = "llm_auth_error"
    default_message = "The language model provider rejected the configured credentials."


class LLMRequestRejected(LLMError):
    """The provider refused the request itself (4xx other than 401/403/429)."""

    code = "llm_request_rejected"
    default_message = "The language model provider rejected the request."


class LLMBadResponse(LLMError):
    """The provider answered 2xx with something that is not a usable chat completion."""

    code = "llm_bad_response"
    default_message = "The language model returned an unusable response."


class _RetryAfter(LLMError):
    status = 503
    _default_retry_after = 30

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kwargs) -> None:
        value = self._default_retry_after if retry_after is None else retry_after
        self.retry_after = max(1, int(round(value)))
        super().__init__(message, **kwargs)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}


class LLMRateLimited(_RetryAfter):
    """The provider kept answering 429 after our retries; ``retry_after`` is its last hint."""

    code = "llm_rate_limited"
    default_message = "The language model provider is rate limiting requests; try again later."
    _default_retry_after = 60


class LLMUnavailable(_RetryAfter):
    """The provider kept failing (5xx, timeouts, network) or its account quota is exhausted."""

    code = "llm_unavailable"
    default_message = "The language model is temporarily unavailable; try again later."


class InvalidLLMRequest(InvalidRequest):
    """The caller built a request the port cannot send (names the offending field)."""

    code = "invalid_llm_request"
    default_message = "The language model request is invalid."
