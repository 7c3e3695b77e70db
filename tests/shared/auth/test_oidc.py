"""OIDC verification of Cloud Tasks / Cloud Scheduler calls, with real RS256 tokens signed by a
generated key whose certificate a local HTTP server publishes in Google's v1 certs format."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt
from google.auth.transport.requests import Request
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from shared.auth.oidc import (
    CachingRequest,
    OidcCertsUnavailable,
    OidcForbidden,
    OidcInvalid,
    TaskCaller,
    require_task_caller,
    verify_google_oidc,
)
from shared.config import Settings
from shared.errors import PermissionDenied, Unauthenticated

SA = "tasks-invoker@planner-prod.iam.gserviceaccount.com"
AGENT_URL = "https://agent-abc123-ew.a.run.app"
SYNC_URL = "https://sync-abc123-ew.a.run.app"
KID = "a1b2c3d4e5"


def _key_and_cert(common_name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def keys():
    google_key, google_cert = _key_and_cert("securetoken.system.gserviceaccount.com")
    other_key, _ = _key_and_cert("attacker")
    return {"google": google_key, "other": other_key, "cert": google_cert}


class CertsServer(BaseHTTPRequestHandler):
    certs: dict[str, str]
    hits: list[str]
    status = 200

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).hits.append(self.path)
        raw = json.dumps(type(self).certs).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Cache-Control", "public, max-age=19854, must-revalidate, no-transform")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def certs(keys):
    handler = type("Certs", (CertsServer,), {"certs": {KID: keys["cert"]}, "hits": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/oauth2/v1/certs"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def mint(keys, *, signer="google", kid=KID, **overrides) -> str:
    """A Google-shaped service account ID token (the claims Cloud Tasks' tokens carry)."""
    now = int(time.time())
    claims = {
        "aud": AGENT_URL,
        "azp": "112233445566778899000",
        "email": SA,
        "email_verified": True,
        "exp": now + 3600,
        "iat": now,
        "iss": "https://accounts.google.com",
        "sub": "112233445566778899000",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(crypt.RSASigner.from_string(keys[signer], key_id=kid), claims).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def verify(certs, headers, *, audience=AGENT_URL, expected=SA):
    _, url = certs
    return verify_google_oidc(headers, audience=audience, expected_service_account=expected, request=Request(), certs_url=url)


# --- verify_google_oidc ----------------------------------------------------------------------


def test_a_valid_token_returns_its_claims(keys, certs):
    claims = verify(certs, bearer(mint(keys)))

    assert claims["email"] == SA and claims["aud"] == AGENT_URL
    assert certs[0].hits == ["/oauth2/v1/certs"]


def test_the_short_issuer_is_google_too(keys, certs):
    assert verify(certs, bearer(mint(keys, iss="accounts.google.com")))["iss"] == "accounts.google.com"


def test_any_listed_audience_is_accepted(keys, certs):
    token = mint(keys, aud=f"{AGENT_URL}/tasks/plan")

    claims = verify(certs, bearer(token), audience=[AGENT_URL, f"{AGENT_URL}/tasks/plan"])

    assert claims["aud"] == f"{AGENT_URL}/tasks/plan"


def test_a_missing_header_is_unauthenticated(certs):
    with pytest.raises(OidcInvalid) as caught:
        verify(certs, {"Content-Type": "application/json"})
    assert caught.value.status == 401 and isinstance(caught.value, Unauthenticated)
    assert certs[0].hits == []


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token-without-scheme"])
def test_a_header_that_is_not_a_bearer_token_is_unauthenticated(certs, value):
    with pytest.raises(OidcInvalid):
        verify(certs, {"Authorization": value})


def test_a_malformed_token_is_unauthenticated_and_not_logged(certs, caplog):
    with pytest.raises(OidcInvalid):
        verify(certs, bearer("not.a-jwt-at-all-secret-ish"))
    assert "secret-ish" not in caplog.text


def test_an_expired_token_is_unauthenticated(keys, certs):
    past = int(time.time()) - 7200
    with pytest.raises(OidcInvalid) as caught:
        verify(certs, bearer(mint(keys, iat=past, exp=past + 3600)))
    assert caught.value.status == 401


def test_a_token_for_another_audience_is_unauthenticated(keys, certs):
    with pytest.raises(OidcInvalid):
        verify(certs, bearer(mint(keys, aud=SYNC_URL)))


def test_a_token_from_another_issuer_is_unauthenticated(keys, certs):
    with pytest.raises(OidcInvalid, match="not issued by Google"):
        verify(certs, bearer(mint(keys, iss="https://evil.example")))


def test_a_token_signed_by_another_key_is_unauthenticated(keys, certs):
    with pytest.raises(OidcInvalid):
        verify(certs, bearer(mint(keys, signer="other")))


def test_a_token_with_an_unknown_key_id_is_unauthenticated(keys, certs):
    with pytest.raises(OidcInvalid):
        verify(certs, bearer(mint(keys, kid="rotated-away")))


def test_a_valid_token_of_another_account_is_forbidden(keys, certs):
    token = mint(keys, email="someone@gmail.com")

    with pytest.raises(OidcForbidden) as caught:
        verify(certs, bearer(token))

    assert caught.value.status == 403 and isinstance(caught.value, PermissionDenied)


def test_an_unverified_email_is_forbidden(keys, certs):
    with pytest.raises(OidcForbidden, match="not verified"):
        verify(certs, bearer(mint(keys, email_verified=False)))


def test_a_token_without_email_is_forbidden(keys, certs):
    with pytest.raises(OidcForbidden):
        verify(certs, bearer(mint(keys, email=None, email_verified=None)))


def test_without_an_expected_account_any_google_account_passes(keys, certs):
    assert verify(certs, bearer(mint(keys, email="someone@gmail.com")), expected=None)["email"] == "someone@gmail.com"


def test_unreachable_certificates_are_unavailable_not_unauthenticated(keys, certs):
    certs[0].status = 500

    with pytest.raises(OidcCertsUnavailable) as caught:
        verify(certs, bearer(mint(keys)))

    assert caught.value.status == 503


def test_the_caching_request_fetches_certificates_once_per_max_age(keys, certs):
    handler, url = certs
    now = [0.0]
    cached = CachingRequest(Request(), clock=lambda: now[0])

    for _ in range(3):
        verify_google_oidc(bearer(mint(keys)), audience=AGENT_URL, expected_service_account=SA, request=cached, certs_url=url)
    assert len(handler.hits) == 1

    now[0] += 19854
    verify_google_oidc(bearer(mint(keys)), audience=AGENT_URL, expected_service_account=SA, request=cached, certs_url=url)
    assert len(handler.hits) == 2


# --- require_task_caller ---------------------------------------------------------------------


def flask_request(path: str, headers: dict[str, str]) -> WerkzeugRequest:
    return WerkzeugRequest(EnvironBuilder(path=path, method="POST", headers=headers, json={}).get_environ())


def local_settings() -> Settings:
    return Settings(profile="local")


def gcp_settings(**overrides) -> Settings:
    values = dict(
        profile="gcp",
        gcp_project="planner-prod",
        gcs_bucket="planner-prod-data",
        tasks_location="europe-west1",
        tasks_service_account=SA,
        function_urls={"agent": AGENT_URL, "sync": SYNC_URL},
        session_signing_key="s" * 43,
        token_kek="k" * 44,
        notion_client_id="notion-client-id-1",
        notion_client_secret="notion-client-secret-1",
        csrf_secret="c" * 43,
    )
    values.update(overrides)
    return Settings(**values)


def test_local_admits_the_dispatchers_cloud_tasks_headers():
    request = flask_request(
        "/tasks/plan",
        {
            "X-CloudTasks-QueueName": "planning",
            "X-CloudTasks-TaskName": "plan-tenant-abc-0123",
            "X-CloudTasks-TaskRetryCount": "2",
            "X-CloudTasks-TaskExecutionCount": "1",
        },
    )

    caller = require_task_caller(request, local_settings(), function="agent")

    assert caller == TaskCaller(
        source="cloud-tasks", task_name="plan-tenant-abc-0123", queue_name="planning", retry_count=2, execution_count=1
    )


def test_local_admits_the_scheduler_headers():
    request = flask_request("/dispatch/planning", {"X-CloudScheduler": "true", "X-CloudScheduler-JobName": "planning-dispatch"})

    caller = require_task_caller(request, local_settings(), function="agent")

    assert (caller.source, caller.job_name) == ("cloud-scheduler", "planning-dispatch")


def test_local_refuses_a_request_without_them():
    with pytest.raises(OidcInvalid) as caught:
        require_task_caller(flask_request("/tasks/plan", {"X-CloudScheduler": "false"}), local_settings(), function="agent")
    assert caught.value.status == 401


def test_gcp_admits_a_token_for_the_function_url(keys, certs):
    _, url = certs
    request = flask_request("/tasks/plan", {**bearer(mint(keys)), "X-CloudTasks-TaskName": "plan-1"})

    caller = require_task_caller(request, gcp_settings(), function="agent", http_request=Request(), certs_url=url)

    assert (caller.source, caller.task_name, caller.email) == ("cloud-tasks", "plan-1", SA)


def test_gcp_admits_a_token_for_the_full_target_url(keys, certs):
    _, url = certs
    request = flask_request("/dispatch/planning", bearer(mint(keys, aud=f"{AGENT_URL}/dispatch/planning")))

    caller = require_task_caller(request, gcp_settings(), function="agent", http_request=Request(), certs_url=url)

    assert (caller.source, caller.email) == ("service-account", SA)


def test_gcp_refuses_headers_without_a_token(certs):
    _, url = certs
    request = flask_request("/tasks/plan", {"X-CloudTasks-TaskName": "plan-1"})

    with pytest.raises(OidcInvalid):
        require_task_caller(request, gcp_settings(), function="agent", http_request=Request(), certs_url=url)


def test_gcp_refuses_a_token_meant_for_another_function(keys, certs):
    _, url = certs
    request = flask_request("/tasks/plan", bearer(mint(keys, aud=SYNC_URL)))

    with pytest.raises(OidcInvalid):
        require_task_caller(request, gcp_settings(), function="agent", http_request=Request(), certs_url=url)


def test_gcp_refuses_everything_when_no_service_account_is_configured(keys, certs):
    _, url = certs
    request = flask_request("/tasks/plan", bearer(mint(keys)))

    # Settings already refuse a gcp profile without it; this checks the defence in depth behind that.
    unvalidated = gcp_settings().model_copy(update={"tasks_service_account": ""})
    with pytest.raises(OidcForbidden, match="no task service account"):
        require_task_caller(request, unvalidated, function="agent", http_request=Request(), certs_url=url)
    assert certs[0].hits == []
