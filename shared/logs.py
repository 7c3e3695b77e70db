"""Structured JSON logs in Cloud Logging's format, carrying the request's trace id.

Cloud Functions ship each stdout line to Cloud Logging; a line that is a JSON object becomes a
structured entry whose ``severity``, ``message``, ``logging.googleapis.com/trace`` and
``httpRequest`` fields are understood natively. The request context (trace, span, request id,
function, hashed tenant) lives in context variables set by ``shared.web`` so that every log line a
request produces carries it without handlers passing it around.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}

# Values that look like credentials are masked even if someone logs them by mistake.
_SECRET_PATTERNS = re.compile(
    r"(secret_[A-Za-z0-9]{10,}|ntn_[A-Za-z0-9]{10,}|Bearer\s+[A-Za-z0-9._~+/=-]+|"
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"
)


@dataclass(frozen=True)
class LogContext:
    trace_id: str | None = None
    span_id: str | None = None
    sampled: bool = False
    request_id: str | None = None
    function: str | None = None
    tenant_hash: str | None = None


_context: contextvars.ContextVar[LogContext] = contextvars.ContextVar("log_context", default=LogContext())


def current_context() -> LogContext:
    return _context.get()


def bind(**fields: Any) -> contextvars.Token[LogContext]:
    """Add fields to the current log context; returns a token for :func:`reset`."""
    return _context.set(replace(_context.get(), **fields))


def reset(token: contextvars.Token[LogContext]) -> None:
    _context.reset(token)


def hash_tenant(tenant_id: str) -> str:
    """Tenants appear in logs only hashed (a stable, non-reversible 12-hex-digit label)."""
    return hashlib.sha256(f"tenant:{tenant_id}".encode()).hexdigest()[:12]


def bind_tenant(tenant_id: str) -> None:
    bind(tenant_hash=hash_tenant(tenant_id))


def parse_trace_header(headers: Any) -> tuple[str | None, str | None, bool]:
    """(trace_id, span_id, sampled) from ``X-Cloud-Trace-Context`` or W3C ``traceparent``."""
    raw = headers.get("X-Cloud-Trace-Context") if headers else None
    if raw:
        match = re.fullmatch(r"([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?", raw.strip())
        if match:
            return match.group(1).lower(), match.group(2), match.group(3) == "1"
    raw = headers.get("traceparent") if headers else None
    if raw:
        match = re.fullmatch(r"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})", raw.strip())
        if match:
            return match.group(1), str(int(match.group(2), 16)), int(match.group(3), 16) & 1 == 1
    return None, None, False


# OAuth codes and states travel in query strings, which end up in reprs of requests and URLs.
_SECRET_QUERY = re.compile(r"([?&](?:code|state|token|access_token|refresh_token|client_secret)=)[^&'\"\s]+", re.IGNORECASE)


# Tenant ids (``ws-`` + the workspace id) name a customer: logs show them only hashed, the same
# label the request context carries, so a message that names a tenant stays correlatable.
_TENANT_ID = re.compile(r"\bws-[0-9a-f]{32}\b")


def scrub(text: str) -> str:
    text = _SECRET_QUERY.sub(r"\1[redacted]", _SECRET_PATTERNS.sub("[redacted]", text))
    return _TENANT_ID.sub(lambda match: "tenant:" + hash_tenant(match.group(0)), text)


class CloudLoggingFormatter(logging.Formatter):
    """One JSON object per line, with Cloud Logging's special fields."""

    def __init__(self, project: str = "") -> None:
        super().__init__()
        self.project = project

    def format(self, record: logging.LogRecord) -> str:
        ctx = _context.get()
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": scrub(record.getMessage()),
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "logger": record.name,
        }
        if record.exc_info:
            entry["message"] += "\n" + scrub(self.formatException(record.exc_info))
        if ctx.trace_id:
            entry["logging.googleapis.com/trace"] = (
                f"projects/{self.project}/traces/{ctx.trace_id}" if self.project else ctx.trace_id
            )
            entry["logging.googleapis.com/trace_sampled"] = ctx.sampled
        if ctx.span_id:
            entry["logging.googleapis.com/spanId"] = ctx.span_id
        labels = {k: v for k, v in (("request_id", ctx.request_id), ("function", ctx.function),
                                    ("tenant", ctx.tenant_hash)) if v}
        if labels:
            entry["logging.googleapis.com/labels"] = labels
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                entry[key] = value
        return json.dumps(entry, default=str, ensure_ascii=False)


_configured = False


def configure_logging(*, level: str = "INFO", project: str = "", stream: Any = None) -> None:
    """Install the JSON formatter on the root logger (idempotent; once per cold start)."""
    global _configured
    root = logging.getLogger()
    if _configured and stream is None:
        root.setLevel(level)
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(project))
    for existing in list(root.handlers):
        if getattr(existing, "_planner", False):
            root.removeHandler(existing)
    handler._planner = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    _configured = True


def log_fields(**fields: Any) -> dict[str, Any]:
    """``logger.info("msg", extra=log_fields(a=1))`` adds ``a`` to the JSON entry."""
    return {"fields": fields}
