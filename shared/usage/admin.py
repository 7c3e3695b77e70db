"""Administration of a tenant's tier (the admin endpoint's only write)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.ids import validate_tenant_id
from shared.models import Tier
from shared.store.base import DocumentStore
from shared.usage.errors import UnknownTenant
from shared.usage.periods import Clock, utcnow
from shared.usage.tiers import TIER_FIELD, tier_of

logger = logging.getLogger(__name__)


class TierChange(BaseModel):
    """Body of POST /admin/tenants/{tenant_id}/tier."""

    model_config = ConfigDict(extra="forbid")

    tier: Tier


class TierChanged(BaseModel):
    tenant_id: str
    tier: Tier
    previous_tier: Tier


def change_tier(store: DocumentStore, tier: Tier, *, tenant_id: str, clock: Clock = utcnow) -> TierChanged:
    """Set the tenant's tier on its root document; :class:`UnknownTenant` (404) if there is no
    such tenant. Done in a transaction so a tenant deleted meanwhile is not brought back."""
    validate_tenant_id(tenant_id)
    tier = Tier(tier)

    def write(txn) -> Tier:
        root: dict[str, Any] | None = txn.get("")
        if not root or "workspace_id" not in root:
            raise UnknownTenant()
        txn.set("", {TIER_FIELD: tier.value, "updated_at": clock()}, merge=True)
        return tier_of(root)

    previous = store.transaction(write, tenant_id=tenant_id)
    logger.info("tenant tier changed", extra={"tier": tier.value, "previous_tier": previous.value})
    return TierChanged(tenant_id=tenant_id, tier=tier, previous_tier=previous)
