"""Errors of the Notion client (``shared.notion``), mapped from ``notion_client`` errors.

Every failure of a call to Notion surfaces as one of these, never as a ``notion_client`` or
``httpx`` exception, so callers handle one documented family:

    UpstreamError (shared.errors)
    └── NotionError                   502 notion_error           anything else Notion refused
        ├── NotionAuthError           502 notion_reauth_required the token was rejected even after a
        │                                                        refresh: the user must reconnect
        ├── NotionPermissionDenied    502 notion_forbidden       restricted_resource (403)
        ├── NotionNotFound            404 notion_not_found       object_not_found, or not shared
        ├── NotionValidationError     502 notion_validation_error  400 validation_error & co: our
        │                                                        request did not fit the schema
        ├── NotionConflict            409 notion_conflict        conflict_error (409)
        ├── NotionRateLimited         503 notion_rate_limited    429 after our retries (retry_after)
        └── NotionUnavailable         503 notion_unavailable     5xx, 529, timeouts, network errors
                                                                 after retries (retry_after)

    InvalidRequest (shared.errors)
    └── InvalidNotionId               400 invalid_notion_id      a caller passed a malformed id

Messages are fixed and safe to show; Notion's own message, code, HTTP status and request id are
kept as attributes (``notion_message``, ``notion_code``, ``notion_status``, ``request_id``) for
logs. None of them ever contains a token.
"""

from __future__ import annotations

import httpx
from notion_client.errors import HTTPResponseError, NotionClientErrorBase, RequestTimeoutError

from shared.errors import InvalidRequest, UpstreamError


class NotionError(UpstreamError):
    """A call to Notion failed; base of the family."""

    code = "notion_error"
    default_message = "Notion refused the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        notion_code: str | None = None,
        notion_status: int | None = None,
        notion_message: str | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        self.notion_code = notion_code
        self.notion_status = notion_status
        self.notion_message = notion_message
        self.request_id = request_id
        super().__init__(message, code=code)


class NotionAuthError(NotionError):
    """Notion rejected the tenant's token even after a refresh: the connection needs re-authorising."""

    code = "notion_reauth_required"
    default_message = "The Notion connection has expired; please reconnect Notion."


class NotionPermissionDenied(NotionError):
    code = "notion_forbidden"
    default_message = "The Notion integration is not allowed to do this."


class NotionNotFound(NotionError):
    status = 404
    code = "notion_not_found"
    default_message = "The Notion object was not found or is not shared with the integration."


class NotionValidationError(NotionError):
    code = "notion_validation_error"
    default_message = "Notion rejected the request as invalid."


class NotionConflict(NotionError):
    status = 409
    code = "notion_conflict"
    default_message = "Notion reported a conflicting edit; try again."


class _RetryAfterMixin:
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}


class NotionRateLimited(_RetryAfterMixin, NotionError):
    """Notion kept answering 429 after our retries; ``retry_after`` is its last ``Retry-After``."""

    status = 503
    code = "notion_rate_limited"
    default_message = "Notion is rate limiting this workspace; try again later."

    def __init__(self, message: str | None = None, *, retry_after: float = 60, **kwargs) -> None:
        self.retry_after = max(1, int(round(retry_after)))
        super().__init__(message, **kwargs)


class NotionUnavailable(_RetryAfterMixin, NotionError):
    """Notion kept failing (5xx, 529, timeouts, network) after our retries."""

    status = 503
    code = "notion_unavailable"
    default_message = "Notion is temporarily unavailable; try again later."

    def __init__(self, message: str | None = None, *, retry_after: float = 30, **kwargs) -> None:
        self.retry_after = max(1, int(round(retry_after)))
        super().__init__(message, **kwargs)


class InvalidNotionId(InvalidRequest):
    """A caller passed something that is not a Notion id (32 hex digits, dashes optional)."""

    code = "invalid_notion_id"
    default_message = "The Notion id is invalid."


_BY_CODE: dict[str, type[NotionError]] = {
    "unauthorized": NotionAuthError,
    "restricted_resource": NotionPermissionDenied,
    "object_not_found": NotionNotFound,
    "validation_error": NotionValidationError,
    "invalid_json": NotionValidationError,
    "invalid_request": NotionValidationError,
    "invalid_request_url": NotionValidationError,
    "conflict_error": NotionConflict,
    "rate_limited": NotionRateLimited,
    "internal_server_error": NotionUnavailable,
    "service_unavailable": NotionUnavailable,
    "gateway_timeout": NotionUnavailable,
}

_BY_STATUS: dict[int, type[NotionError]] = {
    400: NotionValidationError,
    401: NotionAuthError,
    403: NotionPermissionDenied,
    404: NotionNotFound,
    409: NotionConflict,
    429: NotionRateLimited,
}


def _retry_after_seconds(headers: httpx.Headers | None) -> float | None:
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date: the library's retry already honoured it; use our default


def from_client_error(error: Exception) -> NotionError:
    """Translate a ``notion_client`` (or transport) exception into this family."""
    if isinstance(error, HTTPResponseError):
        code = error.code.value if hasattr(error.code, "value") else str(error.code)
        cls = _BY_CODE.get(code) or _BY_STATUS.get(error.status)
        if cls is None:
            cls = NotionUnavailable if error.status >= 500 else NotionError
        kwargs: dict = dict(
            notion_code=code,
            notion_status=error.status,
            notion_message=str(error),
            request_id=error.request_id,
        )
        if issubclass(cls, (NotionRateLimited, NotionUnavailable)):
            retry_after = _retry_after_seconds(error.headers)
            if retry_after is not None:
                kwargs["retry_after"] = retry_after
        return cls(**kwargs)
    if isinstance(error, (RequestTimeoutError, httpx.TimeoutException)):
        return NotionUnavailable("Notion did not answer in time; try again later.", notion_code="timeout")
    if isinstance(error, httpx.TransportError):
        return NotionUnavailable(notion_code="network_error", notion_message=type(error).__name__)
    if isinstance(error, NotionClientErrorBase):
        code = getattr(error, "code", None)
        return NotionError(notion_code=getattr(code, "value", code), notion_message=str(error))
    raise TypeError(f"not a Notion client error: {type(error).__name__}")
