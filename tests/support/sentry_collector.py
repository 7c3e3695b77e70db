"""A local HTTP endpoint that receives Sentry envelopes (for tests: nothing leaves the machine)."""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SentryCollector:
    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        self.received = threading.Event()
        self.dsn = ""

    @property
    def raw(self) -> str:
        return b"\n".join(self.envelopes).decode("utf-8", "replace")

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.raw.splitlines() if line.startswith("{") and '"exception"' in line]


@contextlib.contextmanager
def sentry_collector() -> Iterator[SentryCollector]:
    collector = SentryCollector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            collector.envelopes.append(body)
            collector.received.set()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    collector.dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    try:
        yield collector
    finally:
        import sentry_sdk

        sentry_sdk.init(dsn=None)
        server.shutdown()
        server.server_close()
