"""The one authentication helper (Bearer first, then cookie) and the admin-token check."""

from __future__ import annotations

import flask
import pytest
from werkzeug.test import EnvironBuilder

from shared.auth.authenticate import AdminRequired, AuthenticationRequired, authenticate, bearer_token, require_admin
from shared.auth.sessions import SessionInvalid, SessionManager, SessionRevoked
from shared.config import Settings
from shared.crypto.keyring import generate_key, keyring_json
from tests.shared.crypto.fakes import CachingSecrets

ALICE = "ws-" + "a" * 32
BOB = "ws-" + "b" * 32
ADMIN = "adm_9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def settings() -> Settings:
    return Settings(profile="local", admin_token=ADMIN)


@pytest.fixture
def sessions(settings) -> SessionManager:
    return SessionManager(CachingSecrets({"session-keys": keyring_json("k1", {"k1": generate_key()})}), settings)


def _request(*, headers=None, cookies=None) -> flask.Request:
    builder = EnvironBuilder(method="GET", path="/api/tasks", headers=headers or {})
    environ = builder.get_environ()
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return flask.Request(environ)


def test_bearer_token(sessions):
    token = sessions.issue(ALICE)
    claims = authenticate(_request(headers={"Authorization": f"Bearer {token}"}), sessions=sessions)
    assert claims.tenant_id == ALICE


def test_scheme_is_case_insensitive(sessions):
    token = sessions.issue(ALICE)
    assert authenticate(_request(headers={"Authorization": f"bearer {token}"}), sessions=sessions).tenant_id == ALICE


def test_session_cookie(sessions):
    token = sessions.issue(ALICE)
    claims = authenticate(_request(cookies={sessions.cookie_name: token}), sessions=sessions)
    assert claims.tenant_id == ALICE


def test_bearer_wins_over_the_cookie(sessions):
    request = _request(headers={"Authorization": f"Bearer {sessions.issue(BOB)}"}, cookies={sessions.cookie_name: sessions.issue(ALICE)})
    assert authenticate(request, sessions=sessions).tenant_id == BOB


def test_cookie_can_be_disallowed(sessions):
    request = _request(cookies={sessions.cookie_name: sessions.issue(ALICE)})
    with pytest.raises(AuthenticationRequired):
        authenticate(request, sessions=sessions, allow_cookie=False)


def test_missing_credentials_are_401_with_a_challenge(sessions):
    with pytest.raises(AuthenticationRequired) as info:
        authenticate(_request(cookies={"unrelated": "1"}), sessions=sessions)
    assert info.value.status == 401 and info.value.code == "session_missing"
    assert info.value.headers() == {"WWW-Authenticate": 'Bearer realm="planner"'}


@pytest.mark.parametrize("header", ["Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Bearer ", "Token abc"])
def test_a_non_bearer_authorization_is_refused_not_ignored(sessions, header):
    request = _request(headers={"Authorization": header}, cookies={sessions.cookie_name: sessions.issue(ALICE)})
    with pytest.raises(SessionInvalid) as info:
        authenticate(request, sessions=sessions)
    assert info.value.status == 401


def test_invalid_tokens_never_echo_the_token(sessions):
    token = sessions.issue(ALICE)[:-4] + "AAAA"
    with pytest.raises(SessionInvalid) as info:
        authenticate(_request(headers={"Authorization": f"Bearer {token}"}), sessions=sessions)
    assert token not in str(info.value) and token not in str(info.value.headers())
    with pytest.raises(SessionInvalid):
        authenticate(_request(cookies={sessions.cookie_name: "garbage"}), sessions=sessions)


def test_revocation_callback_is_applied(sessions):
    token = sessions.issue(ALICE, epoch=0)
    with pytest.raises(SessionRevoked):
        authenticate(_request(headers={"Authorization": f"Bearer {token}"}), sessions=sessions, current_epoch=lambda t: 1)


def test_works_inside_a_flask_request_context(sessions):
    app = flask.Flask(__name__)
    token = sessions.issue(ALICE)
    with app.test_request_context("/api/tasks", headers={"Authorization": f"Bearer {token}"}):
        assert authenticate(flask.request, sessions=sessions).tenant_id == ALICE
    assert bearer_token(_request()) is None


# --- admin ------------------------------------------------------------------------------------
def test_admin_token_accepted(settings):
    assert require_admin(_request(headers={"Authorization": f"Bearer {ADMIN}"}), settings) is None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": f"Bearer {ADMIN}x"}, {"Authorization": f"Bearer {ADMIN[:-1]}"}, {"Authorization": f"Basic {ADMIN}"}, {"Authorization": "Bearer é"}],
)
def test_admin_token_refused(settings, headers):
    with pytest.raises(AdminRequired) as info:
        require_admin(_request(headers=headers), settings)
    assert info.value.status == 403 and info.value.code == "admin_required"
    assert ADMIN not in str(info.value)


def test_a_session_token_is_not_an_admin_token(settings, sessions):
    with pytest.raises(AdminRequired):
        require_admin(_request(headers={"Authorization": f"Bearer {sessions.issue(ALICE)}"}), settings)


def test_admin_is_disabled_without_a_configured_token():
    with pytest.raises(AdminRequired):
        require_admin(_request(headers={"Authorization": "Bearer "}), Settings(profile="local", admin_token=""))
    with pytest.raises(AdminRequired):
        require_admin(_request(headers={"Authorization": "Bearer anything"}), Settings(profile="local", admin_token=""))


# --- through the function router: the standard JSON error -------------------------------------------
def test_401_and_403_reach_the_client_as_the_standard_json_error(settings, sessions):
    from shared.web import Router

    router = Router("test")

    @router.get("/me")
    def me(request, ctx):
        claims = authenticate(request, sessions=sessions)
        ctx.set_tenant(claims.tenant_id)
        return {"tenant_id": claims.tenant_id}

    @router.get("/admin")
    def admin(request, ctx):
        require_admin(request, settings)
        return {"ok": True}

    app = flask.Flask(__name__)

    def call(path, headers=None):
        with app.test_request_context(path, headers=headers or {}):
            return router.handle(flask.request)

    ok = call("/me", {"Authorization": f"Bearer {sessions.issue(ALICE)}"})
    assert ok.status_code == 200 and ok.get_json() == {"tenant_id": ALICE}

    missing = call("/me")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == 'Bearer realm="planner"'
    assert missing.get_json()["error"]["code"] == "session_missing"

    bad_token = sessions.issue(ALICE)[:-3] + "xyz"
    invalid = call("/me", {"Authorization": f"Bearer {bad_token}"})
    assert invalid.status_code == 401 and invalid.get_json()["error"]["code"] == "session_invalid"
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    assert bad_token not in invalid.get_data(as_text=True)

    denied = call("/admin", {"Authorization": "Bearer wrong"})
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "admin_required"
    assert call("/admin", {"Authorization": f"Bearer {ADMIN}"}).get_json() == {"ok": True}
