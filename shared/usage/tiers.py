"""The limits of each tier — the one place they are configured.

A tier's limits apply per tenant (one connected Notion workspace, i.e. its signed-in user):

* ``requests_per_minute``: authenticated API requests in a fixed one-minute window;
* ``llm_tokens_per_day``: LLM tokens (in + out) per UTC day, reserved before each call;
* ``plans_per_day``: daily-plan runs per UTC day.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.models import Tier

logger = logging.getLogger(__name__)

TIER_FIELD = "tier"  # on the tenant root document


@dataclass(frozen=True)
class TierLimits:
    requests_per_minute: int
    llm_tokens_per_day: int
    plans_per_day: int

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "llm_tokens_per_day", "plans_per_day"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"tier limit {name} must be a non-negative integer")


TIERS: Mapping[Tier, TierLimits] = {
    Tier.FREE: TierLimits(requests_per_minute=60, llm_tokens_per_day=50_000, plans_per_day=3),
    Tier.PRO: TierLimits(requests_per_minute=300, llm_tokens_per_day=1_000_000, plans_per_day=24),
    Tier.TEAM: TierLimits(requests_per_minute=1_200, llm_tokens_per_day=5_000_000, plans_per_day=100),
}


def tier_of(root: Mapping[str, Any] | None) -> Tier:
    """The tier recorded on a tenant root document (free when absent or unreadable)."""
    value = (root or {}).get(TIER_FIELD)
    if value is None:
        return Tier.FREE
    try:
        return Tier(value)
    except ValueError:
        # A bad value must not lock the tenant out nor grant more: fall back to the smallest tier.
        logger.warning("tenant root has an unknown tier; using free")
        return Tier.FREE
