"""A tenant: one connected Notion workspace (the user who installed the integration owns it)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import Field, field_validator

from shared.ids import validate_tenant_id
from shared.models._base import DomainModel, utcnow


class Tier(str, Enum):
    FREE = "free"
    PRO = "pro"
    TEAM = "team"


class ConnectionStatus(str, Enum):
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"  # a refresh failed: the user must sign in with Notion again
    DISCONNECTED = "disconnected"


class Tenant(DomainModel):
    tenant_id: str
    workspace_id: str
    workspace_name: str = ""
    workspace_icon: str | None = None
    bot_id: str
    owner: dict[str, Any] = Field(default_factory=dict)  # Notion's `owner` object (user or workspace)
    tier: Tier = Tier.FREE
    connection_status: ConnectionStatus = ConnectionStatus.CONNECTED
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @field_validator("tenant_id")
    @classmethod
    def _tenant_id(cls, value: str) -> str:
        return validate_tenant_id(value)

    @property
    def owner_user_id(self) -> str | None:
        user = self.owner.get("user") if isinstance(self.owner, dict) else None
        return user.get("id") if isinstance(user, dict) else None
