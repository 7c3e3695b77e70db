"""The mapping of notion_client errors to the shared.notion.errors family."""

from __future__ import annotations

import httpx
import pytest
from notion_client.errors import RequestTimeoutError, build_request_error

from shared.errors import AppError, UpstreamError
from shared.notion.errors import (
    NotionAuthError,
    NotionConflict,
    NotionError,
    NotionNotFound,
    NotionPermissionDenied,
    NotionRateLimited,
    NotionUnavailable,
    NotionValidationError,
    from_client_error,
)
from tests.shared.notion.support import fixture, notion_error


def _error(status: int, body, headers=None):
    text = body if isinstance(body, str) else httpx.Response(status, json=body).text
    response = httpx.Response(status, text=text, headers=headers)
    return build_request_error(response, text)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "validation_error", NotionValidationError),
        (400, "invalid_request_url", NotionValidationError),
        (401, "unauthorized", NotionAuthError),
        (403, "restricted_resource", NotionPermissionDenied),
        (404, "object_not_found", NotionNotFound),
        (409, "conflict_error", NotionConflict),
        (429, "rate_limited", NotionRateLimited),
        (500, "internal_server_error", NotionUnavailable),
        (503, "service_unavailable", NotionUnavailable),
        (504, "gateway_timeout", NotionUnavailable),
    ],
)
def test_api_error_codes_map_to_the_family(status, code, expected):
    mapped = from_client_error(_error(status, notion_error(status, code, "msg")))
    assert type(mapped) is expected
    assert isinstance(mapped, NotionError) and isinstance(mapped, UpstreamError) and isinstance(mapped, AppError)
    assert mapped.notion_code == code and mapped.notion_status == status


def test_recorded_unauthorized_body_keeps_request_id_but_not_the_message_in_the_public_text():
    mapped = from_client_error(_error(401, fixture("error_unauthorized.json")))
    assert isinstance(mapped, NotionAuthError)
    assert mapped.request_id == fixture("error_unauthorized.json")["request_id"]
    assert mapped.notion_message == "API token is invalid."
    assert mapped.message == NotionAuthError.default_message


def test_unknown_bodies_map_by_status():
    assert type(from_client_error(_error(529, "overloaded"))) is NotionUnavailable
    assert type(from_client_error(_error(502, "<html>bad gateway</html>"))) is NotionUnavailable
    assert type(from_client_error(_error(404, "not json"))) is NotionNotFound
    assert type(from_client_error(_error(418, "teapot"))) is NotionError


def test_retry_after_is_carried_and_exposed_as_header():
    mapped = from_client_error(_error(429, notion_error(429, "rate_limited", "slow down"), {"Retry-After": "12"}))
    assert mapped.retry_after == 12
    assert mapped.headers() == {"Retry-After": "12"} and mapped.details() == {"retry_after": 12}
    assert mapped.status == 503


def test_timeouts_and_network_errors_are_unavailable():
    assert isinstance(from_client_error(RequestTimeoutError()), NotionUnavailable)
    assert isinstance(from_client_error(httpx.ConnectError("refused")), NotionUnavailable)
    with pytest.raises(TypeError):
        from_client_error(ValueError("not ours"))
