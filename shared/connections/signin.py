"""The flows behind the oauth function: sign in with Notion, disconnect, export, delete.

Sign-in is an OAuth authorization-code flow whose ``state`` is signed, expires after ten minutes,
is bound to a random nonce cookie set on this browser (so a state lured from another browser
fails: login CSRF), and is single-use (consumed in the store before the code is exchanged: a
replayed callback fails). Everything the callback writes — the tenant record and the encrypted
token pair — is written in one transaction after the exchange succeeded, so a refused consent, a
bad state or a failed exchange changes nothing a user could see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from shared.auth.csrf import consume_oauth_state, new_browser_nonce, oauth_nonce_cookie
from shared.auth.sessions import DEFAULT_TTL, read_session_epoch, revoke_all_sessions
from shared.blobs.base import BlobStore
from shared.connections.errors import AccessDenied
from shared.connections.services import ConnectionServices
from shared.connections.tokens import TOKENS_PATH
from shared.crypto.datakey import DATA_KEY_PATH
from shared.ids import tenant_id_for_workspace
from shared.models import ConnectionStatus, Tenant

logger = logging.getLogger(__name__)

# Documents that are credentials or bookkeeping, not the user's data: left out of exports.
_NOT_EXPORTED_PREFIXES = (TOKENS_PATH, DATA_KEY_PATH, "leases/", "idempotency/")


@dataclass(frozen=True)
class SignInStart:
    authorize_url: str
    nonce_cookie: str  # Set-Cookie value binding the state to this browser


@dataclass(frozen=True)
class SignInResult:
    tenant: Tenant
    created: bool
    session_token: str
    session_ttl: timedelta


class ConnectionFlows:
    def __init__(self, services: ConnectionServices) -> None:
        self.services = services
        self.settings = services.settings

    @property
    def redirect_uri(self) -> str:
        return self.settings.function_url("oauth") + "/oauth/callback"

    @property
    def secure_cookies(self) -> bool:
        return self.settings.profile == "gcp"

    # --- sign in -------------------------------------------------------------------------------
    def start(self) -> SignInStart:
        nonce = new_browser_nonce()
        state = self.services.csrf.new_oauth_state(nonce)
        return SignInStart(
            authorize_url=self.services.oauth.authorize_url(state=state, redirect_uri=self.redirect_uri),
            nonce_cookie=oauth_nonce_cookie(nonce, secure=self.secure_cookies),
        )

    async def callback(self, *, code: str | None, state: str | None, error: str | None,
                       nonce_cookie: str | None) -> SignInResult:
        verified = self.services.csrf.verify_oauth_state(state, nonce_cookie)
        if error:
            raise AccessDenied("Notion access was not granted, so nothing was connected.")
        if not code:
            raise AccessDenied("Notion did not return an authorisation code.", field="code")
        consume_oauth_state(self.services.backends.documents, verified)
        token = await self.services.oauth.exchange_code(code, redirect_uri=self.redirect_uri)
        tenant_id = tenant_id_for_workspace(token.workspace_id)
        store = self.services.backends.documents
        previous = store.get(TOKENS_PATH, tenant_id=tenant_id) or {}
        sealed = self.services.vault.sealed(token.access_token, token.refresh_token, tenant_id=tenant_id,
                                            version=int(previous.get("version", 0)) + 1)
        tenant, created = self.services.tenants.upsert_from_oauth(token, also_write={TOKENS_PATH: sealed})
        epoch = read_session_epoch(store, tenant_id=tenant_id) or 0
        session = self.services.sessions.issue(tenant_id, ttl=DEFAULT_TTL, epoch=epoch)
        logger.info("tenant connected", extra={"fields": {"event": "tenant_connected", "created": created}})
        return SignInResult(tenant=tenant, created=created, session_token=session, session_ttl=DEFAULT_TTL)

    # --- disconnect ----------------------------------------------------------------------------
    async def disconnect(self, *, tenant_id: str) -> dict[str, Any]:
        """Revoke at Notion, forget the tokens, end every session. Idempotent."""
        revoked = await self._revoke(tenant_id)
        self.services.vault.delete(tenant_id=tenant_id)
        self.services.tenants.set_status(ConnectionStatus.DISCONNECTED, tenant_id=tenant_id)
        revoke_all_sessions(self.services.backends.documents, tenant_id=tenant_id)
        return {"disconnected": True, "revoked_at_notion": revoked}

    async def _revoke(self, tenant_id: str) -> bool:
        try:
            pair = self.services.vault.load(tenant_id=tenant_id)
        except Exception:  # an unreadable pair (key destroyed) has nothing left to revoke
            logger.warning("stored Notion tokens could not be read for revocation", exc_info=True)
            return False
        if pair is None:
            return True
        return await self.services.oauth.revoke(pair.access_token)

    # --- export and delete -----------------------------------------------------------------------
    def export(self, *, tenant_id: str, blobs: BlobStore) -> dict[str, Any]:
        """All of the tenant's data as JSON-ready dicts (credentials and bookkeeping left out)."""
        documents = self.services.backends.documents.export_tenant(tenant_id=tenant_id)
        return {
            "tenant_id": tenant_id,
            "documents": {path: data for path, data in sorted(documents.items())
                          if not path.startswith(_NOT_EXPORTED_PREFIXES)},
            "files": [{"key": info.key, "size": info.size, "generation": info.generation}
                      for info in blobs.list("", tenant_id=tenant_id)],
        }

    async def delete_account(self, *, tenant_id: str, blobs: BlobStore) -> dict[str, Any]:
        """Revoke at Notion, destroy the data key, delete every blob (vector store included) and
        every document of the tenant. Each step is idempotent, so a retried deletion finishes."""
        revoked = await self._revoke(tenant_id)
        self.services.cipher.destroy_tenant_key(tenant_id=tenant_id)
        files = blobs.delete_prefix("", tenant_id=tenant_id)
        documents = self.services.backends.documents.delete_tenant(tenant_id=tenant_id)
        logger.info("tenant deleted", extra={"fields": {"event": "tenant_deleted", "documents": documents, "files": files}})
        return {"deleted": True, "revoked_at_notion": revoked, "documents": documents, "files": files}
