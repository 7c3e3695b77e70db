"""CSRF tokens for forms, and the OAuth ``state`` parameter, both signed with ``csrf_secret``.

Form tokens: ``<nonce>.<mac>`` where ``mac = HMAC-SHA256(k_csrf, session_id | nonce)``. A token is
only valid with the session it was issued for (the session's ``jti``), so a token lifted from
another session, or forged without the secret, fails. Put it in every form as the hidden field
``csrf_token`` (or the ``X-CSRF-Token`` header for scripts); :func:`verify_request` checks it.

OAuth state: before redirecting to Notion, set a random browser nonce cookie
(:func:`new_browser_nonce`, :func:`oauth_nonce_cookie`) and send ``state = new_oauth_state(nonce)``.
The state carries a random id and an expiry, signed together with the cookie's value (which it
does not contain), so it is only accepted from the browser that started the flow and only until it
expires. Single use is enforced through the store by :func:`consume_oauth_state`: it ``create``\\ s
``oauth_states/{id}`` (with ``expires_at``, so the record disappears on its own) under the
reserved tenant :data:`OAUTH_STATE_TENANT`; a second use hits ``AlreadyExists`` and is refused.

Errors (all ``PermissionDenied``, 403)::

    CsrfError                 csrf_invalid
    ├── CsrfInvalid           csrf_invalid      form token missing, malformed or not this session's
    └── OAuthStateInvalid     state_invalid     state malformed, forged, expired, other browser
        └── OAuthStateReplayed state_replayed   state already used
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets as _random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from werkzeug.http import dump_cookie

from shared.config import Settings
from shared.errors import PermissionDenied
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.store.errors import AlreadyExists

CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
OAUTH_STATE_TTL = timedelta(minutes=10)
OAUTH_STATE_COLLECTION = "oauth_states"
# Sign-in happens before there is a tenant; single-use records live under this reserved id, which
# cannot collide with a workspace tenant ("ws-<hex>").
OAUTH_STATE_TENANT = "sys-oauth"
OAUTH_NONCE_COOKIE = "planner_oauth_nonce"
_MAX_TOKEN_LENGTH = 512
_STATE_ID = re.compile(r"^[0-9a-f]{32}$")  # a safe store document id


class CsrfError(PermissionDenied):
    code = "csrf_invalid"
    default_message = "The form has expired or was not sent by this site; reload the page and try again."


class CsrfInvalid(CsrfError):
    code = "csrf_invalid"


class OAuthStateInvalid(CsrfError):
    code = "state_invalid"
    default_message = "The sign-in link is invalid or has expired; start again."


class OAuthStateReplayed(OAuthStateInvalid):
    code = "state_replayed"
    default_message = "This sign-in link was already used; start again."


@dataclass(frozen=True)
class OAuthState:
    """A verified state: its id (the single-use key) and when it expires."""

    id: str
    expires_at: datetime


class CsrfSigner:
    """Issues and verifies form tokens and OAuth states with keys derived from one secret."""

    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("csrf secret must not be empty")
        master = secret.encode("utf-8")
        # Separate keys per use, so a form token can never pass as a state or the reverse.
        self._form_key = hmac.new(master, b"planner/csrf-form/v1", hashlib.sha256).digest()
        self._state_key = hmac.new(master, b"planner/oauth-state/v1", hashlib.sha256).digest()
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> "CsrfSigner":
        return cls(settings.csrf_secret.get_secret_value(), clock=clock)

    # --- form tokens ------------------------------------------------------------------------
    def issue(self, session_id: str) -> str:
        """A fresh form token bound to the session ``session_id`` (its jti)."""
        if not session_id:
            raise ValueError("session_id must not be empty")
        nonce = _random.token_urlsafe(16)
        return f"{nonce}.{_b64(self._form_mac(session_id, nonce))}"

    def verify(self, token: object, session_id: str) -> None:
        """Return if ``token`` was issued for ``session_id``, else raise :class:`CsrfInvalid`."""
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH or not session_id:
            raise CsrfInvalid()
        nonce, _, mac = token.partition(".")
        expected = _b64(self._form_mac(session_id, nonce))
        if not nonce or not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode("ascii")):
            raise CsrfInvalid()

    def _form_mac(self, session_id: str, nonce: str) -> bytes:
        return hmac.new(self._form_key, _join(session_id, nonce), hashlib.sha256).digest()

    # --- OAuth state ------------------------------------------------------------------------
    def new_oauth_state(self, nonce_cookie_value: str, *, ttl: timedelta = OAUTH_STATE_TTL) -> str:
        """A state for the authorize redirect, bound to the browser's nonce cookie value."""
        if not nonce_cookie_value:
            raise ValueError("the nonce cookie value must not be empty")
        payload = {"id": _random.token_hex(16), "exp": int(self._clock() + ttl.total_seconds())}
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._state_mac(body, nonce_cookie_value))}"

    def verify_oauth_state(self, state: object, cookie_value: object) -> OAuthState:
        """The state's id and expiry if it is authentic, unexpired and bound to ``cookie_value``;
        else :class:`OAuthStateInvalid`. Does not check single use: see :func:`consume_oauth_state`."""
        if not isinstance(state, str) or not state or len(state) > _MAX_TOKEN_LENGTH:
            raise OAuthStateInvalid()
        if not isinstance(cookie_value, str) or not cookie_value:
            raise OAuthStateInvalid()
        body, _, mac = state.partition(".")
        expected = _b64(self._state_mac(body, cookie_value))
        if not body or not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode("ascii")):
            raise OAuthStateInvalid()
        payload = _decode_payload(body)
        if payload is None:
            raise OAuthStateInvalid()
        if self._clock() >= payload["exp"]:
            raise OAuthStateInvalid()
        return OAuthState(id=payload["id"], expires_at=datetime.fromtimestamp(payload["exp"], timezone.utc))

    def _state_mac(self, body: str, cookie_value: str) -> bytes:
        return hmac.new(self._state_key, _join(body, cookie_value), hashlib.sha256).digest()


def verify_request(signer: CsrfSigner, request: Any, session_id: str) -> None:
    """Check the CSRF token of a Flask/Werkzeug request (form field, else header)."""
    token = request.form.get(CSRF_FORM_FIELD) or request.headers.get(CSRF_HEADER)
    signer.verify(token, session_id)


def consume_oauth_state(store: DocumentStore, state: OAuthState) -> None:
    """Mark a verified state used; raise :class:`OAuthStateReplayed` if it already was.

    ``create`` is atomic on every adapter, so of two callbacks racing with one state exactly one
    proceeds. The record expires with the state (the store treats it as absent afterwards, by which
    time the signature check refuses the state anyway)."""
    try:
        store.create(
            f"{OAUTH_STATE_COLLECTION}/{state.id}",
            {EXPIRES_AT: state.expires_at, "used_at": datetime.now(timezone.utc)},
            tenant_id=OAUTH_STATE_TENANT,
        )
    except AlreadyExists:
        raise OAuthStateReplayed() from None


def new_browser_nonce() -> str:
    """A random value for the OAuth nonce cookie."""
    return _random.token_urlsafe(32)


def oauth_nonce_cookie(value: str, *, secure: bool, max_age: timedelta = OAUTH_STATE_TTL) -> str:
    """``Set-Cookie`` for the OAuth nonce. SameSite=Lax: the cookie must come back on Notion's
    top-level redirect to the callback."""
    return dump_cookie(
        OAUTH_NONCE_COOKIE, value, max_age=int(max_age.total_seconds()), path="/", secure=secure, httponly=True, samesite="Lax"
    )


def clear_oauth_nonce_cookie(*, secure: bool) -> str:
    return dump_cookie(OAUTH_NONCE_COOKIE, "", max_age=0, expires=0, path="/", secure=secure, httponly=True, samesite="Lax")


def _join(*parts: str) -> bytes:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") never sign the same bytes.
    return b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)


def _decode_payload(body: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(raw, dict):
        return None
    if not isinstance(raw.get("id"), str) or not _STATE_ID.fullmatch(raw["id"]) or not isinstance(raw.get("exp"), int):
        return None
    return raw


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
