"""Session tokens: claims, expiry, tampering, key rotation, revocation by epoch, cookies."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from shared.auth.sessions import (
    SECURE_COOKIE_NAME,
    SessionExpired,
    SessionInvalid,
    SessionManager,
    SessionRevoked,
    clear_session_cookie,
    epoch_reader,
    read_session_epoch,
    revoke_all_sessions,
    session_cookie,
)
from shared.config import Settings
from shared.crypto.keyring import generate_key, keyring_json
from shared.secrets.base import SecretNotFound
from tests.shared.crypto.fakes import CachingSecrets

TENANT = "ws-" + "1" * 32
OTHER = "ws-" + "2" * 32
T0 = 1_760_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _settings(**overrides) -> Settings:
    values = {"profile": "local", "public_base_url": "https://planner.example", "service_name": "planner"}
    return Settings(**{**values, **overrides})


def _parts(token: str) -> tuple[dict, dict]:
    def load(segment: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

    header, payload, _ = token.split(".")
    return load(header), load(payload)


@pytest.fixture
def k1() -> str:
    return generate_key()


@pytest.fixture
def secrets(k1) -> CachingSecrets:
    return CachingSecrets({"session-keys": keyring_json("k1", {"k1": k1})})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sessions(secrets, clock) -> SessionManager:
    return SessionManager(secrets, _settings(), clock=clock)


def test_issue_and_verify_round_trip(sessions):
    token = sessions.issue(TENANT, ttl=timedelta(hours=1), epoch=3)
    header, claims = _parts(token)
    assert header == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    assert set(claims) == {"iss", "aud", "sub", "iat", "exp", "jti", "sep"}
    assert claims["iss"] == "https://planner.example" and claims["aud"] == "planner:session"
    assert claims["sub"] == TENANT and claims["exp"] - claims["iat"] == 3600 and claims["iat"] == int(T0)
    verified = sessions.verify(token)
    assert verified.tenant_id == TENANT and verified.epoch == 3 and verified.key_id == "k1"
    assert verified.session_id == claims["jti"]
    assert (verified.expires_at - verified.issued_at) == timedelta(hours=1)


def test_each_session_gets_its_own_id(sessions):
    assert sessions.verify(sessions.issue(TENANT)).session_id != sessions.verify(sessions.issue(TENANT)).session_id


def test_expired_tokens_are_refused_with_their_own_code(sessions, clock):
    token = sessions.issue(TENANT, ttl=600)
    clock.now += 600 + 30 - 1  # within the 30 s leeway
    assert sessions.verify(token).tenant_id == TENANT
    clock.now += 1
    with pytest.raises(SessionExpired) as info:
        sessions.verify(token)
    assert info.value.status == 401 and info.value.code == "session_expired"
    assert token not in str(info.value) and token not in json.dumps(info.value.headers())


def test_tokens_from_the_future_are_refused(sessions, clock):
    clock.now += 3600
    token = sessions.issue(TENANT)
    clock.now -= 3600
    with pytest.raises(SessionInvalid):
        sessions.verify(token)


def _forge(token: str, **changes) -> str:
    header, claims = _parts(token)
    header_changes = changes.pop("header", {})

    def enc(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return ".".join([enc({**header, **header_changes}), enc({**claims, **changes}), token.split(".")[2]])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: _forge(t, sub=OTHER),  # signature no longer matches
        lambda t: _forge(t, exp=9_999_999_999),
        lambda t: _forge(t, header={"alg": "none"}),
        lambda t: _forge(t, header={"kid": "unknown"}),
        lambda t: _forge(t, header={"alg": "HS512"}),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.rsplit(".", 1)[0] + ".",
        lambda t: "",
        lambda t: "not-a-jwt",
        lambda t: "a.b.c",
        lambda t: t + "x" * 5000,
        lambda t: None,
    ],
)
def test_tampered_or_malformed_tokens_are_invalid(sessions, mangle):
    token = sessions.issue(TENANT)
    bad = mangle(token)
    with pytest.raises(SessionInvalid) as info:
        sessions.verify(bad)
    assert info.value.status == 401 and info.value.code == "session_invalid"
    assert info.value.headers()["WWW-Authenticate"].startswith("Bearer")
    if bad:
        assert str(bad) not in info.value.message


def test_tokens_signed_with_a_key_outside_the_ring_are_invalid(sessions, clock):
    foreign = OctKey.import_key(base64.b64decode(generate_key()), {"kid": "k1"})
    claims = {"iss": sessions.issuer, "aud": sessions.audience, "sub": TENANT, "iat": int(T0), "exp": int(T0) + 60, "jti": "x", "sep": 0}
    token = jwt.encode({"alg": "HS256", "kid": "k1"}, claims, foreign)
    with pytest.raises(SessionInvalid):
        sessions.verify(token)


@pytest.mark.parametrize(
    ("field", "value"),
    [("iss", "https://evil.example"), ("aud", "someone-else"), ("sub", "../../etc"), ("sep", -1), ("sep", "1")],
)
def test_correctly_signed_tokens_with_wrong_claims_are_invalid(sessions, secrets, k1, field, value):
    key = OctKey.import_key(base64.b64decode(k1), {"kid": "k1"})
    claims = {"iss": sessions.issuer, "aud": sessions.audience, "sub": TENANT, "iat": int(T0), "exp": int(T0) + 60, "jti": "x", "sep": 0}
    claims[field] = value
    with pytest.raises(SessionInvalid):
        sessions.verify(jwt.encode({"alg": "HS256", "kid": "k1"}, claims, key))


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "iat", "exp", "jti"])
def test_every_registered_claim_is_required(sessions, k1, missing):
    key = OctKey.import_key(base64.b64decode(k1), {"kid": "k1"})
    claims = {"iss": sessions.issuer, "aud": sessions.audience, "sub": TENANT, "iat": int(T0), "exp": int(T0) + 60, "jti": "x"}
    del claims[missing]
    with pytest.raises(SessionInvalid):
        sessions.verify(jwt.encode({"alg": "HS256", "kid": "k1"}, claims, key))


def test_issue_validates_its_arguments(sessions):
    with pytest.raises(ValueError):
        sessions.issue(TENANT, ttl=0)
    with pytest.raises(ValueError):
        sessions.issue(TENANT, ttl=timedelta(days=31))
    with pytest.raises(ValueError):
        sessions.issue(TENANT, epoch=-1)
    with pytest.raises(Exception) as info:
        sessions.issue("Not A Tenant")
    assert info.value.code == "invalid_tenant"


# --- key rotation ---------------------------------------------------------------------------------
def test_key_rotation_without_logging_anyone_out(secrets, clock, k1):
    old_instance = SessionManager(secrets, _settings(), clock=clock)
    old_token = old_instance.issue(TENANT)

    # Step 1: add k2 as primary, keep k1 for verification.
    k2 = generate_key()
    secrets.backend["session-keys"] = keyring_json("k2", {"k1": k1, "k2": k2})
    new_instance = SessionManager(CachingSecrets(dict(secrets.backend)), _settings(), clock=clock)
    new_token = new_instance.issue(TENANT)
    assert _parts(new_token)[0]["kid"] == "k2"
    assert new_instance.verify(old_token).key_id == "k1"
    # The old instance has never seen k2: it refreshes the keyring once, then accepts.
    assert secrets.refreshes == 0
    assert old_instance.verify(new_token).key_id == "k2"
    assert secrets.refreshes == 1

    # Step 2: after the longest session lifetime, k1 leaves the ring and its tokens stop working.
    secrets.backend["session-keys"] = keyring_json("k2", {"k2": k2})
    latest = SessionManager(CachingSecrets(dict(secrets.backend)), _settings(), clock=clock)
    assert latest.verify(new_token).tenant_id == TENANT
    with pytest.raises(SessionInvalid):
        latest.verify(old_token)


def test_unknown_key_ids_cannot_force_a_secret_refresh_per_request(secrets, clock, k1):
    ticks = Clock()
    sessions = SessionManager(secrets, _settings(), clock=clock, monotonic=ticks, min_refresh_seconds=10)
    token = sessions.issue(TENANT)
    for kid in ("r1", "r2", "r3"):
        with pytest.raises(SessionInvalid):
            sessions.verify(_forge(token, header={"kid": kid}))
    assert secrets.refreshes == 1
    ticks.now += 10
    with pytest.raises(SessionInvalid):
        sessions.verify(_forge(token, header={"kid": "r4"}))
    assert secrets.refreshes == 2
    assert sessions.verify(token).tenant_id == TENANT  # known keys never wait


def test_local_profile_falls_back_to_the_signing_key_setting(clock):
    settings = _settings(session_signing_key="dev")
    sessions = SessionManager(CachingSecrets({}), settings, clock=clock)
    token = sessions.issue(TENANT)
    assert _parts(token)[0]["kid"] == "local"
    assert sessions.verify(token).tenant_id == TENANT
    other = SessionManager(CachingSecrets({}), _settings(session_signing_key="another-local-key"), clock=clock)
    with pytest.raises(SessionInvalid):
        other.verify(token)


def test_gcp_profile_needs_the_session_keys_secret(clock):
    settings = _settings(
        profile="gcp",
        session_signing_key="s" * 40,
        token_kek=generate_key(),
        notion_client_id="client-id-123",
        notion_client_secret="client-secret-456",
        csrf_secret="c" * 40,
        gcp_project="proj",
        gcs_bucket="bucket",
        tasks_location="europe-west1",
        tasks_service_account="planner-tasks@proj.iam.gserviceaccount.com",
    )
    sessions = SessionManager(CachingSecrets({}), settings, clock=clock)
    with pytest.raises(SecretNotFound):
        sessions.issue(TENANT)
    assert sessions.secure_cookies is True and sessions.cookie_name == SECURE_COOKIE_NAME


# --- revocation by epoch ------------------------------------------------------------------------------
def test_epoch_callback_revokes_older_sessions_and_gone_tenants(sessions):
    token = sessions.issue(TENANT, epoch=2)
    assert sessions.verify(token, current_epoch=lambda tenant: 2).epoch == 2
    seen = []
    with pytest.raises(SessionRevoked) as info:
        sessions.verify(token, current_epoch=lambda tenant: seen.append(tenant) or 3)
    assert seen == [TENANT]
    assert info.value.code == "session_revoked" and info.value.status == 401
    with pytest.raises(SessionRevoked):
        sessions.verify(token, current_epoch=lambda tenant: None)


def test_revoke_all_sessions_through_the_store(sessions, tmp_path):
    from shared.store.sqlite import SqliteDocumentStore

    store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    try:
        assert read_session_epoch(store, tenant_id=TENANT) is None  # no such tenant yet
        store.set("", {"workspace_name": "Acme"}, tenant_id=TENANT)
        assert read_session_epoch(store, tenant_id=TENANT) == 0
        token = sessions.issue(TENANT, epoch=read_session_epoch(store, tenant_id=TENANT))
        check = epoch_reader(store)
        assert sessions.verify(token, current_epoch=check).tenant_id == TENANT

        revoke_all_sessions(store, tenant_id=TENANT)
        assert read_session_epoch(store, tenant_id=TENANT) == 1
        assert store.get("", tenant_id=TENANT)["workspace_name"] == "Acme"  # the rest is untouched
        with pytest.raises(SessionRevoked):
            sessions.verify(token, current_epoch=check)
        fresh = sessions.issue(TENANT, epoch=read_session_epoch(store, tenant_id=TENANT))
        assert sessions.verify(fresh, current_epoch=check).epoch == 1

        store.delete_tenant(tenant_id=TENANT)
        with pytest.raises(SessionRevoked):
            sessions.verify(fresh, current_epoch=check)
    finally:
        store.close()


# --- cookies ------------------------------------------------------------------------------------------
def _attributes(header: str) -> tuple[str, str, dict[str, str]]:
    first, *rest = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def test_secure_session_cookie(sessions):
    token = sessions.issue(TENANT)
    name, value, attrs = _attributes(session_cookie(token, secure=True, max_age=timedelta(hours=12)))
    assert name == "__Host-planner_session" and value == token
    assert attrs["max-age"] == "43200" and attrs["path"] == "/" and attrs["samesite"] == "Lax"
    assert "httponly" in attrs and "secure" in attrs and "domain" not in attrs


def test_local_session_cookie_is_not_secure_only(sessions):
    name, _, attrs = _attributes(session_cookie(sessions.issue(TENANT), secure=False, max_age=60))
    assert name == "planner_session" and "secure" not in attrs and "httponly" in attrs and attrs["max-age"] == "60"
    assert sessions.secure_cookies is False and sessions.cookie_name == "planner_session"


@pytest.mark.parametrize("secure", [True, False])
def test_clearing_cookie(secure):
    name, value, attrs = _attributes(clear_session_cookie(secure=secure))
    assert value == "" and attrs["max-age"] == "0" and "expires" in attrs and attrs["path"] == "/"
    assert name == ("__Host-planner_session" if secure else "planner_session")


def test_with_the_env_file_secret_store(clock, tmp_path):
    from shared.secrets.local import EnvFileSecretStore

    settings = _settings(session_signing_key="a-local-signing-key")
    # No session-keys secret: the local profile signs with the setting.
    fallback = SessionManager(EnvFileSecretStore(environ={}, directory=tmp_path), settings, clock=clock)
    assert _parts(fallback.issue(TENANT))[0]["kid"] == "local"
    # A keyring file takes over once it exists.
    (tmp_path / "session-keys").write_text(keyring_json("k7", {"k7": generate_key()}) + "\n")
    ringed = SessionManager(EnvFileSecretStore(environ={}, directory=tmp_path), settings, clock=clock)
    token = ringed.issue(TENANT)
    assert _parts(token)[0]["kid"] == "k7" and ringed.verify(token).tenant_id == TENANT
