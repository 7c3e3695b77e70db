"""Start and stop the official Cloud Firestore emulator for a test session.

Usage (any test folder)::

    from tests.support.firestore_emulator import EmulatorUnavailable, firestore_emulator

    with firestore_emulator() as emulator:      # binds 127.0.0.1 on a free port
        client = emulator.client()              # a fresh, random project id: isolated data
        ...
        emulator.reset(client.project)          # drop that project's documents

The emulator runs in its own process group; on exit the whole group is killed, and so is any
descendant that left it (the wrapper script's java child would otherwise survive the wrapper).
While the context is open ``FIRESTORE_EMULATOR_HOST`` points at it; the previous value is restored
on exit. When java or the emulator is missing, or it does not answer in time,
:class:`EmulatorUnavailable` is raised: fixtures turn it into ``tests.support.requires.unavailable``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

EMULATOR_DIR = Path("/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator")
EMULATOR_SCRIPT = EMULATOR_DIR / "cloud_firestore_emulator"
START_TIMEOUT_SECONDS = 60.0
ENV_VAR = "FIRESTORE_EMULATOR_HOST"


class EmulatorUnavailable(RuntimeError):
    """The emulator (or java) is missing or did not start."""


@dataclass(frozen=True)
class FirestoreEmulator:
    """A running emulator: where it answers and how to get an isolated client."""

    host: str  # "127.0.0.1:PORT"

    def client(self, project: str | None = None):
        """A ``google.cloud.firestore.Client`` on a fresh project id (so tests never share data)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import firestore

        # The client reads the variable once, at construction: set it just for that.
        previous = os.environ.get(ENV_VAR)
        os.environ[ENV_VAR] = self.host
        try:
            return firestore.Client(project=project or new_project_id(), credentials=AnonymousCredentials())
        finally:
            if previous is None:
                os.environ.pop(ENV_VAR, None)
            else:
                os.environ[ENV_VAR] = previous

    def reset(self, project: str, database: str = "(default)") -> None:
        """Delete every document of ``project`` (the emulator's own reset endpoint)."""
        url = f"http://{self.host}/emulator/v1/projects/{project}/databases/{database}/documents"
        httpx.delete(url, timeout=10.0).raise_for_status()


def new_project_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def firestore_emulator(start_timeout: float = START_TIMEOUT_SECONDS) -> Iterator[FirestoreEmulator]:
    """Run the emulator on 127.0.0.1:<free port> for the duration of the context."""
    if not EMULATOR_SCRIPT.exists():
        raise EmulatorUnavailable(f"Firestore emulator not installed at {EMULATOR_DIR}")
    if shutil.which("java") is None:
        raise EmulatorUnavailable("java is not installed (the Firestore emulator needs it)")

    port = free_port()
    host = f"127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        ["bash", str(EMULATOR_SCRIPT), "start", "--host=127.0.0.1", f"--port={port}"],
        cwd=str(EMULATOR_DIR),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed as a whole below
    )
    previous = os.environ.get(ENV_VAR)
    try:
        _wait_until_answering(process, host, start_timeout, log)
        os.environ[ENV_VAR] = host
        yield FirestoreEmulator(host=host)
    finally:
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous
        _stop(process)
        log.close()


def _wait_until_answering(process: subprocess.Popen, host: str, timeout: float, log) -> None:
    # Polling for readiness is the only signal the emulator gives; this bounds start-up, it does
    # not measure anything a test asserts.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            raise EmulatorUnavailable(f"Firestore emulator exited with {process.returncode}: {tail}")
        try:
            httpx.get(f"http://{host}/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    _stop(process)
    raise EmulatorUnavailable(f"Firestore emulator did not answer on {host} within {timeout:.0f} s")


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (read from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." — comm may contain spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _stop(process: subprocess.Popen) -> None:
    pids = [process.pid, *_descendants(process.pid)]
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
