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
# Every function folder with a main.py is started; the order fixes the ports (base_port + index).
KNOWN_FUNCTIONS = ("oauth", "agent", "sync", "usage", "web")
FUNCTIONS = tuple(name for name in KNOWN_FUNCTIONS if (ROOT / "functions" / name / "main.py").exists())
SANDBOX_CLIENT_ID = "local-planner"
SANDBOX_PORT_OFFSET = 9  # the Notion sandbox answers on base_port + 9 (8090 by default)


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    base_port: int = 8081
    data_dir: Path = field(default_factory=lambda: ROOT / ".local")
    tick_seconds: float | None = None  # None: fire scheduler jobs on their cron schedule
    dispatch_poll_seconds: float = 0.5
    webhook_flush_seconds: float = 2.0
    sandbox: bool = True  # play Notion with the local sandbox (False: PLANNER_NOTION_* from the environment)
    extra_env: dict[str, str] = field(default_factory=dict)

    def function_urls(self) -> dict[str, str]:
        return {name: f"http://{self.host}:{self.base_port + KNOWN_FUNCTIONS.index(name)}" for name in FUNCTIONS}

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.host}:{self.base_port + SANDBOX_PORT_OFFSET}"


def ensure_local_secrets(data_dir: Path) -> Path:
    """Generate the local profile's keys once (kept across restarts so sessions and tokens survive)."""
    directory = data_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in (
        ("token-kek", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
        ("notion-client-secret", lambda: "secret_" + secrets.token_urlsafe(32)),
        ("notion-webhook-token", lambda: "secret_" + secrets.token_urlsafe(24)),
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
    if config.sandbox:
        env.update({
            "PLANNER_NOTION_API_BASE": config.sandbox_url,
            "PLANNER_NOTION_CLIENT_ID": SANDBOX_CLIENT_ID,
            "PLANNER_NOTION_CLIENT_SECRET": (secrets_dir / "notion-client-secret").read_text(),
            "PLANNER_NOTION_WEBHOOK_VERIFICATION_TOKEN": (secrets_dir / "notion-webhook-token").read_text(),
        })
    if "web" in FUNCTIONS:
        env["PLANNER_PUBLIC_BASE_URL"] = config.function_urls()["web"]
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

    def _wait_healthy(self, name: str, url: str, timeout: float = 60.0, path: str = "/healthz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {self.processes[name].returncode}")
            try:
                if httpx.get(f"{url}{path}", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer {url}{path} within {timeout:.0f} s")

    def _start_sandbox(self) -> None:
        port = self.config.base_port + SANDBOX_PORT_OFFSET
        command = [
            sys.executable, "-m", "shared.notion.sandbox", "--host", self.config.host, "--port", str(port),
            "--client-id", self.env["PLANNER_NOTION_CLIENT_ID"],
            "--client-secret", self.env["PLANNER_NOTION_CLIENT_SECRET"],
            "--redirect-uri", self.config.function_urls()["oauth"] + "/oauth/callback",
            "--state-file", str(self.config.data_dir / "notion-sandbox.json"),
        ]
        self.processes["notion"] = subprocess.Popen(command, env=self.env, cwd=ROOT, start_new_session=True)

    def _subscribe_webhooks(self) -> None:
        """Point the sandbox's webhook subscription at the sync function, as an operator would in
        Notion's integration settings."""
        if "sync" not in self.config.function_urls():
            return
        httpx.post(f"{self.config.sandbox_url}/__sandbox__/webhooks/subscription", timeout=10.0, json={
            "url": self.config.function_urls()["sync"] + "/webhooks/notion",
            "verification_token": self.env["PLANNER_NOTION_WEBHOOK_VERIFICATION_TOKEN"],
        }).raise_for_status()

    def start(self) -> dict[str, str]:
        urls = self.config.function_urls()
        if self.config.sandbox:
            self._start_sandbox()
        for name, url in urls.items():
            self._start_function(name, int(url.rsplit(":", 1)[1]))
        if self.config.sandbox:
            self._wait_healthy("notion", self.config.sandbox_url, path="/__sandbox__/health")
            self._subscribe_webhooks()
        for name, url in urls.items():
            self._wait_healthy(name, url)
        self._start_thread("dispatcher", self._run_dispatcher)
        self._start_thread("scheduler", self._run_scheduler)
        if self.config.sandbox:
            self._start_thread("webhooks", self._run_webhook_flush)
        return urls

    # --- sandbox webhooks --------------------------------------------------------------------
    def _run_webhook_flush(self) -> None:
        """Notion delivers webhooks on its own; the sandbox queues them until flushed."""
        with httpx.Client() as client:
            while not self.stop_event.wait(self.config.webhook_flush_seconds):
                try:
                    client.post(f"{self.config.sandbox_url}/__sandbox__/webhooks/flush", timeout=30.0)
                except httpx.HTTPError as exc:
                    logger.warning("sandbox webhook flush failed: %s", type(exc).__name__)

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
