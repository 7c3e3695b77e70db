"""What only the Cloud Storage adapter has: settings wiring, the requests it sends, retries and the
mapping of HTTP failures. Scripted answers come from a local HTTP server, so these tests see the
exact requests the client library makes; the shared contract runs against the emulator in
test_contract.py."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.blobs.base import Blob, BlobInfo
from shared.blobs.errors import BlobError, BlobNotFound, GenerationMismatch
from shared.blobs.gcs import GcsBlobStore
from shared.config import Settings

A = "tenant-a"
BUCKET = "bkt"
# Retries as in production, but with millisecond backoff so scripted 503s do not slow the suite.
FAST_RETRY = DEFAULT_RETRY.with_delay(initial=0.001, maximum=0.005).with_timeout(10)


@dataclass
class Reply:
    status: int
    body: bytes | dict = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes


class ScriptedGcs:
    """A local HTTP server answering with queued replies and recording every request."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                path = unquote(url.path)
                if self.command == "GET" and path == f"/storage/v1/b/{BUCKET}":
                    # The library fetches bucket metadata in a background thread, at a moment of
                    # its choosing: answer it aside, so it neither consumes nor reorders the script.
                    reply = Reply(200, {"kind": "storage#bucket", "name": BUCKET, "location": "US"})
                else:
                    script.seen.append(Seen(self.command, path, parse_qs(url.query), body))
                    reply = script.replies.pop(0) if script.replies else Reply(500, {"error": {"code": 500}})
                payload = json.dumps(reply.body).encode() if isinstance(reply.body, dict) else reply.body
                self.send_response(reply.status)
                content_type = "application/json" if isinstance(reply.body, dict) else "application/octet-stream"
                self.send_header("Content-Type", content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def store(self, *, retry=FAST_RETRY) -> GcsBlobStore:
        client = storage.Client(
            project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": self.endpoint}
        )
        return GcsBlobStore(client, BUCKET, retry=retry, timeout=10)


@pytest.fixture
def gcs() -> Iterator[ScriptedGcs]:
    scripted = ScriptedGcs()
    scripted.thread.start()
    try:
        yield scripted
    finally:
        scripted.server.shutdown()
        scripted.server.server_close()


def _error(status: int) -> Reply:
    return Reply(status, {"error": {"code": status, "message": "scripted"}})


def _resource(name: str, generation: int, size: int) -> dict:
    return {"kind": "storage#object", "bucket": BUCKET, "name": name, "generation": str(generation),
            "metageneration": "1", "size": str(size)}


# --- requests and mapping -------------------------------------------------------------------------


def test_conditional_delete_sends_the_precondition_and_maps_412(gcs):
    gcs.replies = [_error(412)]

    with pytest.raises(GenerationMismatch):
        gcs.store().delete("doc", tenant_id=A, if_generation_match=17)

    assert [(s.method, s.path) for s in gcs.seen] == [("DELETE", f"/storage/v1/b/{BUCKET}/o/tenants/{A}/doc")]
    assert gcs.seen[0].query["ifGenerationMatch"] == ["17"]


def test_conditional_write_sends_the_precondition_and_maps_412(gcs):
    gcs.replies = [_error(412)]

    with pytest.raises(GenerationMismatch):
        gcs.store().write("doc", b"x", tenant_id=A, if_generation_match=0)

    assert (gcs.seen[0].method, gcs.seen[0].path) == ("POST", f"/upload/storage/v1/b/{BUCKET}/o")
    assert gcs.seen[0].query["uploadType"] == ["multipart"]  # one request: data and metadata together
    assert gcs.seen[0].query["ifGenerationMatch"] == ["0"]
    assert f'"name": "tenants/{A}/doc"'.encode() in gcs.seen[0].body


def test_read_takes_the_generation_from_the_download_response(gcs):
    gcs.replies = [Reply(200, b"payload", {"x-goog-generation": "1700000000000001"})]

    assert gcs.store().read("doc", tenant_id=A) == Blob("doc", b"payload", 1700000000000001)
    assert len(gcs.seen) == 1  # one request: bytes and generation cannot come from different versions
    assert gcs.seen[0].query["alt"] == ["media"]


def test_read_of_a_missing_object_is_blob_not_found(gcs):
    gcs.replies = [_error(404)]

    with pytest.raises(BlobNotFound):
        gcs.store().read("doc", tenant_id=A)


def test_transient_errors_on_reads_are_retried(gcs):
    gcs.replies = [_error(503), _error(429), Reply(200, _resource(f"tenants/{A}/doc", 5, 3))]

    assert gcs.store().stat("doc", tenant_id=A) == BlobInfo("doc", 5, 3)
    assert len(gcs.seen) == 3


def test_conditional_writes_are_retried(gcs):
    gcs.replies = [_error(503), Reply(200, _resource(f"tenants/{A}/doc", 9, 1))]

    assert gcs.store().write("doc", b"x", tenant_id=A, if_generation_match=8) == 9
    assert len(gcs.seen) == 2


def test_unconditional_writes_are_not_retried(gcs):
    gcs.replies = [_error(503), Reply(200, _resource(f"tenants/{A}/doc", 9, 1))]

    with pytest.raises(BlobError):
        gcs.store().write("doc", b"x", tenant_id=A)
    assert len(gcs.seen) == 1


def test_persistent_failures_become_blob_error(gcs):
    gcs.replies = [_error(503)] * 3

    with pytest.raises(BlobError) as caught:
        gcs.store(retry=None).list(tenant_id=A)

    assert caught.value.status == 503
    assert len(gcs.seen) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_other_http_errors_become_blob_error(gcs, status):
    gcs.replies = [_error(status)]

    with pytest.raises(BlobError):
        gcs.store(retry=None).delete("doc", tenant_id=A)


def test_an_unreachable_backend_is_blob_error_and_the_log_names_no_object(gcs, caplog):
    store = gcs.store(retry=None)
    gcs.server.shutdown()
    gcs.server.server_close()  # nothing listens on the port any more

    with caplog.at_level(logging.WARNING, logger="shared.blobs.gcs"), pytest.raises(BlobError):
        store.read("private/plan.json", tenant_id=A)

    assert "cloud storage read failed" in caplog.text
    assert "plan.json" not in caplog.text and A not in caplog.text


def test_list_maps_resources_to_relative_keys(gcs):
    gcs.replies = [Reply(200, {"kind": "storage#objects", "items": [
        _resource(f"tenants/{A}/b", 2, 1), _resource(f"tenants/{A}/a/x", 1, 4),
    ]})]

    assert gcs.store().list("", tenant_id=A) == [BlobInfo("a/x", 1, 4), BlobInfo("b", 2, 1)]
    assert gcs.seen[0].query["prefix"] == [f"tenants/{A}/"]


# --- settings ---------------------------------------------------------------------------------------


@pytest.mark.emulator
def test_from_settings_uses_project_and_bucket(gcs_server, monkeypatch):
    bucket = gcs_server.create_bucket()
    for name, value in gcs_server.env.items():
        monkeypatch.setenv(name, value)  # the client library then talks to the emulator, anonymously

    store = GcsBlobStore.from_settings(Settings(gcp_project="proj-1", gcs_bucket=bucket))
    generation = store.write("k", b"v", tenant_id=A)

    assert store.read("k", tenant_id=A) == Blob("k", b"v", generation)
    assert [blob.name for blob in gcs_server.client().list_blobs(bucket)] == [f"tenants/{A}/k"]


def test_from_settings_requires_a_bucket():
    with pytest.raises(ValueError, match="PLANNER_GCS_BUCKET"):
        GcsBlobStore.from_settings(Settings(gcp_project="proj-1", gcs_bucket=""))
