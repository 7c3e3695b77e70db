"""The tenant record (``users/{tenant}``) and its configuration (``config/main``).

The root document holds the :class:`~shared.models.Tenant` fields plus the fields the named
cross-tenant queries use: ``workspace_id`` (routing webhooks), ``connection_status`` (listing
connected tenants) and ``next_plan_at`` (the planning dispatcher's indexed query).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for typing: the webhook's cold start must not import authlib
    from shared.connections.oauth_client import NotionTokenResponse
from shared.ids import tenant_id_for_workspace
from shared.models import ConnectionStatus, Tenant, UserConfig
from shared.store.base import DocumentStore

CONFIG_PATH = "config/main"
_TENANT_FIELDS = set(Tenant.model_fields)


class TenantRepository:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def get(self, *, tenant_id: str) -> Tenant | None:
        data = self.store.get("", tenant_id=tenant_id)
        if not data or "workspace_id" not in data:
            return None
        return Tenant.model_validate({k: v for k, v in data.items() if k in _TENANT_FIELDS})

    def root(self, *, tenant_id: str) -> dict[str, Any] | None:
        return self.store.get("", tenant_id=tenant_id)

    def upsert_from_oauth(self, token: "NotionTokenResponse", *,
                          also_write: dict[str, dict[str, Any]] | None = None) -> tuple[Tenant, bool]:
        """Create the tenant of the token's workspace, or update it on re-authorisation, writing
        ``also_write`` (path -> document, e.g. the sealed token pair) in the same transaction.

        Returns ``(tenant, created)``. Keeps ``created_at``, ``tier`` and every other field of an
        existing tenant; a reconnect sets the status back to connected."""
        tenant_id = tenant_id_for_workspace(token.workspace_id)
        now = datetime.now(timezone.utc)

        def write(txn) -> tuple[Tenant, bool]:
            existing = txn.get("")
            created = not existing or "workspace_id" not in existing
            base = {k: v for k, v in (existing or {}).items() if k in _TENANT_FIELDS}
            tenant = Tenant.model_validate({
                **base,
                "tenant_id": tenant_id,
                "workspace_id": token.workspace_id,
                "workspace_name": token.workspace_name,
                "workspace_icon": token.workspace_icon,
                "bot_id": token.bot_id,
                "owner": token.owner,
                "connection_status": ConnectionStatus.CONNECTED,
                "created_at": base.get("created_at", now),
                "updated_at": now,
            })
            txn.set("", tenant.model_dump(mode="python"), merge=True)
            for path, document in (also_write or {}).items():
                txn.set(path, document)
            return tenant, created

        return self.store.transaction(write, tenant_id=tenant_id)

    def set_status(self, status: ConnectionStatus, *, tenant_id: str) -> None:
        self.store.set("", {"connection_status": status.value, "updated_at": datetime.now(timezone.utc)},
                       tenant_id=tenant_id, merge=True)

    def get_config(self, *, tenant_id: str) -> UserConfig:
        data = self.store.get(CONFIG_PATH, tenant_id=tenant_id)
        return UserConfig.model_validate(data) if data else UserConfig()

    def save_config(self, config: UserConfig, *, tenant_id: str) -> None:
        self.store.set(CONFIG_PATH, config.model_dump(mode="json"), tenant_id=tenant_id)
