"""The Secret Manager store, tested at the transport: the real client on its REST transport talks
to a local HTTP server that answers AccessSecretVersion with the API's real JSON shapes."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import google_crc32c
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from shared.config import Settings
from shared.secrets import SecretNotFound, SecretStore
from shared.secrets.secretmanager import SecretIntegrityError, SecretManagerSecretStore, SecretStoreUnavailable

PROJECT = "planner-prod"
PROJECT_NUMBER = "123456789012"


class FakeSecretManager(BaseHTTPRequestHandler):
    """``GET /v1/projects/P/secrets/NAME/versions/latest:access`` over a dict of secrets."""

    secrets: dict[str, bytes]
    corrupt: set[str]
    denied: set[str]
    failing: list[int]
    requests: list[str]

    def do_GET(self):  # noqa: N802 - http.server's naming
        cls = type(self)
        cls.requests.append(self.path)
        prefix = f"/v1/projects/{PROJECT}/secrets/"
        suffix = "/versions/latest:access"
        path = self.path.split("?", 1)[0]
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return self._error(404, "NOT_FOUND", "Unknown path")
        name = path[len(prefix) : -len(suffix)]
        if cls.failing:
            return self._error(cls.failing.pop(0), "UNAVAILABLE", "The service is currently unavailable.")
        if name in cls.denied:
            return self._error(
                403,
                "PERMISSION_DENIED",
                f"Permission 'secretmanager.versions.access' denied for resource "
                f"'projects/{PROJECT}/secrets/{name}/versions/latest' (or it may not exist).",
            )
        if name not in cls.secrets:
            return self._error(
                404, "NOT_FOUND", f"Secret [projects/{PROJECT_NUMBER}/secrets/{name}] not found or has no versions."
            )
        data = cls.secrets[name]
        crc = google_crc32c.value(data) ^ (1 if name in cls.corrupt else 0)
        self._json(
            200,
            {
                "name": f"projects/{PROJECT_NUMBER}/secrets/{name}/versions/3",
                "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)},
            },
        )

    def _error(self, code: int, status: str, message: str) -> None:
        self._json(code, {"error": {"code": code, "message": message, "status": status}})

    def _json(self, code: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api():
    handler = type(
        "Api", (FakeSecretManager,), {"secrets": {}, "corrupt": set(), "denied": set(), "failing": [], "requests": []}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    client = secretmanager.SecretManagerServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{server.server_address[1]}"),
    )
    try:
        yield handler, client
    finally:
        client.transport.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def store_for(client, clock, **kwargs) -> SecretManagerSecretStore:
    kwargs.setdefault("retry", None)
    return SecretManagerSecretStore(client, PROJECT, 300, clock, **kwargs)


def test_it_implements_the_port(api, clock):
    assert isinstance(store_for(api[1], clock), SecretStore)


def test_the_latest_version_is_read_and_cached(api, clock):
    handler, client = api
    handler.secrets["token-kek"] = b"a2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc="
    store = store_for(client, clock)

    first = store.get("token-kek")
    clock.now += 299
    second = store.get("token-kek")

    assert first == second == "a2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzLWxvbmc="
    assert [p.split("?")[0] for p in handler.requests] == [f"/v1/projects/{PROJECT}/secrets/token-kek/versions/latest:access"]


def test_an_expired_entry_is_fetched_again(api, clock):
    handler, client = api
    handler.secrets["token-kek"] = b"v1"
    store = store_for(client, clock)
    assert store.get("token-kek") == "v1"

    handler.secrets["token-kek"] = b"v2"
    clock.now += 300

    assert store.get("token-kek") == "v2"
    assert len(handler.requests) == 2


def test_refresh_bypasses_the_cache_and_updates_it(api, clock):
    handler, client = api
    handler.secrets["token-kek"] = b"v1"
    store = store_for(client, clock)
    store.get("token-kek")
    handler.secrets["token-kek"] = b"v2"

    assert store.get("token-kek") == "v1"
    assert store.get("token-kek", refresh=True) == "v2"
    assert store.get("token-kek") == "v2"
    assert len(handler.requests) == 2


def test_a_zero_ttl_caches_nothing(api, clock):
    handler, client = api
    handler.secrets["csrf-secret"] = b"c"
    store = SecretManagerSecretStore(client, PROJECT, 0, clock, retry=None)

    store.get("csrf-secret")
    store.get("csrf-secret")

    assert len(handler.requests) == 2


def test_not_found_names_the_secret(api, clock):
    handler, client = api

    with pytest.raises(SecretNotFound) as caught:
        store_for(client, clock).get("session-keys")

    assert "'session-keys'" in caught.value.message and PROJECT in caught.value.message


def test_permission_denied_names_the_secret_and_the_role(api, clock):
    handler, client = api
    handler.secrets["token-kek"] = b"hidden"
    handler.denied.add("token-kek")

    with pytest.raises(SecretNotFound) as caught:
        store_for(client, clock).get("token-kek")

    assert "'token-kek'" in caught.value.message
    assert "roles/secretmanager.secretAccessor" in caught.value.message


def test_a_bad_crc32c_is_refused_and_not_cached(api, clock):
    handler, client = api
    handler.secrets["token-kek"] = b"v1"
    handler.corrupt.add("token-kek")
    store = store_for(client, clock)

    with pytest.raises(SecretIntegrityError) as caught:
        store.get("token-kek")
    assert caught.value.status == 503 and "v1" not in caught.value.message

    handler.corrupt.clear()
    assert store.get("token-kek") == "v1"
    assert len(handler.requests) == 2


def test_a_payload_without_crc_is_accepted(api, clock, monkeypatch):
    handler, client = api
    handler.secrets["legacy"] = b"old"

    def without_crc(self, code, body):
        body.get("payload", {}).pop("dataCrc32c", None)
        FakeSecretManager._json(self, code, body)

    monkeypatch.setattr(handler, "_json", without_crc)

    assert store_for(client, clock).get("legacy") == "old"


def test_a_transient_failure_is_unavailable(api, clock):
    handler, client = api
    handler.secrets["token-kek"] = b"v1"
    handler.failing.append(503)

    with pytest.raises(SecretStoreUnavailable) as caught:
        store_for(client, clock).get("token-kek")

    assert caught.value.status == 503 and "'token-kek'" in caught.value.message


def test_a_transient_failure_is_retried_by_the_configured_policy(api, clock):
    from shared.secrets.secretmanager import DEFAULT_RETRY

    handler, client = api
    handler.secrets["token-kek"] = b"v1"
    handler.failing.append(503)
    store = store_for(client, clock, retry=DEFAULT_RETRY.with_delay(initial=0.001, maximum=0.001))

    assert store.get("token-kek") == "v1"
    assert len(handler.requests) == 2


def test_an_unreachable_service_is_unavailable(clock):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = secretmanager.SecretManagerServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{port}"),
    )

    with pytest.raises(SecretStoreUnavailable):
        store_for(client, clock).get("token-kek")


def test_from_settings_uses_the_project_and_cache_seconds(api):
    handler, client = api
    handler.secrets["token-kek"] = b"v1"
    settings = Settings(gcp_project=PROJECT, secret_cache_seconds=42)

    store = SecretManagerSecretStore.from_settings(settings, client=client)

    assert (store.project, store.ttl_seconds) == (PROJECT, 42)
    assert store.get("token-kek") == "v1"
