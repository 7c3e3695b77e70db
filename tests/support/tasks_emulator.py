"""The Cloud Tasks emulator (PyPI ``gcloud-tasks-emulator``) for contract tests.

It pins protobuf<5, which would downgrade the project's Google clients, so it lives in its own venv:
``$TASKS_EMULATOR_BIN`` when set (the emulator's CLI), otherwise ``<repo>/.venv-tasks-emulator``,
created here on first use (``python -m venv`` + ``pip install``) and reused afterwards. The
emulator's gRPC server listens on every interface; when we run it from our venv, a small launcher
binds it to 127.0.0.1 instead. It runs in its own process group, killed whole on stop.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-tasks-emulator"
INSTALLED_MARKER = VENV / ".installed"
PACKAGE = "gcloud-tasks-emulator==0.6.2"
INSTALL_TIMEOUT = 600
START_TIMEOUT = 60

# Runs the emulator's own CLI after rewriting its "[::]:PORT" bind address to the loopback.
_LAUNCHER = """
import grpc, sys
_server = grpc.server
class _Loopback:
    def __init__(self, inner): self._inner = inner
    def add_insecure_port(self, address): return self._inner.add_insecure_port(address.replace("[::]", "127.0.0.1"))
    def __getattr__(self, name): return getattr(self._inner, name)
grpc.server = lambda *a, **k: _Loopback(_server(*a, **k))
from gcloud_tasks_emulator.__main__ import main
sys.argv[0] = "gcloud-tasks-emulator"
main()
"""


class EmulatorUnavailable(RuntimeError):
    """The emulator could not be installed or started (the reason is the message)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_installed() -> list[str]:
    """The command prefix that runs the emulator's CLI, installing its venv when absent."""
    binary = os.environ.get("TASKS_EMULATOR_BIN")
    if binary:
        if not Path(binary).exists() and shutil.which(binary) is None:
            raise EmulatorUnavailable(f"TASKS_EMULATOR_BIN={binary} does not exist")
        return [binary]
    if not INSTALLED_MARKER.exists():
        _install()
    return [str(VENV / "bin" / "python"), "-c", _LAUNCHER]


def _install() -> None:
    # A lock, because two pytest processes may both find the venv missing; a marker written last,
    # so a venv whose install was interrupted is rebuilt rather than trusted.
    lock_path = Path(tempfile.gettempdir()) / f"tasks-emulator-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if INSTALLED_MARKER.exists():
            return
        base_python = getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable
        for command in (
            [base_python, "-m", "venv", "--clear", str(VENV)],
            [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PACKAGE],
        ):
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise EmulatorUnavailable(f"{' '.join(command[-3:])} timed out") from None
            if done.returncode != 0:
                raise EmulatorUnavailable(f"{' '.join(command[-3:])} failed: {done.stderr.strip()[-800:]}")
        INSTALLED_MARKER.write_text(PACKAGE + "\n")


class TasksEmulator:
    """One running emulator on a free loopback port; use as a context manager."""

    def __init__(self, *, max_retries: int = 3) -> None:
        self.max_retries = max_retries
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "TasksEmulator":
        command = ensure_installed()
        self.port = free_port()
        self.process = subprocess.Popen(
            [*command, "start", "-p", str(self.port), "-r", str(self.max_retries), "-q"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole in stop()
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import grpc

        deadline = time.monotonic() + START_TIMEOUT
        channel = grpc.insecure_channel(self.address)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise EmulatorUnavailable(f"the emulator exited with {self.process.returncode}: {self.output()[-800:]}")
                try:
                    grpc.channel_ready_future(channel).result(timeout=1)
                    return
                except grpc.FutureTimeoutError:
                    continue
        finally:
            channel.close()
        self.stop()
        raise EmulatorUnavailable(f"the emulator did not answer on {self.address} within {START_TIMEOUT}s")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.process = None
        self._log.close()

    def __enter__(self) -> "TasksEmulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
