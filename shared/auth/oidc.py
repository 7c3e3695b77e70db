"""Who may call the task and scheduler endpoints: Google-signed OIDC tokens of our service account.

In ``gcp``, Cloud Tasks and Cloud Scheduler call the functions with ``Authorization: Bearer <ID
token>`` minted for the configured service account. :func:`verify_google_oidc` checks the token's
RS256 signature against Google's published certificates, its expiry, its audience and its issuer,
then that it names the expected, verified service account email. Anybody with a Google account can
mint an ID token for any audience, so the email check is what makes the caller ours.
:func:`require_task_caller` is what a task/scheduler route calls: in ``local`` it only checks that
the request carries the X-CloudTasks-* or X-CloudScheduler headers the local dispatcher and
scheduler send; in ``gcp`` it verifies the token for the function's URL.

Errors::

    Unauthenticated (401)    oidc_invalid     no/malformed/expired/foreign token, wrong audience
    PermissionDenied (403)   oidc_forbidden   a valid token of another or unverified account
    Unavailable (503)        oidc_certs       Google's certificates could not be fetched
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import google.auth.exceptions
import google.auth.transport
from google.oauth2 import id_token

from shared.errors import PermissionDenied, Unauthenticated, Unavailable

if TYPE_CHECKING:
    from shared.config import Settings

logger = logging.getLogger(__name__)

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
CLOCK_SKEW_SECONDS = 10


class OidcInvalid(Unauthenticated):
    code = "oidc_invalid"
    default_message = "A valid Google-signed bearer token is required."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class OidcForbidden(PermissionDenied):
    code = "oidc_forbidden"
    default_message = "This caller may not run tasks here."


class OidcCertsUnavailable(Unavailable):
    code = "oidc_certs"
    default_message = "The token signing keys could not be fetched; try again."


class CachingRequest:
    """A google-auth transport request that keeps successful GETs (the certificate list) for their
    ``Cache-Control: max-age`` (bounded), so not every task delivery fetches Google's certs."""

    def __init__(
        self,
        inner: google.auth.transport.Request,
        *,
        default_ttl: float = 300.0,
        max_ttl: float = 6 * 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._clock = clock
        self._cache: dict[str, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **kwargs: Any):
        if method != "GET" or body is not None:
            return self._inner(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and self._clock() < cached[1]:
                return cached[0]
        response = self._inner(url, method=method, headers=headers, timeout=timeout, **kwargs)
        if response.status == 200:
            with self._lock:
                self._cache[url] = (response, self._clock() + self._ttl(response.headers))
        return response

    def _ttl(self, headers: Mapping[str, str]) -> float:
        control = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
        match = re.search(r"max-age=(\d+)", control)
        return min(self._max_ttl, float(match.group(1))) if match else self._default_ttl


_default_request: CachingRequest | None = None
_default_lock = threading.Lock()


def default_request() -> CachingRequest:
    """The process-wide caching transport (requests-based) used when none is given."""
    global _default_request
    with _default_lock:
        if _default_request is None:
            from google.auth.transport.requests import Request

            _default_request = CachingRequest(Request())
        return _default_request


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts as well as Werkzeug headers."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _reason(exc: Exception) -> str:
    # google-auth's messages can quote the token itself: log a category, never the message.
    text = str(exc).lower()
    for word in ("expired", "too early", "audience", "signature", "segments", "certificate", "kid"):
        if word in text:
            return word
    return type(exc).__name__


def verify_google_oidc(
    request_headers: Mapping[str, str],
    *,
    audience: str | Sequence[str],
    expected_service_account: str | None,
    request: google.auth.transport.Request | None = None,
    certs_url: str = GOOGLE_CERTS_URL,
) -> Mapping[str, Any]:
    """Verify the request's ``Authorization: Bearer`` Google ID token; return its claims.

    ``audience`` may list several accepted audiences. With ``expected_service_account`` set the
    token must name that email and have ``email_verified``; callers in production always set it."""
    authorization = _header(request_headers, "Authorization")
    if not authorization:
        raise OidcInvalid("A Google-signed bearer token is required.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise OidcInvalid("The Authorization header must be a Bearer token.")
    audiences = [audience] if isinstance(audience, str) else list(audience)
    try:
        claims = id_token.verify_token(
            token,
            request or default_request(),
            audience=audiences,
            certs_url=certs_url,
            clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
        )
    except google.auth.exceptions.TransportError as exc:
        logger.warning("fetching Google's token certificates failed: %s", type(exc).__name__)
        raise OidcCertsUnavailable() from None
    except (ValueError, google.auth.exceptions.GoogleAuthError) as exc:
        logger.info("OIDC token refused: %s", _reason(exc))
        raise OidcInvalid("The bearer token is invalid, expired or not meant for this service.") from None
    if claims.get("iss") not in GOOGLE_ISSUERS:
        logger.info("OIDC token refused: issuer")
        raise OidcInvalid("The bearer token was not issued by Google.")
    if expected_service_account is not None:
        email = claims.get("email")
        if not isinstance(email, str) or email.lower() != expected_service_account.lower():
            logger.warning("OIDC token of an unexpected account refused")
            raise OidcForbidden("This account may not run tasks here.")
        if claims.get("email_verified") is not True:
            raise OidcForbidden("The token's email is not verified.")
    return claims


@dataclass(frozen=True)
class TaskCaller:
    """Who called a task/scheduler endpoint, from the headers (and the token in ``gcp``)."""

    source: Literal["cloud-tasks", "cloud-scheduler", "service-account"]
    task_name: str | None = None
    queue_name: str | None = None
    retry_count: int = 0
    execution_count: int = 0
    job_name: str | None = None
    email: str | None = None  # the verified service account (gcp only)


def _caller_from_headers(headers: Mapping[str, str]) -> TaskCaller | None:
    task_name = _header(headers, "X-CloudTasks-TaskName")
    if task_name:
        return TaskCaller(
            source="cloud-tasks",
            task_name=task_name,
            queue_name=_header(headers, "X-CloudTasks-QueueName"),
            retry_count=_int(_header(headers, "X-CloudTasks-TaskRetryCount")),
            execution_count=_int(_header(headers, "X-CloudTasks-TaskExecutionCount")),
        )
    if (_header(headers, "X-CloudScheduler") or "").lower() == "true":
        return TaskCaller(source="cloud-scheduler", job_name=_header(headers, "X-CloudScheduler-JobName"))
    return None


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def require_task_caller(
    request: Any,
    settings: "Settings",
    *,
    function: str,
    http_request: google.auth.transport.Request | None = None,
    certs_url: str = GOOGLE_CERTS_URL,
) -> TaskCaller:
    """Admit only Cloud Tasks / Cloud Scheduler to a route of ``function``; return who called.

    ``local``: the X-CloudTasks-TaskName or ``X-CloudScheduler: true`` header must be present.
    ``gcp``: a Google ID token of ``settings.tasks_service_account`` whose audience is the
    function's URL, or that URL plus the request path (Cloud Tasks' default audience is the full
    target URL; the Scheduler jobs use the target URL too)."""
    headers = request.headers
    caller = _caller_from_headers(headers)
    if settings.profile != "gcp":
        if caller is None:
            raise OidcInvalid("Only Cloud Tasks or Cloud Scheduler may call this endpoint.")
        return caller
    expected = settings.tasks_service_account.strip()
    if not expected:
        # Without an expected account any Google account could mint a valid token: fail closed.
        logger.error("PLANNER_TASKS_SERVICE_ACCOUNT is not set; refusing task calls")
        raise OidcForbidden("Task calls are refused: no task service account is configured.")
    base = settings.function_url(function)
    audiences = [base]
    path = getattr(request, "path", None)
    if isinstance(path, str) and path.startswith("/"):
        audiences.append(base + path)
    claims = verify_google_oidc(
        headers, audience=audiences, expected_service_account=expected, request=http_request, certs_url=certs_url
    )
    caller = caller or TaskCaller(source="service-account")
    return TaskCaller(**{**caller.__dict__, "email": claims.get("email")})
