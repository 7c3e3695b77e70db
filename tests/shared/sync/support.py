"""Helpers of the sync tests: webhook fixtures, signing, a settable clock, a connected tenant."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from shared.connections.oauth_client import NotionTokenResponse
from shared.connections.tenants import TenantRepository
from shared.models import UserConfig
from shared.sync.signature import sign

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "notion_webhooks"

WORKSPACE_ID = "13950b26-c203-4f3b-b97d-93ec06319565"
TENANT_ID = "ws-13950b26c2034f3bb97d93ec06319565"
TASKS_DS = "1f6104cd-477e-8083-9c5e-000b2fcd241a"
ROUTINES_DS = "1f6104cd-477e-80c4-a1b2-000b2fcd2b2b"
OTHER_DS = "263104cd-477e-804b-8c32-000b2fcd241a"
PAGE_ID = "153104cd-477e-809d-8dc4-ff2d96ae3090"
TOKEN = "secret_test_verification_token_0123456789"


def event(name: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of a fixture, with top-level fields replaced."""
    payload = copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))
    payload.update(changes)
    return payload


def raw_fixture(name: str) -> bytes:
    """The fixture file's exact bytes (what Notion would have signed)."""
    return (FIXTURES / name).read_bytes()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def signed(payload: dict[str, Any] | bytes, token: str = TOKEN) -> tuple[bytes, str]:
    body = payload if isinstance(payload, bytes) else encode(payload)
    return body, sign(body, token)


class Clock:
    """A settable UTC clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 11, 3, 9, 0, 5, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def connect_tenant(tenants: TenantRepository, *, workspace_id: str = WORKSPACE_ID, tasks_ds: str | None = TASKS_DS,
                   routines_ds: str | None = ROUTINES_DS) -> str:
    """A connected tenant for ``workspace_id`` with its Tasks/Routines data sources selected."""
    token = NotionTokenResponse(access_token="unused", refresh_token=None, bot_id="bot-1", workspace_id=workspace_id,
                                workspace_name="Quantify Labs", workspace_icon=None, owner={"type": "workspace"},
                                duplicated_template_id=None)
    tenant, _ = tenants.upsert_from_oauth(token)
    tenants.save_config(UserConfig(tasks_data_source_id=tasks_ds, routines_data_source_id=routines_ds),
                        tenant_id=tenant.tenant_id)
    return tenant.tenant_id
