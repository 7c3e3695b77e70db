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


@pytest.fixture(scope="session")
def tasks_emulator():
    """The Cloud Tasks emulator, started once for the session (installed on first use)."""
    from tests.support.requires import unavailable
    from tests.support.tasks_emulator import EmulatorUnavailable, TasksEmulator

    emulator = TasksEmulator(max_retries=3)
    try:
        emulator.start()
    except EmulatorUnavailable as exc:
        emulator.stop()
        unavailable(f"Cloud Tasks emulator: {exc}")
    try:
        yield emulator
    finally:
        emulator.stop()
