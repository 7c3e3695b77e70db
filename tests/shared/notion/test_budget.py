"""TenantRateLimiter on a fake clock."""

from __future__ import annotations

import pytest

from shared.notion.budget import TenantRateLimiter
from tests.shared.notion.support import FakeClock


def test_burst_then_sustained_rate():
    clock = FakeClock()
    limiter = TenantRateLimiter(rate=2, burst=2, clock=clock)
    assert [limiter.reserve("t") for _ in range(5)] == pytest.approx([0, 0, 0.5, 1.0, 1.5])


def test_tokens_come_back_while_idle_but_never_beyond_the_burst():
    clock = FakeClock()
    limiter = TenantRateLimiter(rate=1, burst=3, clock=clock)
    for _ in range(3):
        limiter.reserve("t")
    clock.now = 100.0
    assert [limiter.reserve("t") for _ in range(4)] == pytest.approx([0, 0, 0, 1.0])


def test_pause_blocks_the_key_until_the_deadline():
    clock = FakeClock()
    limiter = TenantRateLimiter(rate=3, burst=3, clock=clock)
    limiter.pause("t", 4.0)
    assert limiter.reserve("t") == pytest.approx(4.0)
    assert limiter.reserve("other") == 0.0


async def test_acquire_sleeps_through_the_injected_sleep():
    clock = FakeClock()
    limiter = TenantRateLimiter(rate=1, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await limiter.acquire("t")
    assert clock.sleeps == [1.0, 1.0] and clock.now == 2.0


def test_rejects_nonsense_settings():
    with pytest.raises(ValueError):
        TenantRateLimiter(rate=0)
    with pytest.raises(ValueError):
        TenantRateLimiter(burst=0)


def test_gateways_built_from_settings_share_the_process_budget():
    from shared.config import Settings
    from shared.notion.client import NotionGateway

    class Tokens:
        async def get_token(self, tenant_id):
            return "t"

        async def refresh_token(self, tenant_id, rejected_token):
            return "t"

    settings = Settings()
    first = NotionGateway.from_settings(settings, token_provider=Tokens())
    second = NotionGateway.from_settings(settings, token_provider=Tokens())
    assert first.limiter is second.limiter
    assert first.limiter.rate == settings.notion_requests_per_second
