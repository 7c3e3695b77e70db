"""Test doubles for the Notion tests: a fake clock, a token provider, fixture loading."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "notion"


def fixture(name: str) -> Any:
    """A fresh copy of a JSON payload from tests/fixtures/notion."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


class FakeClock:
    """Injected time: ``sleep`` advances ``now`` instead of waiting.

    A sleep started at ``t`` for ``d`` seconds ends at ``t + d``; concurrent sleepers each end at
    their own deadline, so the clock reads the latest one once they have all woken up.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        deadline = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, deadline)


class FakeTokens:
    """A TokenProvider: one current token per tenant; refresh mints the next one."""

    def __init__(self, tokens: dict[str, str] | None = None) -> None:
        self.tokens = dict(tokens or {})
        self.refreshes: list[tuple[str, str]] = []

    async def get_token(self, tenant_id: str) -> str:
        return self.tokens.setdefault(tenant_id, f"{tenant_id}-token-1")

    async def refresh_token(self, tenant_id: str, rejected_token: str) -> str:
        self.refreshes.append((tenant_id, rejected_token))
        current = self.tokens.get(tenant_id, f"{tenant_id}-token-1")
        if current != rejected_token:
            return current
        number = int(current.rsplit("-", 1)[1]) + 1
        self.tokens[tenant_id] = f"{tenant_id}-token-{number}"
        return self.tokens[tenant_id]


def notion_error(status: int, code: str, message: str) -> dict[str, Any]:
    """An error body shaped like Notion's (see error_unauthorized.json)."""
    return {
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": "0b6e6d1c-5a3a-4f7e-9d7e-1e2f3a4b5c6d",
    }
