"""Session check for endpoints: who is calling, with CSRF enforced where a cookie authenticated.

A browser sends the session cookie on its own, so an unsafe request (POST, PUT, PATCH, DELETE)
authenticated by the cookie must also carry the CSRF token bound to that session (form field
``csrf_token`` or header ``X-CSRF-Token``). A Bearer token is never sent implicitly, so requests
authenticated by one need no CSRF token.
"""

from __future__ import annotations

from typing import Any

from shared.auth.authenticate import authenticate, bearer_token
from shared.auth.csrf import CsrfSigner, verify_request
from shared.auth.sessions import SessionClaims, SessionManager, epoch_reader
from shared.store.base import DocumentStore

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionGuard:
    def __init__(self, sessions: SessionManager, store: DocumentStore, csrf: CsrfSigner) -> None:
        self.sessions = sessions
        self.store = store
        self.csrf = csrf

    def require(self, request: Any, *, allow_cookie: bool = True) -> SessionClaims:
        """The caller's verified session (401 otherwise; 403 on a missing/bad CSRF token)."""
        claims = authenticate(request, sessions=self.sessions, allow_cookie=allow_cookie,
                              current_epoch=epoch_reader(self.store))
        if request.method not in _SAFE_METHODS and bearer_token(request) is None:
            verify_request(self.csrf, request, claims.session_id)
        return claims

    def csrf_token(self, claims: SessionClaims) -> str:
        return self.csrf.issue(claims.session_id)


_guards: dict[int, SessionGuard] = {}


def guard_for(backends) -> SessionGuard:
    """The session guard of a process's adapters (cached per Backends). Functions that only need
    to know who is calling use this, so they do not import the Notion connection code."""
    key = id(backends)
    guard = _guards.get(key)
    if guard is None or guard.store is not backends.documents:
        guard = SessionGuard(SessionManager(backends.secrets, backends.settings), backends.documents,
                             CsrfSigner.from_settings(backends.settings))
        _guards[key] = guard
    return guard
