"""Notion requests a sync makes, counted at the sandbox Notion, against the minimum possible.

A workspace with a large Tasks data source and a Routines data source sits in the sandbox (real
HTTP on 127.0.0.1). User edits go through the sandbox, its signed webhooks through the real
webhook intake (dirty marks, deletion log), then the real sync job runs. The sandbox's request
log gives the count; the minimum is what any correct sync must spend:

* a full listing: ``ceil(rows / 100)`` queries per data source (Notion's page size);
* an incremental sync: one query per data source that changed (plus one per further 100 changed
  rows), nothing for the rows that did not change;
* deletions learnt from ``page.deleted`` events: nothing (no need to ask Notion);
* no change at all: nothing.

For scale it also prints the naive "one page retrieve per event" approach (what a sync that
follows each webhook with ``GET /v1/pages/{id}`` would spend; it cannot see deletions it missed).

The memory is a no-op here (the count is about Notion; the memory has its own bench).

Run: ``.venv/bin/python -m bench.sync_requests`` (``--tasks N`` to size the Tasks data source).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-client-secret"
WEBHOOK_TOKEN = "secret_bench_webhook_token"


class _Clock:
    """Notion's time (minute-precision timestamps) and the job's, advanced by the scenario."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


class _NoMemory:
    """Accepts the sync's memory writes and drops them (this bench counts Notion requests)."""

    @contextmanager
    def batch(self, *, tenant_id: str):
        class _Batch:
            def upsert(self, documents):
                pass

            def delete(self, ids):
                pass

        yield _Batch()

    def ids(self, *, tenant_id: str) -> set[str]:
        return set()


def _text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


class _Scenario:
    def __init__(self, tasks: int, tmp: Path) -> None:
        from shared.backends import Backends
        from shared.config import Settings
        from shared.connections.oauth_client import NotionTokenResponse
        from shared.connections.services import ConnectionServices
        from shared.localstack.stack import ensure_local_secrets
        from shared.models import UserConfig
        from shared.notion.client import NotionGateway
        from shared.notion.sandbox.server import SandboxServer
        from shared.notion.sandbox.state import NotionSandbox
        from shared.secrets.local import EnvFileSecretStore
        from shared.sync.job import SyncJob
        from shared.sync.verification import VerificationTokens
        from shared.sync.webhook import WebhookIntake
        from shared.taskqueue.local import SqliteTaskQueue

        self.clock = _Clock()
        self.sandbox = NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=False, now=self.clock)
        self.server = SandboxServer(self.sandbox).start()
        self.ws = self.sandbox.add_workspace("Bench workspace")
        self.tasks_ds = self.ws.demo["tasks_data_source_id"]
        self.routines_ds = self.ws.demo["routines_data_source_id"]
        for index in range(max(0, tasks - len(self._rows(self.tasks_ds)))):
            self.ws.create_page({"parent": {"data_source_id": self.tasks_ds},
                                 "properties": {"Name": {"title": _text(f"Generated task {index}")},
                                                "Estimate": {"number": 15 + index % 90}}}, self.ws.user)
        self.sandbox.outbox.take_pending()
        self.clock.now += timedelta(minutes=30)

        ensure_local_secrets(tmp)
        settings = Settings(profile="local", data_dir=tmp, notion_api_base=self.server.url, notion_client_id=CLIENT_ID,
                            notion_client_secret=CLIENT_SECRET, notion_requests_per_second=500.0)
        self.backends = Backends(settings)
        services = ConnectionServices(self.backends)
        token = NotionTokenResponse.from_json(self.sandbox.mint_tokens(self.ws.id))
        tenant, _ = services.tenants.upsert_from_oauth(token)
        self.tenant_id = tenant.tenant_id
        services.vault.save(token.access_token, token.refresh_token, tenant_id=self.tenant_id)
        services.tenants.save_config(UserConfig(tasks_data_source_id=self.tasks_ds,
                                                routines_data_source_id=self.routines_ds), tenant_id=self.tenant_id)
        store = self.backends.documents
        tokens = VerificationTokens(store=store, secrets=EnvFileSecretStore(environ={}, directory=None),
                                    configured=WEBHOOK_TOKEN)
        self.intake = WebhookIntake(store=store, tasks=SqliteTaskQueue(tmp / "queue.sqlite3"),
                                    tenants=services.tenants, tokens=tokens, clock=self.clock)
        self.job = SyncJob(
            store=store, tenants=services.tenants, memory=_NoMemory(), clock=self.clock,
            gateway_factory=lambda: NotionGateway.from_settings(settings, token_provider=services.tokens))

    def _rows(self, source: str) -> list[dict[str, Any]]:
        return [p for p in self.ws.pages.values()
                if p["parent"].get("data_source_id") == source and not p["in_trash"]]

    def rows(self, source: str) -> int:
        return len(self._rows(source))

    def deliver_webhooks(self) -> int:
        from shared.notion.sandbox import webhooks
        from shared.sync.signature import sign

        events = self.sandbox.outbox.take_pending()
        for event in events:
            body = webhooks.encode(event)
            self.intake.handle(body, signature=sign(body, WEBHOOK_TOKEN))
        return len(events)

    def sync(self, **flags: bool) -> tuple[int, Any]:
        self.sandbox.faults.clear_log()
        report = asyncio.run(self.job.run(tenant_id=self.tenant_id, **flags))
        return len(self.sandbox.faults.requests(self.ws.id)), report

    def edit(self, source: str, count: int, *, minutes: float = 5) -> int:
        """Edit ``count`` rows (or all of them if fewer); return how many were edited."""
        self.clock.now += timedelta(minutes=minutes)
        name = "Estimate" if source == self.tasks_ds else "Duration"
        chosen = self._rows(source)[:count]
        for page in chosen:
            current = (page["properties"].get(name) or {}).get("number") or 30
            self.ws.update_page(page["id"], {"properties": {name: {"number": current % 200 + 1}}}, self.ws.user)
        return len(chosen)

    def trash(self, source: str, count: int) -> None:
        self.clock.now += timedelta(minutes=5)
        for page in self._rows(source)[-count:]:
            self.ws.update_page(page["id"], {"in_trash": True}, self.ws.user)

    def close(self) -> None:
        self.server.stop()
        self.backends.documents.close()


def _pages(rows: int) -> int:
    return max(1, math.ceil(rows / 100))


def run(tasks: int = 1000) -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        scenario = _Scenario(tasks, Path(tmp))
        try:
            t_rows, r_rows = scenario.rows(scenario.tasks_ds), scenario.rows(scenario.routines_ds)

            def record(name: str, measured: int, minimum: int, naive: int | None, report: Any) -> None:
                ratio = measured / minimum if minimum else (1.0 if measured == 0 else float("inf"))
                rows.append({"scenario": name, "requests": measured, "minimum": minimum, "ratio": ratio,
                             "naive": naive, "status": report.status})

            measured, report = scenario.sync()
            record(f"first sync ({t_rows} tasks, {r_rows} routines)", measured, _pages(t_rows) + _pages(r_rows),
                   None, report)

            scenario.edit(scenario.tasks_ds, 3)
            events = scenario.deliver_webhooks()
            measured, report = scenario.sync()
            record("3 tasks edited", measured, 1, events, report)

            scenario.edit(scenario.tasks_ds, 2)
            scenario.edit(scenario.routines_ds, 2, minutes=0)
            events = scenario.deliver_webhooks()
            measured, report = scenario.sync()
            record("2 tasks + 2 routines edited", measured, 2, events, report)

            edited = scenario.edit(scenario.tasks_ds, 60)
            events = scenario.deliver_webhooks()
            measured, report = scenario.sync()
            record(f"burst: {edited} tasks edited", measured, _pages(edited), events, report)

            edited = scenario.edit(scenario.tasks_ds, 250)
            events = scenario.deliver_webhooks()
            measured, report = scenario.sync()
            record(f"bulk: {edited} tasks edited", measured, _pages(edited), events, report)

            scenario.trash(scenario.tasks_ds, 5)
            events = scenario.deliver_webhooks()
            measured, report = scenario.sync()
            record("5 tasks trashed (page.deleted)", measured, 0, events, report)

            measured, report = scenario.sync()
            record("no change", measured, 0, 0, report)

            t_rows, r_rows = scenario.rows(scenario.tasks_ds), scenario.rows(scenario.routines_ds)
            measured, report = scenario.sync(full=True)
            record("hourly reconcile (full listing)", measured, _pages(t_rows) + _pages(r_rows), None, report)
        finally:
            scenario.close()

    print("\n== Notion requests per sync, counted at the sandbox (minimum = what any correct sync must spend) ==")
    print(f"{'scenario':<42} {'requests':>8} {'minimum':>8} {'ratio':>6} {'naive':>6}")
    for row in rows:
        naive = "-" if row["naive"] is None else str(row["naive"])
        print(f"{row['scenario']:<42} {row['requests']:>8} {row['minimum']:>8} {row['ratio']:>6.2f} {naive:>6}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000, help="rows in the Tasks data source (default 1000)")
    run(tasks=parser.parse_args().tasks)
