"""Fixtures for the usage tests: an injected clock shared by the service and the store (so expiry
decisions agree), small tier limits, and a helper that starts threads together.

The ``store`` / ``store_factory`` fixtures (SQLite and the Firestore emulator) come from
tests/shared/conftest.py.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from shared.models import Tier
from shared.usage.tiers import TierLimits

TENANT = "tenant-a"
JOIN_TIMEOUT = 120  # a safety net against hangs, not a speed assertion

SMALL_TIERS = {
    Tier.FREE: TierLimits(requests_per_minute=5, llm_tokens_per_day=1_000, plans_per_day=2),
    Tier.PRO: TierLimits(requests_per_minute=50, llm_tokens_per_day=10_000, plans_per_day=20),
    Tier.TEAM: TierLimits(requests_per_minute=500, llm_tokens_per_day=100_000, plans_per_day=200),
}


class FakeClock:
    """A settable UTC clock."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 14, 12, 0, 30, tzinfo=timezone.utc))


@pytest.fixture
def clocked_store(store_factory, clock):
    return store_factory(clock=clock)


def run_in_threads(count: int, target) -> list:
    """Run ``target(index)`` on ``count`` threads released together; return their results."""
    barrier = threading.Barrier(count)

    def start(index: int):
        barrier.wait(timeout=JOIN_TIMEOUT)
        return target(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start, index) for index in range(count)]
        return [future.result(timeout=JOIN_TIMEOUT) for future in futures]
