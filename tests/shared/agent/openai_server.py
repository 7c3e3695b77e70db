"""A local server speaking the OpenAI Chat Completions protocol, answering from a script.

``POST /v1/chat/completions`` answers with the next scripted completion (tool calls or text, in
OpenAI's JSON shape with ``usage``) and keeps every request body, so a test can check what the
agent sent back (tool results, history). Binds 127.0.0.1 on a free port.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "gpt-4o-mini-2024-07-18"


def tool_calls(*calls: tuple[str, str | dict[str, Any]], usage: tuple[int, int] = (150, 25)) -> dict[str, Any]:
    """A completion asking for tools: ``(name, arguments)``; a str argument is sent verbatim."""
    return _completion({
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": f"call_{index}", "type": "function",
             "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
            for index, (name, args) in enumerate(calls, start=1)
        ],
    }, "tool_calls", usage)


def text(content: str, usage: tuple[int, int] = (200, 30)) -> dict[str, Any]:
    """A completion answering in text."""
    return _completion({"role": "assistant", "content": content}, "stop", usage)


def _completion(message: dict[str, Any], finish: str, usage: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1774848000, "model": MODEL,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
        "system_fingerprint": "fp_test",
    }


class ScriptedOpenAI:
    """Serves the scripted completions in order; the last one repeats if the script runs out."""

    def __init__(self, *script: dict[str, Any]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - stdlib name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                server.requests.append(body)
                server.authorizations.append(self.headers.get("Authorization"))
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                    return
                answer = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                self._send(200, answer)

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def tool_messages(self, request_index: int) -> list[dict[str, Any]]:
        """The tool results the agent sent in request ``request_index``."""
        return [m for m in self.requests[request_index]["messages"] if m["role"] == "tool"]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
