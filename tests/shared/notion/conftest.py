"""Fixtures: a Notion sandbox served on 127.0.0.1 (a free port), and a webhook receiver."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.notion.sandbox import NotionSandbox, SandboxServer

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret-value"
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"  # never contacted: tests read the Location


class Clock:
    """The sandbox's notion of now, moved by tests."""

    def __init__(self) -> None:
        self.now = datetime(2026, 7, 6, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sandbox_clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(sandbox_clock) -> NotionSandbox:
    return NotionSandbox(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        today=date(2026, 7, 6),
        now=sandbox_clock,
    )


@pytest.fixture
def server(sandbox):
    with SandboxServer(sandbox) as running:
        yield running


class Receiver:
    """Captures POSTs (headers and raw body) like a webhook endpoint would receive them."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/notion/webhook"

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()
