from __future__ import annotations

import pytest

from shared.errors import NotFound
from shared.ids import InvalidTenantId
from shared.models import Tier
from shared.usage.admin import change_tier
from tests.shared.usage.conftest import TENANT


def test_change_tier_updates_the_root_and_reports_the_previous_tier(clocked_store, clock):
    clocked_store.set("", {"tenant_id": TENANT, "workspace_id": "w", "bot_id": "b", "session_epoch": 3},
                      tenant_id=TENANT)
    changed = change_tier(clocked_store, Tier.PRO, tenant_id=TENANT, clock=clock)
    assert (changed.tenant_id, changed.tier, changed.previous_tier) == (TENANT, Tier.PRO, Tier.FREE)
    root = clocked_store.get("", tenant_id=TENANT)
    assert root["tier"] == "pro" and root["updated_at"] == clock() and root["session_epoch"] == 3
    assert change_tier(clocked_store, Tier.TEAM, tenant_id=TENANT, clock=clock).previous_tier is Tier.PRO


def test_unknown_tenants_are_404_and_not_created(store, clock):
    with pytest.raises(NotFound) as caught:
        change_tier(store, Tier.PRO, tenant_id="tenant-nobody", clock=clock)
    assert caught.value.status == 404
    assert store.get("", tenant_id="tenant-nobody") is None
    with pytest.raises(InvalidTenantId):
        change_tier(store, Tier.PRO, tenant_id="../x", clock=clock)
