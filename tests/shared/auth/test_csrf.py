"""Form CSRF tokens bound to the session, and the browser-bound, expiring, single-use OAuth state."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shared.auth.csrf import (
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    OAUTH_NONCE_COOKIE,
    OAUTH_STATE_TENANT,
    CsrfInvalid,
    CsrfSigner,
    OAuthStateInvalid,
    OAuthStateReplayed,
    clear_oauth_nonce_cookie,
    consume_oauth_state,
    new_browser_nonce,
    oauth_nonce_cookie,
    verify_request,
)
from shared.config import Settings
from shared.ids import validate_segment, validate_tenant_id

SESSION = "Jx3kq9pZ0rT5mW2vY8bN1A"
T0 = 1_760_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signer(clock) -> CsrfSigner:
    return CsrfSigner.from_settings(Settings(profile="local", csrf_secret="a-local-csrf-secret"), clock=clock)


# --- form tokens --------------------------------------------------------------------------------
def test_form_token_round_trip(signer):
    token = signer.issue(SESSION)
    signer.verify(token, SESSION)  # no exception
    assert signer.issue(SESSION) != token  # random per issue


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "x" + t,
        lambda t: t.split(".")[0],
        lambda t: "." + t.split(".")[1],
        lambda t: "",
        lambda t: None,
        lambda t: 42,
        lambda t: t + "é",
        lambda t: t * 50,
    ],
)
def test_tampered_form_tokens_fail(signer, mangle):
    with pytest.raises(CsrfInvalid) as info:
        signer.verify(mangle(signer.issue(SESSION)), SESSION)
    assert info.value.status == 403 and info.value.code == "csrf_invalid"


def test_a_token_of_another_session_or_secret_fails(signer, clock):
    token = signer.issue(SESSION)
    with pytest.raises(CsrfInvalid):
        signer.verify(token, "another-session-id")
    with pytest.raises(CsrfInvalid):
        CsrfSigner("another-secret", clock=clock).verify(token, SESSION)
    with pytest.raises(CsrfInvalid):
        signer.verify(token, "")


def _form_request(**kwargs) -> Request:
    return EnvironBuilder(method="POST", path="/settings", **kwargs).get_request()


def test_verify_request_reads_the_form_field_or_the_header(signer):
    token = signer.issue(SESSION)
    verify_request(signer, _form_request(data={CSRF_FORM_FIELD: token, "timezone": "Europe/Paris"}), SESSION)
    verify_request(signer, _form_request(json={"timezone": "Europe/Paris"}, headers={CSRF_HEADER: token}), SESSION)
    with pytest.raises(CsrfInvalid):
        verify_request(signer, _form_request(data={"timezone": "Europe/Paris"}), SESSION)
    with pytest.raises(CsrfInvalid):
        verify_request(signer, _form_request(data={CSRF_FORM_FIELD: signer.issue("other")}), SESSION)


# --- OAuth state -----------------------------------------------------------------------------------
def test_state_round_trip_gives_a_store_safe_id(signer):
    nonce = new_browser_nonce()
    state = signer.new_oauth_state(nonce)
    verified = signer.verify_oauth_state(state, nonce)
    assert validate_segment(verified.id) == verified.id and len(verified.id) == 32
    assert verified.expires_at.timestamp() == T0 + 600
    assert nonce not in state  # the cookie value is bound, not carried
    assert signer.verify_oauth_state(signer.new_oauth_state(nonce), nonce).id != verified.id


def test_state_from_another_browser_fails(signer):
    state = signer.new_oauth_state(new_browser_nonce())
    for cookie in (new_browser_nonce(), "", None):
        with pytest.raises(OAuthStateInvalid) as info:
            signer.verify_oauth_state(state, cookie)
        assert info.value.status == 403 and info.value.code == "state_invalid"


def test_expired_state_fails(signer, clock):
    nonce = new_browser_nonce()
    state = signer.new_oauth_state(nonce, ttl=timedelta(minutes=5))
    clock.now += 299
    signer.verify_oauth_state(state, nonce)
    clock.now += 1
    with pytest.raises(OAuthStateInvalid):
        signer.verify_oauth_state(state, nonce)


def test_tampered_state_fails(signer):
    nonce = new_browser_nonce()
    state = signer.new_oauth_state(nonce)
    body, mac = state.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    longer = base64.urlsafe_b64encode(json.dumps({**payload, "exp": payload["exp"] + 86400}).encode()).rstrip(b"=").decode()
    for bad in (f"{longer}.{mac}", f"{body}.{mac[:-2]}", body, "", "..", "x" * 600, None):
        with pytest.raises(OAuthStateInvalid):
            signer.verify_oauth_state(bad, nonce)


def test_form_tokens_and_states_are_not_interchangeable(signer):
    nonce = new_browser_nonce()
    with pytest.raises(OAuthStateInvalid):
        signer.verify_oauth_state(signer.issue(nonce), nonce)
    with pytest.raises(CsrfInvalid):
        signer.verify(signer.new_oauth_state(nonce), nonce)


def test_state_is_single_use_through_the_store(tmp_path):
    from shared.store.sqlite import SqliteDocumentStore

    # The store compares expires_at with the wall clock, so this signer uses it too.
    signer = CsrfSigner("a-local-csrf-secret", clock=time.time)

    validate_tenant_id(OAUTH_STATE_TENANT)
    store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    try:
        nonce = new_browser_nonce()
        state = signer.verify_oauth_state(signer.new_oauth_state(nonce), nonce)
        consume_oauth_state(store, state)
        record = store.get(f"oauth_states/{state.id}", tenant_id=OAUTH_STATE_TENANT)
        assert record["expires_at"] == state.expires_at
        with pytest.raises(OAuthStateReplayed) as info:
            consume_oauth_state(store, state)
        assert info.value.code == "state_replayed" and info.value.status == 403
        # A different state of the same browser is still fine.
        consume_oauth_state(store, signer.verify_oauth_state(signer.new_oauth_state(nonce), nonce))
    finally:
        store.close()


def test_nonce_cookie_helpers():
    value = new_browser_nonce()
    assert len(value) >= 40
    header = oauth_nonce_cookie(value, secure=True)
    assert header.startswith(f"{OAUTH_NONCE_COOKIE}={value};")
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=600"):
        assert attribute in header
    assert "Secure" not in oauth_nonce_cookie(value, secure=False)
    cleared = clear_oauth_nonce_cookie(secure=False)
    assert cleared.startswith(f"{OAUTH_NONCE_COOKIE}=;") and "Max-Age=0" in cleared


def test_signer_refuses_empty_inputs(signer):
    with pytest.raises(ValueError):
        CsrfSigner("")
    with pytest.raises(ValueError):
        signer.issue("")
    with pytest.raises(ValueError):
        signer.new_oauth_state("")
