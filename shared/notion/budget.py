"""A per-tenant request budget: an async token bucket keyed by tenant id.

Notion allows each integration about 3 requests per second per workspace (with short bursts) and
answers 429 beyond that. Every HTTP attempt to Notion, retries included, first takes a slot from
its tenant's bucket, so one busy tenant cannot use up another's budget and a process never sends
faster than the budget allows. A 429 or 529 *pauses* the tenant's bucket for the ``Retry-After``
delay, so every concurrent call of that tenant waits, not only the one that was refused.

The bucket is the generic cell rate algorithm: each request reserves the next free slot
synchronously (no ``await`` between reading and writing the state, so concurrent tasks never
reserve the same slot) and then sleeps until it. The clock and the sleep are injectable so tests
run on fake time.

The budget is per process: separate function instances each keep their own, and the retries on 429
cover what they cannot coordinate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Idle buckets are forgotten once there are this many, so a long-lived process serving many tenants
# does not grow without bound.
_PRUNE_ABOVE = 1024


@dataclass
class _Bucket:
    tat: float  # theoretical arrival time of the next request at the sustained rate
    blocked_until: float = 0.0  # no request before this instant (set by a Retry-After)


class TenantRateLimiter:
    """``rate`` requests per second per key, with bursts of up to ``burst`` requests."""

    def __init__(
        self,
        *,
        rate: float = 3.0,
        burst: int = 3,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._interval = 1.0 / self.rate
        self._tolerance = (self.burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def reserve(self, key: str) -> float:
        """Reserve ``key``'s next slot; return how many seconds to wait for it (0 if now)."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._prune(now)
            bucket = self._buckets[key] = _Bucket(tat=now)
        start = max(now, bucket.tat - self._tolerance, bucket.blocked_until)
        bucket.tat = max(bucket.tat, start) + self._interval
        return start - now

    async def acquire(self, key: str) -> None:
        """Wait until ``key`` may send one more request."""
        delay = self.reserve(key)
        if delay > 0:
            await self._sleep(delay)

    def pause(self, key: str, seconds: float) -> None:
        """Let no request of ``key`` start during the next ``seconds`` (a ``Retry-After``)."""
        if seconds <= 0:
            return
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(tat=now))
        bucket.blocked_until = max(bucket.blocked_until, now + seconds)

    def _prune(self, now: float) -> None:
        if len(self._buckets) < _PRUNE_ABOVE:
            return
        idle = [k for k, b in self._buckets.items() if b.tat <= now and b.blocked_until <= now]
        for key in idle:
            del self._buckets[key]
