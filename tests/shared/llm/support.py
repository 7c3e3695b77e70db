"""Helpers for the LLM tests: fixtures on disk, the agent's tool specs, a scripted transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shared.llm.base import ToolSpec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "llm"


def fixture(name: str) -> Any:
    """A JSON fixture from tests/fixtures/llm."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


_S = {"type": "string"}
_PRIORITY = {"type": "string", "enum": ["low", "medium", "high", "urgent"]}
_STATUS = {"type": "string", "enum": ["todo", "in_progress", "blocked", "done", "cancelled"]}

# The agent's tools as the brief names them (the agent module owns the real definitions).
AGENT_TOOLS = (
    ToolSpec("search_tasks", "Search the user's tasks.", _schema({"query": _S, "status": _STATUS}, ["query"])),
    ToolSpec(
        "create_task",
        "Create a task.",
        _schema(
            {"title": _S, "due": _S, "priority": _PRIORITY, "estimate_minutes": {"type": "integer"}},
            ["title"],
        ),
    ),
    ToolSpec(
        "update_task",
        "Change a task (reschedule, priority, status, estimate).",
        _schema(
            {
                "task_id": _S,
                "title": _S,
                "due": _S,
                "scheduled_start": _S,
                "priority": _PRIORITY,
                "status": _STATUS,
                "estimate_minutes": {"type": "integer"},
            }
        ),
    ),
    ToolSpec("complete_task", "Mark a task done.", _schema({"task_id": _S, "title": _S})),
    ToolSpec("show_plan", "Show the plan of a day.", _schema({"date": _S})),
    ToolSpec("replan_day", "Replan the rest of today.", _schema({})),
)


class Script:
    """An ``httpx.MockTransport`` handler answering from a list, recording every request.

    Each step is an ``httpx.Response``, an exception to raise, or a callable taking the request.
    """

    def __init__(self, *steps: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError("the transport was called more often than scripted")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step) and not isinstance(step, httpx.Response):
            return step(request)
        return step

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


def ok(name: str, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=fixture(name), headers=headers)


def error(status: int, name: str | None = None, **headers: str) -> httpx.Response:
    if name is None:
        return httpx.Response(status, text="upstream connect error", headers=headers)
    return httpx.Response(status, json=fixture(name), headers=headers)
