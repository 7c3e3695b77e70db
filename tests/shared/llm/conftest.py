"""Fixtures of the LLM tests: a fixed instant and timezone, recorded sleeps."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.llm.base import LLMContext

TENANT = "tenant-llm-1"


@pytest.fixture
def context() -> LLMContext:
    # Tuesday 1 December 2026, 10:30 in Paris (09:30 UTC).
    return LLMContext(now=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc), timezone="Europe/Paris", request_id="req-1")


class RecordedSleep:
    """An injectable ``sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()
