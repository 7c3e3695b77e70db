"""The one-command local stack: every function answers, the dispatcher delivers queued tasks, the
scheduler tick fires, and Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.localstack.stack import FUNCTIONS, KNOWN_FUNCTIONS, SANDBOX_PORT_OFFSET
from shared.taskqueue.base import TaskRequest
from shared.taskqueue.local import SqliteTaskQueue

ROOT = Path(__file__).resolve().parents[3]


def _free_base_port() -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + SANDBOX_PORT_OFFSET >= 65535:
            continue
        taken = False
        for offset in range(SANDBOX_PORT_OFFSET + 1):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", base + offset))
                except OSError:
                    taken = True
                    break
        if not taken:
            return base
    pytest.fail("no free block of ports")


def _wait(predicate, timeout: float = 90.0) -> bool:
    # Polls for an outcome (not a timing assertion): the bound only stops a broken run.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def stack(tmp_path):
    base = _free_base_port()
    log = (tmp_path / "stack.log").open("w+")
    env = dict(os.environ, PYTHONPATH=str(ROOT), ANONYMIZED_TELEMETRY="False")
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.localstack", "--base-port", str(base), "--data-dir", str(tmp_path / "data"),
         "--tick-seconds", "1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    urls = {name: f"http://127.0.0.1:{base + KNOWN_FUNCTIONS.index(name)}" for name in FUNCTIONS}
    try:
        ready = _wait(lambda: "Local stack is up" in (tmp_path / "stack.log").read_text() or process.poll() is not None)
        assert ready and process.poll() is None, (tmp_path / "stack.log").read_text()[-4000:]
        yield process, urls, tmp_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_stack_serves_every_function_dispatches_tasks_and_stops_on_ctrl_c(stack):
    process, urls, tmp_path = stack
    assert set(urls) >= {"oauth", "agent", "sync", "usage"}
    for name, url in urls.items():
        body = httpx.get(f"{url}/healthz", timeout=10).json()
        assert body["status"] == "ok" and body["function"] == name and body["profile"] == "local"
    output = (tmp_path / "stack.log").read_text()
    for url in urls.values():
        assert url in output  # the URLs are printed

    # A task queued by any process is delivered by the stack's dispatcher (here to a route that
    # exists on every function, so the delivery itself is what is observed).
    queue = SqliteTaskQueue(tmp_path / "data" / "tasks.sqlite3")
    queue.enqueue(TaskRequest(queue="sync", function="usage", path="/healthz", tenant_id="tenant-one", name="probe-1"))
    assert _wait(lambda: any(task.attempts >= 1 for task in queue.all_tasks())), "the dispatcher never delivered"

    # The scheduler tick fires the jobs declared in infra/scheduler.json.
    assert _wait(lambda: "scheduler job planning-dispatch" in (tmp_path / "stack.log").read_text())

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert "Local stack stopped." in (tmp_path / "stack.log").read_text()
    for url in urls.values():
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/healthz", timeout=2)
