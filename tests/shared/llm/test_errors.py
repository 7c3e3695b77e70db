"""The LLM error family: statuses, codes, Retry-After, and its place in shared.errors."""

from __future__ import annotations

import pytest

from shared.errors import InvalidRequest, UpstreamError
from shared.llm.errors import (
    InvalidLLMRequest,
    LLMAuthError,
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMRequestRejected,
    LLMUnavailable,
)


@pytest.mark.parametrize(
    "cls, status, code",
    [
        (LLMError, 502, "llm_error"),
        (LLMAuthError, 502, "llm_auth_error"),
        (LLMRequestRejected, 502, "llm_request_rejected"),
        (LLMBadResponse, 502, "llm_bad_response"),
        (LLMRateLimited, 503, "llm_rate_limited"),
        (LLMUnavailable, 503, "llm_unavailable"),
    ],
)
def test_family(cls, status, code):
    error = cls(provider_status=500, provider_code="x", provider_request_id="r")

    assert isinstance(error, LLMError) and isinstance(error, UpstreamError)
    assert (error.status, error.code) == (status, code)
    assert error.message == cls.default_message


def test_retry_after_defaults_and_headers():
    assert LLMRateLimited().retry_after == 60
    assert LLMUnavailable().retry_after == 30
    limited = LLMRateLimited(retry_after=2.4)
    assert limited.headers() == {"Retry-After": "2"} and limited.details() == {"retry_after": 2}
    assert LLMUnavailable(retry_after=0).retry_after == 1


def test_invalid_request_is_a_400_naming_the_field():
    error = InvalidLLMRequest(field="messages")

    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code, error.details()) == (400, "invalid_llm_request", {"field": "messages"})
