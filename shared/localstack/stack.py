"""Start, watch and stop the local stack's processes and threads."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from shared.localstack.cron import Cron

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("oauth", "agent", "sync", "usage")


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    base_port: int = 8081
    data_dir: Path = field(default_factory=lambda: ROOT / ".local")
    tick_seconds: float | None = None  # None: fire scheduler jobs on their cron schedule
    dispatch_poll_seconds: float = 0.5
    extra_env: dict[str, str] = field(default_factory=dict)

    def function_urls(self) -> dict[str, str]:
        return {name: f"http://{self.host}:{self.base_port + i}" for i, name in enumerate(FUNCTIONS)}


def ensure_local_secrets(data_dir: Path) -> Path:
    """Generate the local profile's keys once (kept across restarts so sessions and tokens survive)."""
    directory = data_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in (
        ("token-kek", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
        ("session-keys", lambda: json.dumps({"primary": "k1", "keys": {"k1": base64.b64encode(secrets.token_bytes(32)).decode()}})),
        ("csrf-secret", lambda: secrets.token_urlsafe(32)),
    ):
        path = directory / name
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
    return directory


def stack_environment(config: StackConfig) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PLANNER_PROFILE": "local",
            "PLANNER_DATA_DIR": str(config.data_dir.resolve()),
            "PLANNER_FUNCTION_URLS": json.dumps(config.function_urls()),
            "PLANNER_PUBLIC_BASE_URL": config.function_urls()["usage"],
            "ANONYMIZED_TELEMETRY": "False",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
    secrets_dir = ensure_local_secrets(config.data_dir)
    env.setdefault("PLANNER_SESSION_SIGNING_KEY", (secrets_dir / "csrf-secret").read_text() + "-session")
    env.setdefault("PLANNER_CSRF_SECRET", (secrets_dir / "csrf-secret").read_text())
    env.update(config.extra_env)
    return env


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.env = stack_environment(config)

    # --- processes ----------------------------------------------------------------------
    def _start_function(self, name: str, port: int) -> None:
        command = [
            str(Path(sys.executable).parent / "functions-framework"),
            "--target", name,
            "--source", str(ROOT / "functions" / name / "main.py"),
            "--host", self.config.host,
            "--port", str(port),
        ]
        self.processes[name] = subprocess.Popen(command, env=self.env, cwd=ROOT, start_new_session=True)

    def _wait_healthy(self, name: str, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {self.processes[name].returncode}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer {url}/healthz within {timeout:.0f} s")

    def start(self) -> dict[str, str]:
        urls = self.config.function_urls()
        for name, url in urls.items():
            self._start_function(name, int(url.rsplit(":", 1)[1]))
        for name, url in urls.items():
            self._wait_healthy(name, url)
        self._start_thread("dispatcher", self._run_dispatcher)
        self._start_thread("scheduler", self._run_scheduler)
        return urls

    def _start_thread(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    # --- task dispatcher ---------------------------------------------------------------------
    def _run_dispatcher(self) -> None:
        from shared.taskqueue.dispatcher import LocalDispatcher
        from shared.taskqueue.local import SqliteTaskQueue

        queue = SqliteTaskQueue(self.config.data_dir / "tasks.sqlite3")
        dispatcher = LocalDispatcher(queue, self.config.function_urls())
        dispatcher.run_forever(self.stop_event, poll_interval=self.config.dispatch_poll_seconds)

    # --- scheduler tick ----------------------------------------------------------------------
    def scheduler_jobs(self) -> list[dict]:
        return json.loads((ROOT / "infra" / "scheduler.json").read_text())["jobs"]

    def fire_job(self, job: dict, client: httpx.Client) -> int:
        url = self.config.function_urls()[job["function"]] + job["path"]
        headers = {"X-CloudScheduler": "true", "X-CloudScheduler-JobName": job["name"],
                   "X-CloudScheduler-ScheduleTime": datetime.now(timezone.utc).isoformat()}
        try:
            status = client.post(url, json={}, headers=headers, timeout=120.0).status_code
        except httpx.HTTPError as exc:
            logger.warning("scheduler job %s failed: %s", job["name"], type(exc).__name__)
            return 0
        logger.info("scheduler job %s -> %s", job["name"], status)
        return status

    def _run_scheduler(self) -> None:
        jobs = [(job, Cron(job["schedule"])) for job in self.scheduler_jobs()]
        with httpx.Client() as client:
            if self.config.tick_seconds:
                while not self.stop_event.wait(self.config.tick_seconds):
                    for job, _ in jobs:
                        self.fire_job(job, client)
                return
            last_minute = None
            while not self.stop_event.wait(1.0):
                now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
                if now == last_minute:
                    continue
                last_minute = now
                for job, cron in jobs:
                    if cron.matches(now):
                        self.fire_job(job, client)

    # --- shutdown ----------------------------------------------------------------------------
    def stop(self) -> None:
        self.stop_event.set()
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for thread in self.threads:
            thread.join(timeout=5)
