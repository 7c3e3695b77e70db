"""Wires the connection layer from the process's adapters (once per cold start)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from shared.auth.csrf import CsrfSigner
from shared.auth.guard import SessionGuard, guard_for
from shared.auth.sessions import SessionManager
from shared.backends import Backends
from shared.connections.oauth_client import NotionOAuth
from shared.connections.tenants import TenantRepository
from shared.connections.tokens import NotionTokenProvider, TokenVault
from shared.crypto import TokenCipher


_by_backends: dict[int, "ConnectionServices"] = {}
_lock = threading.Lock()


@dataclass
class ConnectionServices:
    backends: Backends
    oauth_transport: object | None = None  # an httpx2 transport, for tests

    @classmethod
    def of(cls, backends: Backends) -> "ConnectionServices":
        """The process's services for ``backends`` (built once: the token cipher's key cache and
        the session guard live as long as the process)."""
        with _lock:
            services = _by_backends.get(id(backends))
            if services is None or services.backends is not backends:
                services = _by_backends[id(backends)] = cls(backends)
            return services

    @property
    def settings(self):
        return self.backends.settings

    @cached_property
    def tenants(self) -> TenantRepository:
        return TenantRepository(self.backends.documents)

    @cached_property
    def cipher(self) -> TokenCipher:
        return TokenCipher(self.backends.documents, self.backends.secrets)

    @cached_property
    def vault(self) -> TokenVault:
        return TokenVault(self.backends.documents, self.cipher)

    @cached_property
    def oauth(self) -> NotionOAuth:
        return NotionOAuth.from_settings(self.settings, transport=self.oauth_transport)

    @cached_property
    def tokens(self) -> NotionTokenProvider:
        return NotionTokenProvider(self.vault, self.oauth, self.tenants)

    @property
    def sessions(self) -> SessionManager:
        # The guard's own manager: one keyring cache per process for issuing and verifying.
        return self.guard.sessions

    @property
    def csrf(self) -> CsrfSigner:
        return self.guard.csrf

    @cached_property
    def guard(self) -> SessionGuard:
        return guard_for(self.backends)
