"""The exception hierarchy shared by every module, and its one mapping to HTTP.

Each module raises subclasses of :class:`AppError` (its own documented family, e.g.
``shared.store.errors``); ``shared.http`` turns any of them into the stable JSON body
``{"error": {"code", "message", "request_id"}}`` with the class's status. Messages are written for
the caller: they name the field that is wrong and never echo secrets, tokens or internals.

    AppError                      500 internal
    ├── InvalidRequest            400 invalid_request   (field=...)
    ├── Unauthenticated           401 unauthenticated
    ├── PermissionDenied          403 forbidden
    ├── NotFound                  404 not_found
    ├── Conflict                  409 conflict
    ├── PayloadTooLarge           413 payload_too_large
    ├── RateLimited               429 rate_limited      (retry_after seconds)
    ├── UpstreamError             502 upstream_error    (Notion, LLM, ... failed after retries)
    └── Unavailable               503 unavailable       (retry_after seconds)
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the platform raises on purpose."""

    status: int = 500
    code: str = "internal"
    default_message: str = "An internal error occurred."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        """Extra response headers this error carries (``Retry-After`` and the like)."""
        return {}

    def details(self) -> dict[str, object]:
        """Extra, safe-to-show members of the JSON error body."""
        return {}


class InvalidRequest(AppError):
    status = 400
    code = "invalid_request"
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, field: str | None = None, code: str | None = None) -> None:
        self.field = field
        super().__init__(message, code=code)

    def details(self) -> dict[str, object]:
        return {"field": self.field} if self.field else {}


class Unauthenticated(AppError):
    status = 401
    code = "unauthenticated"
    default_message = "Authentication is required."


class PermissionDenied(AppError):
    status = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(AppError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"
    default_message = "This method is not allowed here."


class Conflict(AppError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 60, code: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, code=code)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}


class UpstreamError(AppError):
    status = 502
    code = "upstream_error"
    default_message = "An upstream service failed."


class Unavailable(AppError):
    status = 503
    code = "unavailable"
    default_message = "The service is temporarily unavailable."

    def __init__(self, message: str | None = None, *, retry_after: int = 30, code: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, code=code)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
