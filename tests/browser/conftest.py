"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and the whole local stack
(every function, the task dispatcher, the scheduler tick, the Notion sandbox) on free ports.

Chromium comes from Debian (``apt-get install chromium``, done by scripts/bootstrap.sh with
WITH_BROWSER=1, which scripts/test.sh sets); Playwright's own browser download is never used.
Without Chromium or Playwright the tests are skipped locally and fail on CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.localstack.stack import FUNCTIONS, KNOWN_FUNCTIONS, SANDBOX_PORT_OFFSET
from tests.support.requires import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_base_port() -> int:
    """A base port whose whole block (functions and sandbox) is free right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + SANDBOX_PORT_OFFSET >= 65535:
            continue
        try:
            for offset in range(SANDBOX_PORT_OFFSET + 1):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        return base
    pytest.fail("no free block of ports")


@dataclass(frozen=True)
class Stack:
    urls: dict[str, str]
    notion: str  # the sandbox
    data_dir: Path
    log: Path


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    if "web" not in FUNCTIONS:
        pytest.fail("functions/web is missing")
    tmp = tmp_path_factory.mktemp("browser-stack")
    base = _free_base_port()
    log_path = tmp / "stack.log"
    log = log_path.open("w+")
    env = dict(os.environ, PYTHONPATH=str(ROOT), ANONYMIZED_TELEMETRY="False")
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.localstack", "--base-port", str(base), "--data-dir", str(tmp / "data"),
         "--tick-seconds", "2"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        # Polls for the stack's own "up" line; the bound only stops a broken run.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if "Local stack is up" in log_path.read_text() or process.poll() is not None:
                break
            time.sleep(0.2)
        assert process.poll() is None and "Local stack is up" in log_path.read_text(), log_path.read_text()[-4000:]
        urls = {name: f"http://127.0.0.1:{base + KNOWN_FUNCTIONS.index(name)}" for name in FUNCTIONS}
        yield Stack(urls=urls, notion=f"http://127.0.0.1:{base + SANDBOX_PORT_OFFSET}", data_dir=tmp / "data",
                    log=log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # the stack stops its children on Ctrl-C
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "stack.log")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium; scripts/bootstrap.sh with WITH_BROWSER=1)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots(request):
    """``shots("name")`` saves a full-page screenshot of ``page`` as test-artifacts/browser/NN-name.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page, name: str) -> Path:
        counter["n"] += 1
        path = ARTIFACTS / f"{request.node.name}-{counter['n']:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
