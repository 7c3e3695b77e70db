"""Sentry initialisation from settings, with tokens, secrets and personal data scrubbed.

Sentry is enabled only when ``PLANNER_SENTRY_DSN`` is set. ``before_send`` walks the whole event
(request headers, cookies, bodies, breadcrumbs, stack-frame variables, exception messages) and
replaces anything that is a credential by name (authorization, cookie, token, secret, code, state,
password, key) or by shape (Notion tokens, bearer tokens, JWTs), so no token reaches Sentry even
when it sits in a local variable of the failing frame.
"""

from __future__ import annotations

import re
from typing import Any

from shared.logs import scrub

_SENSITIVE_KEY = re.compile(
    r"(authorization|cookie|token|secret|password|passwd|api[_-]?key|kek|dek|signature|^code$|^state$|"
    r"refresh|access|credential|email|session)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def _scrub_value(value: Any, depth: int = 0) -> Any:
    if depth > 12:
        return REDACTED
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and _SENSITIVE_KEY.search(k) else _scrub_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        # Header lists come as [[name, value], ...]
        if all(isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str) for item in value):
            return [[k, REDACTED if _SENSITIVE_KEY.search(k) else _scrub_value(v, depth + 1)] for k, v in value]
        return [_scrub_value(item, depth + 1) for item in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def scrub_event(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """Sentry ``before_send`` / ``before_send_transaction`` hook."""
    event = _scrub_value(event)
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request["data"] = REDACTED if request.get("data") else request.get("data")
        if isinstance(request.get("query_string"), str) and request["query_string"]:
            request["query_string"] = REDACTED
    event.pop("user", None)
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    return _scrub_value(crumb)


def init_sentry(settings: Any, *, function: str) -> bool:
    """Initialise sentry-sdk if a DSN is configured; return whether it was."""
    dsn = settings.sentry_dsn.get_secret_value()
    if not dsn:
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        release=settings.release,
        environment=settings.environment,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=True,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        default_integrations=True,
        traces_sample_rate=0.0,
    )
    sentry_sdk.set_tag("function", function)
    return True
