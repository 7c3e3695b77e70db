"""Notion's OAuth endpoints faked at the HTTP transport (httpx2.MockTransport, as authlib uses).

Speaks Notion's protocol: HTTP Basic client auth, JSON bodies, the documented token response
shape, rotating refresh tokens (a used refresh token is dead), Notion's error body
``{"object": "error", "status", "code", "message"}``, revoke and introspect.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field

import httpx2

CLIENT_ID = "1f2d872b-594c-80e7-abcd-0037a1b2c3d4"
CLIENT_SECRET = "secret_ClientSecretForTests0123456789abcdef"
WORKSPACE_ID = "7a3f2c1e-0b9d-4c8e-9f1a-2b3c4d5e6f70"


@dataclass
class FakeNotionOAuth:
    workspace_id: str = WORKSPACE_ID
    workspace_name: str = "Ada's Workspace"
    codes: dict[str, str] = field(default_factory=dict)  # code -> workspace id
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)
    fail_next: int = 0  # answer the next N token requests with a 503
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_code(self, workspace_id: str | None = None) -> str:
        code = f"code-{next(self._counter)}"
        self.codes[code] = workspace_id or self.workspace_id
        return code

    def _error(self, status: int, code: str, message: str) -> httpx2.Response:
        return httpx2.Response(status, json={"object": "error", "status": status, "code": code, "message": message,
                                             "request_id": "b1f6e2a0-0000-4000-8000-000000000000"})

    def _pair(self, workspace_id: str) -> dict:
        n = next(self._counter)
        access, refresh = f"ntn_access{n:04d}xxxxxxxxxxxxxxxx", f"nrt_refresh{n:04d}xxxxxxxxxxxxxx"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {
            "access_token": access, "token_type": "bearer", "refresh_token": refresh,
            "bot_id": "b0b0b0b0-1111-4222-8333-444455556666", "workspace_id": workspace_id,
            "workspace_name": self.workspace_name, "workspace_icon": None,
            "owner": {"type": "user", "user": {"object": "user", "id": "u5e7-0000-4000-8000-000000000001"}},
            "duplicated_template_id": None, "request_id": "a1b2c3d4-0000-4000-8000-000000000000",
        }

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                return self._error(401, "unauthorized", "Invalid client.")
            if request.headers.get("Content-Type", "").split(";")[0] != "application/json":
                return self._error(400, "invalid_request", "Body must be JSON.")
            body = json.loads(request.content or b"{}")
            path = request.url.path
            self.calls.append((path, body))
            if path == "/v1/oauth/token":
                if self.fail_next:
                    self.fail_next -= 1
                    return self._error(503, "service_unavailable", "Try later.")
                if body.get("grant_type") == "authorization_code":
                    workspace = self.codes.pop(body.get("code"), None)
                    if workspace is None:
                        return self._error(400, "invalid_grant", "Invalid code.")
                    return httpx2.Response(200, json=self._pair(workspace))
                if body.get("grant_type") == "refresh_token":
                    token = body.get("refresh_token")
                    if token not in self.refresh_tokens:
                        return self._error(400, "invalid_grant", "Invalid refresh token.")
                    self.refresh_tokens.discard(token)  # rotation: the old one dies
                    return httpx2.Response(200, json=self._pair(self.workspace_id))
                return self._error(400, "unsupported_grant_type", "Unsupported.")
            if path == "/v1/oauth/revoke":
                self.revoked.append(body.get("token"))
                self.access_tokens.discard(body.get("token"))
                return httpx2.Response(200, json={})
            if path == "/v1/oauth/introspect":
                return httpx2.Response(200, json={"active": body.get("token") in self.access_tokens})
            return self._error(404, "object_not_found", "Not found.")

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handler)

    def token_calls(self, grant_type: str) -> int:
        return sum(1 for path, body in self.calls if path == "/v1/oauth/token" and body.get("grant_type") == grant_type)
