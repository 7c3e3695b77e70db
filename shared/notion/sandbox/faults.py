"""Trouble on demand: injected errors and latency, an optional rate limit, and a request log.

Faults are queued through the admin API (``POST /__sandbox__/faults``) and consumed by the next
matching API requests: ``{"status": 429, "count": 2, "retry_after": 1}`` answers the next two
requests with Notion's 429 ``rate_limited`` body and a ``Retry-After`` header; 500, 502, 503, 504
and 529 get Notion's bodies for those statuses; ``{"latency_ms": 300, "count": 1}`` (no status)
only delays. ``path`` (a prefix such as ``/v1/data_sources``) and ``method`` narrow a fault.

The optional rate limit is a token bucket per workspace (``rate`` requests/s, ``burst``) answering
429 with ``Retry-After`` when exceeded, like Notion's per-integration budget. Every API request is
logged (method, path, workspace, status, time) so tests can count what reached "Notion".
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.notion.sandbox.shapes import SandboxError

_FAULT_BODIES = {
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: ("bad_gateway", "Notion encountered an issue while attempting to complete this request. Please try again."),
    503: ("service_unavailable", "Notion is unavailable. This can occur when the time to respond to a request takes longer than 60 seconds, the maximum request timeout. Please try again later."),
    504: ("gateway_timeout", "Notion timed out while attempting to complete this request. Please try again later."),
    529: ("service_overload", "Notion is overloaded. Please try again later."),
}
SUPPORTED_FAULT_STATUSES = frozenset(_FAULT_BODIES) | {400, 401, 404, 409}


@dataclass
class Fault:
    status: int | None = None
    count: int = 1
    retry_after: int | None = None
    latency_ms: int = 0
    path: str | None = None
    method: str | None = None

    def applies_to(self, method: str, path: str) -> bool:
        return (
            self.count > 0
            and (self.path is None or path.startswith(self.path))
            and (self.method is None or self.method.upper() == method.upper())
        )

    def error(self) -> SandboxError | None:
        if self.status is None:
            return None
        code, message = _FAULT_BODIES.get(
            self.status,
            {400: ("validation_error", "Injected validation error."), 401: ("unauthorized", "API token is invalid."),
             404: ("object_not_found", "Injected not found."), 409: ("conflict_error", "Conflict occurred while saving. Please try again.")}.get(self.status, ("internal_server_error", "Injected error.")),
        )
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return SandboxError(self.status, code, message, headers)


@dataclass
class RequestRecord:
    method: str
    path: str
    workspace_id: str | None
    status: int
    at: float  # time.monotonic() of arrival


@dataclass
class Faults:
    """Thread-safe fault queue, rate limiter and request log."""

    faults: list[Fault] = field(default_factory=list)
    log: list[RequestRecord] = field(default_factory=list)
    rate: float | None = None
    burst: int = 3
    clock: Any = time.monotonic
    _buckets: dict[str, float] = field(default_factory=dict)  # workspace -> theoretical arrival time
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, spec: dict[str, Any]) -> Fault:
        status = spec.get("status")
        if status is not None and status not in SUPPORTED_FAULT_STATUSES:
            raise ValueError(f"status must be one of {sorted(SUPPORTED_FAULT_STATUSES)}")
        fault = Fault(
            status=status,
            count=int(spec.get("count", 1)),
            retry_after=spec.get("retry_after", 1 if status == 429 else None),
            latency_ms=int(spec.get("latency_ms", 0)),
            path=spec.get("path"),
            method=spec.get("method"),
        )
        if fault.count < 1 or fault.latency_ms < 0:
            raise ValueError("count must be at least 1 and latency_ms not negative")
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self.faults if f.count > 0]

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request."""
        with self._lock:
            for fault in self.faults:
                if fault.applies_to(method, path):
                    fault.count -= 1
                    taken = Fault(**asdict(fault))
                    self.faults = [f for f in self.faults if f.count > 0]
                    return taken
        return None

    def set_rate_limit(self, rate: float | None, burst: int = 3) -> None:
        if rate is not None and (rate <= 0 or burst < 1):
            raise ValueError("rate must be positive and burst at least 1")
        with self._lock:
            self.rate, self.burst = rate, burst
            self._buckets.clear()

    def check_rate(self, workspace_id: str) -> SandboxError | None:
        """A 429 if this workspace is over its budget (the request is then not counted)."""
        with self._lock:
            if self.rate is None:
                return None
            interval = 1.0 / self.rate
            now = self.clock()
            tat = max(self._buckets.get(workspace_id, now), now)
            allowed_at = tat - (self.burst - 1) * interval
            if allowed_at > now:
                wait = max(1, math.ceil(allowed_at - now))
                return SandboxError(429, *_FAULT_BODIES[429], headers={"Retry-After": str(wait)})
            self._buckets[workspace_id] = tat + interval
            return None

    def record(self, method: str, path: str, workspace_id: str | None, status: int) -> None:
        with self._lock:
            self.log.append(RequestRecord(method, path, workspace_id, status, self.clock()))

    def requests(self, workspace_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(r) for r in self.log if workspace_id is None or r.workspace_id == workspace_id]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()
