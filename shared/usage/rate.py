"""Requests per minute: a fixed-window counter per tenant.

Each UTC minute has its own counter document ``rate_windows/{YYYYMMDDHHMM}`` (so an expired window
is never reused) carrying ``expires_at`` one minute after the window ends, for a TTL policy. A hit
increments atomically and then reads the counter back: the value read is at least this request's
own position, so admitting only when it is within the limit never lets more than ``limit``
requests through (under a burst it may refuse a few that would have fit, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.store.base import EXPIRES_AT, DocumentStore
from shared.usage.periods import ONE_MINUTE, Clock, minute_start, utcnow

WINDOWS = "rate_windows"
HITS = "requests"


@dataclass(frozen=True)
class WindowCount:
    count: int
    window_end: datetime


class MinuteWindows:
    def __init__(self, store: DocumentStore, *, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock

    @staticmethod
    def _path(start: datetime) -> str:
        return f"{WINDOWS}/{start:%Y%m%d%H%M}"

    def hit(self, *, tenant_id: str, now: datetime | None = None) -> WindowCount:
        """Count one request in the current window; return the window's count after it."""
        start = minute_start(now or self.clock())
        end = start + ONE_MINUTE
        path = self._path(start)
        self.store.increment(path, {HITS: 1}, tenant_id=tenant_id, extra={EXPIRES_AT: end + ONE_MINUTE})
        document = self.store.get(path, tenant_id=tenant_id)
        # Absent only if the store's clock is already past the window's expiry: count just this one.
        count = int(document.get(HITS, 1)) if document else 1
        return WindowCount(count=count, window_end=end)

    def current(self, *, tenant_id: str, now: datetime | None = None) -> WindowCount:
        """The current window's count, without counting."""
        start = minute_start(now or self.clock())
        document = self.store.get(self._path(start), tenant_id=tenant_id)
        return WindowCount(count=int(document.get(HITS, 0)) if document else 0, window_end=start + ONE_MINUTE)
