"""The tenant's Notion token pair, encrypted at rest, and the token provider with safe refresh.

The pair lives in one document, ``connection/notion``, as two AES-256-GCM envelopes
(:class:`shared.crypto.TokenCipher`, purpose ``notion-access`` / ``notion-refresh``), so a rotated
pair is replaced atomically by a single write. Nothing but ciphertext is stored.

Refresh (Notion rotates refresh tokens, so two refreshers racing would burn the pair): the
refresher takes the tenant's ``leases/notion-refresh`` lease, **re-reads** the pair, and refreshes
only if the access token is still the one Notion rejected; otherwise another instance already
did, and its new token is returned. A refused refresh marks the connection ``needs_reauth``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.connections.errors import NotConnected, OAuthInvalidGrant
from shared.connections.oauth_client import NotionOAuth
from shared.connections.tenants import TenantRepository
from shared.crypto import TokenCipher
from shared.locks import hold_lease
from shared.models import ConnectionStatus
from shared.notion.errors import NotionAuthError
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

TOKENS_PATH = "connection/notion"
ACCESS = "notion-access"
REFRESH = "notion-refresh"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str | None
    version: int

    def __repr__(self) -> str:
        return f"TokenPair(version={self.version})"


class TokenVault:
    def __init__(self, store: DocumentStore, cipher: TokenCipher) -> None:
        self.store = store
        self.cipher = cipher

    def sealed(self, access_token: str, refresh_token: str | None, *, tenant_id: str, version: int) -> dict:
        """The stored form of a pair: ciphertext only (for writing inside a caller's transaction)."""
        return {
            "access": self.cipher.encrypt(access_token, tenant_id=tenant_id, purpose=ACCESS),
            "refresh": self.cipher.encrypt(refresh_token, tenant_id=tenant_id, purpose=REFRESH) if refresh_token else None,
            "version": version,
            "updated_at": datetime.now(timezone.utc),
        }

    def save(self, access_token: str, refresh_token: str | None, *, tenant_id: str) -> None:
        current = self.store.get(TOKENS_PATH, tenant_id=tenant_id) or {}
        self.store.set(TOKENS_PATH, self.sealed(access_token, refresh_token, tenant_id=tenant_id,
                                                version=int(current.get("version", 0)) + 1), tenant_id=tenant_id)

    def load(self, *, tenant_id: str) -> TokenPair | None:
        data = self.store.get(TOKENS_PATH, tenant_id=tenant_id)
        if not data or not data.get("access"):
            return None
        return TokenPair(
            access_token=self.cipher.decrypt(data["access"], tenant_id=tenant_id, purpose=ACCESS),
            refresh_token=self.cipher.decrypt(data["refresh"], tenant_id=tenant_id, purpose=REFRESH) if data.get("refresh") else None,
            version=int(data.get("version", 0)),
        )

    def delete(self, *, tenant_id: str) -> None:
        self.store.delete(TOKENS_PATH, tenant_id=tenant_id)


class NotionTokenProvider:
    """The :class:`shared.notion.client.TokenProvider` backed by the vault, refreshing under a lease."""

    def __init__(self, vault: TokenVault, oauth: NotionOAuth, tenants: TenantRepository, *,
                 lease_ttl: timedelta = timedelta(seconds=30), lease_wait: timedelta = timedelta(seconds=20)) -> None:
        self.vault = vault
        self.oauth = oauth
        self.tenants = tenants
        self.lease_ttl = lease_ttl
        self.lease_wait = lease_wait

    async def get_token(self, tenant_id: str) -> str:
        pair = self.vault.load(tenant_id=tenant_id)
        if pair is None:
            raise NotConnected()
        return pair.access_token

    async def refresh_token(self, tenant_id: str, rejected_token: str) -> str:
        async with hold_lease(self.vault.store, "notion-refresh", tenant_id=tenant_id,
                              ttl=self.lease_ttl, wait=self.lease_wait):
            pair = self.vault.load(tenant_id=tenant_id)
            if pair is None:
                raise NotConnected()
            if pair.access_token != rejected_token:
                return pair.access_token  # another instance refreshed while we waited
            if not pair.refresh_token:
                self._needs_reauth(tenant_id)
                raise NotionAuthError(notion_code="unauthorized")
            try:
                fresh = await self.oauth.refresh(pair.refresh_token)
            except OAuthInvalidGrant:
                self._needs_reauth(tenant_id)
                raise NotionAuthError(notion_code="invalid_grant") from None
            self.vault.save(fresh.access_token, fresh.refresh_token or pair.refresh_token, tenant_id=tenant_id)
            logger.info("Notion token refreshed")
            return fresh.access_token

    async def ensure_active(self, tenant_id: str) -> str:
        """Introspect the stored token; refresh it if Notion says it is no longer active."""
        token = await self.get_token(tenant_id)
        if await self.oauth.introspect(token):
            return token
        return await self.refresh_token(tenant_id, token)

    def _needs_reauth(self, tenant_id: str) -> None:
        logger.warning("Notion refresh failed; the connection needs re-authorisation",
                       extra={"fields": {"event": "notion_refresh_failed"}})
        self.tenants.set_status(ConnectionStatus.NEEDS_REAUTH, tenant_id=tenant_id)
