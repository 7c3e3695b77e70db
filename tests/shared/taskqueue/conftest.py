"""Fixtures of the task queue tests: an injectable clock and a queue file in a temp folder."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.taskqueue.local import SqliteTaskQueue


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc))


@pytest.fixture
def queue(tmp_path, clock) -> SqliteTaskQueue:
    return SqliteTaskQueue(tmp_path / "tasks.sqlite3", clock=clock)
