"""The sandbox Notion for the sync tests: a server on 127.0.0.1, fresh seeded workspaces, the
request log, user edits on an injected clock, and a tenant connected to a workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.connections.oauth_client import NotionTokenResponse
from shared.connections.services import ConnectionServices
from shared.models import UserConfig
from shared.notion.sandbox.server import SandboxServer
from shared.notion.sandbox.state import NotionSandbox
from shared.notion.sandbox.workspace import Workspace

CLIENT_ID = "sync-tests-client"
CLIENT_SECRET = "sync-tests-client-secret"


class NotionClock:
    """Notion's side of time (``last_edited_time`` has minute precision): set and advanced by tests."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc).replace(second=0, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@contextmanager
def running_sandbox() -> Iterator[tuple[NotionSandbox, SandboxServer, NotionClock]]:
    clock = NotionClock()
    sandbox = NotionSandbox(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, seed=False, now=clock)
    server = SandboxServer(sandbox).start()  # 127.0.0.1 on a free port
    try:
        yield sandbox, server, clock
    finally:
        server.stop()


def queries(sandbox: NotionSandbox, workspace_id: str) -> list[str]:
    """Paths of the data source queries the workspace received (the request log)."""
    return [r["path"] for r in sandbox.faults.requests(workspace_id)
            if r["method"] == "POST" and r["path"].endswith("/query")]


def api_requests(sandbox: NotionSandbox, workspace_id: str) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sandbox.faults.requests(workspace_id)]


def connect(services: ConnectionServices, sandbox: NotionSandbox, ws: Workspace) -> str:
    """Connect the workspace as a tenant (tokens in the vault, demo data sources selected)."""
    token = NotionTokenResponse.from_json(sandbox.mint_tokens(ws.id))
    tenant, _ = services.tenants.upsert_from_oauth(token)
    services.vault.save(token.access_token, token.refresh_token, tenant_id=tenant.tenant_id)
    services.tenants.save_config(UserConfig(tasks_data_source_id=ws.demo["tasks_data_source_id"],
                                            routines_data_source_id=ws.demo["routines_data_source_id"]),
                                 tenant_id=tenant.tenant_id)
    return tenant.tenant_id


def rows(ws: Workspace, kind: str, *, trashed: bool = False) -> list[dict[str, Any]]:
    """The workspace's rows of the demo Tasks or Routines data source."""
    source = ws.demo[f"{kind}_data_source_id"]
    return [p for p in ws.pages.values()
            if p["parent"].get("data_source_id") == source and bool(p["in_trash"]) == trashed]


def text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content}}]


def add_task(ws: Workspace, title: str, **properties: Any) -> dict[str, Any]:
    props = {"Name": {"title": text(title)}, **properties}
    return ws.create_page({"parent": {"data_source_id": ws.demo["tasks_data_source_id"]}, "properties": props}, ws.user)


def find(ws: Workspace, kind: str, title: str) -> dict[str, Any]:
    for page in rows(ws, kind):
        prop = next(v for v in page["properties"].values() if v["type"] == "title")
        if "".join(t["plain_text"] for t in prop["title"]) == title:
            return page
    raise KeyError(title)
