"""Cold start of each function: process start to first answered request, against hello-world.

Each sample starts ``functions-framework`` in a fresh process on a free port and polls until the
first 200 answer (``/healthz`` for our functions, ``/`` for the baseline), then kills it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._runner import Measurement, report

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = tuple(p.parent.name for p in sorted((ROOT / "functions").glob("*/main.py")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cold_start_once(source: Path, target: str, path: str, env: dict[str, str]) -> float:
    port = _free_port()
    command = [str(Path(sys.executable).parent / "functions-framework"), "--target", target,
               "--source", str(source), "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        with httpx.Client() as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{target} exited with {process.returncode}")
                try:
                    if client.get(f"http://127.0.0.1:{port}{path}", timeout=1.0).status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run(repeat: int = 5) -> list[dict]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PLANNER_PROFILE="local", PLANNER_DATA_DIR=data_dir,
                   ANONYMIZED_TELEMETRY="False")
        baseline = Measurement("hello-world (functions-framework)")
        measured = {name: Measurement(f"function {name}") for name in FUNCTIONS}
        # Interleave samples so load drift hits baseline and functions alike.
        for _ in range(repeat):
            baseline.samples.append(cold_start_once(ROOT / "bench/hello/main.py", "hello", "/", env))
            for name in FUNCTIONS:
                measured[name].samples.append(
                    cold_start_once(ROOT / "functions" / name / "main.py", name, "/healthz", env))
        return report("Cold start: process start to first answered request", baseline, list(measured.values()))


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
