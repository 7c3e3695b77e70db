"""Signed session tokens (JWT, HS256) with rotating keys, revocation by epoch, and cookies.

Tokens are made and checked with ``joserfc`` (the JOSE library Authlib 1.6+ recommends in place of
its deprecated ``authlib.jose``). Header ``{"alg": "HS256", "kid", "typ": "JWT"}``; claims ``iss``,
``aud``, ``sub`` (the tenant id), ``iat``, ``exp``, ``jti`` and ``sep`` (the tenant's session
epoch when the token was issued).

Keys come from the secret ``session-keys``, a keyring (``{"primary": kid, "keys": {kid: base64}}``,
see :mod:`shared.crypto.keyring`, keys of at least 32 bytes): tokens are signed with the primary
key and verified with whichever key their ``kid`` names, so a key can be added, made primary and
later removed without logging anyone out. Rotation: (1) add the new key to the ring; (2) after
``secret_cache_seconds`` make it primary (every instance knows it by then; an instance meeting an
unknown kid also refreshes the ring, at most once per ``min_refresh_seconds``); (3) after the
longest session lifetime remove the old key. In the ``local`` profile, when that secret does not
exist, the ring is the single key derived from ``PLANNER_SESSION_SIGNING_KEY`` (kid ``local``).

Revocation: the tenant root document holds an integer ``session_epoch``. A token carries the epoch
it was issued under and is refused once the epoch has grown (:func:`revoke_all_sessions`:
logout everywhere, disconnect) or the tenant is gone. Pass ``current_epoch=epoch_reader(store)`` to
:meth:`SessionManager.verify` to apply it.

Errors (all ``Unauthenticated``, 401, with a ``WWW-Authenticate: Bearer`` header)::

    SessionError               session_invalid
    ├── SessionInvalid         session_invalid   bad format, signature, key id, issuer, audience
    ├── SessionExpired         session_expired
    └── SessionRevoked         session_revoked   epoch moved on, or the tenant no longer exists

No message ever contains the token.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets as _random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import OctKey
from joserfc.jws import extract_compact
from werkzeug.http import dump_cookie

from shared.config import Settings
from shared.crypto.cache import ExpiringCache
from shared.crypto.errors import KeyUnavailable
from shared.crypto.keyring import Keyring, parse_keyring
from shared.errors import Unauthenticated
from shared.ids import InvalidTenantId, validate_tenant_id
from shared.secrets.base import SecretNotFound, SecretStore
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

SESSION_KEYS_SECRET = "session-keys"
ALGORITHM = "HS256"
LOCAL_KID = "local"
DEFAULT_TTL = timedelta(hours=12)
MAX_TTL = timedelta(days=30)
MAX_TOKEN_LENGTH = 4096
SESSION_EPOCH_FIELD = "session_epoch"
# __Host- cookies must be Secure, Path=/ and host-only, which stops sibling subdomains from
# planting a session; plain http (local) cannot use the prefix.
SECURE_COOKIE_NAME = "__Host-planner_session"
LOCAL_COOKIE_NAME = "planner_session"

EpochReader = Callable[[str], "int | None"]


class SessionError(Unauthenticated):
    code = "session_invalid"
    default_message = "The session is not valid; sign in again."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="planner", error="invalid_token"'}


class SessionInvalid(SessionError):
    code = "session_invalid"


class SessionExpired(SessionError):
    code = "session_expired"
    default_message = "The session has expired; sign in again."


class SessionRevoked(SessionError):
    code = "session_revoked"
    default_message = "The session was ended; sign in again."


@dataclass(frozen=True)
class SessionClaims:
    """What a verified session says: who (``tenant_id``), which session (``session_id`` = jti),
    when it was issued and expires, the epoch it was issued under, and the key that signed it."""

    tenant_id: str
    session_id: str
    issued_at: datetime
    expires_at: datetime
    epoch: int
    key_id: str


class SessionManager:
    """Issues and verifies session tokens. The only I/O is reading the key secret."""

    def __init__(
        self,
        secrets: SecretStore,
        settings: Settings,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_seconds: int = 30,
        min_refresh_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secrets = secrets
        self._settings = settings
        self.issuer = issuer or settings.public_base_url.rstrip("/")
        self.audience = audience or f"{settings.service_name}:session"
        self._leeway = leeway_seconds
        self._clock = clock
        self._monotonic = monotonic
        # The secret store caches values but maybe not absences; keep the parsed ring briefly.
        self._ring: ExpiringCache[Keyring] = ExpiringCache(
            ttl=float(settings.secret_cache_seconds), max_size=1, clock=monotonic
        )
        # Anyone can send a token with an unknown kid: without a floor between forced refreshes,
        # each such request would cost a Secret Manager call.
        self._min_refresh = min_refresh_seconds
        self._last_refresh: float | None = None

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies must be ``Secure`` (everywhere but the local profile)."""
        return self._settings.profile != "local"

    @property
    def cookie_name(self) -> str:
        return session_cookie_name(secure=self.secure_cookies)

    def issue(self, tenant_id: str, *, ttl: timedelta | int = DEFAULT_TTL, epoch: int = 0) -> str:
        """A token for ``tenant_id`` valid for ``ttl`` (timedelta or seconds, at most 30 days),
        issued under session ``epoch`` (read it with :func:`read_session_epoch`)."""
        validate_tenant_id(tenant_id)
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
        if not 0 < seconds <= MAX_TTL.total_seconds():
            raise ValueError("session ttl must be positive and at most 30 days")
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError("session epoch must be a non-negative integer")
        ring = self._keyring()
        now = int(self._clock())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": tenant_id,
            "iat": now,
            "exp": now + int(math.ceil(seconds)),
            "jti": _random.token_urlsafe(16),
            "sep": epoch,
        }
        header = {"alg": ALGORITHM, "kid": ring.primary, "typ": "JWT"}
        return jwt.encode(header, claims, _oct_key(ring, ring.primary), algorithms=[ALGORITHM])

    def verify(self, token: str, *, current_epoch: EpochReader | None = None) -> SessionClaims:
        """The claims of a valid token, else :class:`SessionInvalid` / :class:`SessionExpired` /
        :class:`SessionRevoked`. ``current_epoch(tenant_id)`` returns the tenant's epoch, or
        ``None`` if the tenant no longer exists."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise SessionInvalid()
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise SessionInvalid() from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise SessionInvalid()
        ring = self._keyring()
        if ring.get(kid) is None:
            # Signed by a key this instance has not seen yet: the ring may have rotated.
            now = self._monotonic()
            if self._last_refresh is not None and now - self._last_refresh < self._min_refresh:
                raise SessionInvalid()
            self._last_refresh = now
            ring = self._keyring(refresh=True)
            if ring.get(kid) is None:
                raise SessionInvalid()
        try:
            decoded = jwt.decode(token, _oct_key(ring, kid), algorithms=[ALGORITHM])
        except (JoseError, ValueError):
            raise SessionInvalid() from None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()),
            leeway=self._leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            sub={"essential": True},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise SessionExpired() from None
        except JoseError:
            raise SessionInvalid() from None
        epoch = claims.get("sep", 0)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise SessionInvalid()
        try:
            tenant_id = validate_tenant_id(claims["sub"])
        except InvalidTenantId:
            raise SessionInvalid() from None
        if current_epoch is not None:
            current = current_epoch(tenant_id)
            if current is None or epoch < current:
                raise SessionRevoked()
        return SessionClaims(
            tenant_id=tenant_id,
            session_id=claims["jti"],
            issued_at=datetime.fromtimestamp(claims["iat"], timezone.utc),
            expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc),
            epoch=epoch,
            key_id=kid,
        )

    def _keyring(self, *, refresh: bool = False) -> Keyring:
        if not refresh:
            cached = self._ring.get(SESSION_KEYS_SECRET)
            if cached is not None:
                return cached
        try:
            ring = parse_keyring(self._secrets.get(SESSION_KEYS_SECRET, refresh=refresh), secret_name=SESSION_KEYS_SECRET)
        except SecretNotFound:
            if self._settings.profile != "local":
                raise
            ring = _local_keyring(self._settings)
        self._ring.put(SESSION_KEYS_SECRET, ring)
        return ring


def _local_keyring(settings: Settings) -> Keyring:
    value = settings.session_signing_key.get_secret_value()
    if not value:
        raise KeyUnavailable("PLANNER_SESSION_SIGNING_KEY is empty and the secret 'session-keys' does not exist.")
    # Hash to a full-size HMAC key: the local default is a short development string.
    return Keyring(primary=LOCAL_KID, keys={LOCAL_KID: hashlib.sha256(b"planner-session/v1\x00" + value.encode()).digest()})


def _oct_key(ring: Keyring, kid: str) -> OctKey:
    return OctKey.import_key(ring.keys[kid], {"kid": kid, "alg": ALGORITHM})


# --- revocation by epoch (through the store port) ---------------------------------------------
def read_session_epoch(store: DocumentStore, *, tenant_id: str) -> int | None:
    """The tenant's current session epoch (0 if never bumped), or ``None`` if the tenant has no
    root document (deleted, or never created)."""
    root = store.get("", tenant_id=tenant_id)
    if root is None:
        return None
    value = root.get(SESSION_EPOCH_FIELD, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def epoch_reader(store: DocumentStore) -> EpochReader:
    """A ``current_epoch`` callback for :meth:`SessionManager.verify` reading the tenant root."""
    return lambda tenant_id: read_session_epoch(store, tenant_id=tenant_id)


def revoke_all_sessions(store: DocumentStore, *, tenant_id: str) -> None:
    """End every session of the tenant issued so far (logout everywhere, disconnect)."""
    validate_tenant_id(tenant_id)
    store.increment("", {SESSION_EPOCH_FIELD: 1}, tenant_id=tenant_id)
    logger.info("revoked all sessions of a tenant", extra={"tenant_id": tenant_id})


# --- cookies ------------------------------------------------------------------------------------
def session_cookie_name(*, secure: bool) -> str:
    return SECURE_COOKIE_NAME if secure else LOCAL_COOKIE_NAME


def session_cookie(token: str, *, secure: bool, max_age: timedelta | int = DEFAULT_TTL) -> str:
    """The ``Set-Cookie`` value carrying a session: HttpOnly, SameSite=Lax, Path=/, ``Secure`` when
    ``secure`` (production), expiring with the session (``max_age``: its ttl)."""
    seconds = int(max_age.total_seconds()) if isinstance(max_age, timedelta) else int(max_age)
    return dump_cookie(
        session_cookie_name(secure=secure), token, max_age=seconds, path="/", secure=secure, httponly=True, samesite="Lax"
    )


def clear_session_cookie(*, secure: bool) -> str:
    """The ``Set-Cookie`` value that removes the session cookie (sign-out)."""
    return dump_cookie(
        session_cookie_name(secure=secure), "", max_age=0, expires=0, path="/", secure=secure, httponly=True, samesite="Lax"
    )
