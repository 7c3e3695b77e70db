"""The one authentication helper every function uses, and the admin-token check.

:func:`authenticate` takes the session from ``Authorization: Bearer <jwt>`` (API clients) or, if
there is no Authorization header, from the session cookie (the browser). An Authorization header
that is present but not a Bearer token is refused rather than ignored: explicit credentials that
are wrong must not silently fall back to a cookie.

Errors::

    AuthenticationRequired (Unauthenticated, 401)   session_missing   no token at all
    (and the SessionError family of shared.auth.sessions for a bad one)
    AdminRequired (PermissionDenied, 403)           admin_required    bad or missing admin token
"""

from __future__ import annotations

import hmac
from typing import Any

from shared.auth.sessions import EpochReader, SessionClaims, SessionInvalid, SessionManager
from shared.config import Settings
from shared.errors import PermissionDenied, Unauthenticated


class AuthenticationRequired(Unauthenticated):
    code = "session_missing"
    default_message = "Sign in to continue."

    def headers(self) -> dict[str, str]:
        # RFC 6750 §3: no error code when the request carried no credentials.
        return {"WWW-Authenticate": 'Bearer realm="planner"'}


class AdminRequired(PermissionDenied):
    code = "admin_required"
    default_message = "This needs the administrator token."


def bearer_token(request: Any) -> str | None:
    """The Bearer token of the request; ``None`` without an Authorization header; raises
    :class:`SessionInvalid` when the header uses another scheme or is malformed."""
    if "Authorization" not in request.headers:
        return None
    auth = request.authorization  # werkzeug's parser (scheme is case-insensitive)
    if auth is None or auth.type != "bearer" or not auth.token:
        raise SessionInvalid()
    return auth.token


def authenticate(
    request: Any,
    *,
    sessions: SessionManager,
    allow_cookie: bool = True,
    current_epoch: EpochReader | None = None,
) -> SessionClaims:
    """The verified session of a Flask/Werkzeug request, else an ``Unauthenticated`` (401).

    ``allow_cookie=False`` for endpoints only API clients call. ``current_epoch`` enables
    revocation (pass ``shared.auth.sessions.epoch_reader(store)``)."""
    token = bearer_token(request)
    if token is None and allow_cookie:
        token = request.cookies.get(sessions.cookie_name) or None
    if token is None:
        raise AuthenticationRequired()
    return sessions.verify(token, current_epoch=current_epoch)


def require_admin(request: Any, settings: Settings) -> None:
    """Return if the request bears the administrator token (``PLANNER_ADMIN_TOKEN``), compared in
    constant time; else :class:`AdminRequired`. An empty setting disables admin access."""
    expected = settings.admin_token.get_secret_value()
    try:
        presented = bearer_token(request)
    except SessionInvalid:
        presented = None
    if not expected or not presented:
        raise AdminRequired()
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        raise AdminRequired()
