"""What the agent tests share: a tenant connected to the Notion sandbox, a settable clock, a copy of
the sandbox's rows in the store (what the sync keeps), and the sandbox's log of writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from shared.agent.planning_job import PlanningJob
from shared.connections.oauth_client import NotionTokenResponse
from shared.connections.tenants import TenantRepository
from shared.models import UserConfig, WorkingHours
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionAuthError
from shared.notion.mapping import page_to_routine, page_to_task
from shared.notion.sandbox import NotionSandbox
from shared.planning import SolverOptions
from shared.store.base import DocumentStore
from shared.usage.meter import UsageMeter
from shared.usage.quotas import QuotaService

UTC = timezone.utc
DAY = date(2026, 3, 30)  # a Monday; Europe/Paris is on summer time since the 29th
PLANNING_TIME = datetime(2026, 3, 30, 5, 30, tzinfo=UTC)  # 07:30 in Paris
READ_ONLY_POSTS = ("/query", "/v1/search")


class Clock:
    """A settable UTC clock."""

    def __init__(self, now: datetime = PLANNING_TIME) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, **local: int) -> datetime:
        """Move to a wall time of the test day in Paris (UTC+2): ``set(hour=11, minute=0)``."""
        self.now = datetime(2026, 3, 30, local.get("hour", 0) - 2, local.get("minute", 0), tzinfo=UTC)
        return self.now


class StaticTokens:
    """A TokenProvider holding one access token; a refresh is impossible (the user must reconnect)."""

    def __init__(self, access_token: str) -> None:
        self.access_token = access_token

    async def get_token(self, tenant_id: str) -> str:
        return self.access_token

    async def refresh_token(self, tenant_id: str, rejected_token: str) -> str:
        raise NotionAuthError()


@dataclass
class World:
    """One tenant connected to the sandbox's default workspace."""

    sandbox: NotionSandbox
    base_url: str
    store: DocumentStore
    tenant_id: str
    tokens: StaticTokens
    clock: Clock
    config: UserConfig
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace(self):
        return self.sandbox.default_workspace

    @property
    def tenants(self) -> TenantRepository:
        return TenantRepository(self.store)

    def gateway(self) -> NotionGateway:
        # A budget large enough that no test waits on it (the budget has its own tests).
        return NotionGateway(token_provider=self.tokens, base_url=self.base_url, requests_per_second=1000, burst=1000)

    def job(self, **overrides: Any) -> PlanningJob:
        quotas = QuotaService(self.store, clock=self.clock)
        kwargs: dict[str, Any] = dict(
            store=self.store, tenants=self.tenants, gateway_factory=self.gateway, quotas=quotas,
            meter=UsageMeter(self.store, clock=self.clock), clock=self.clock, solver=SolverOptions(),
            lease_wait=timedelta(seconds=1),
        )
        kwargs.update(overrides)
        return PlanningJob(**kwargs)

    def chat(self, llm, **overrides: Any):
        """The chat service of this tenant over ``llm`` (metered: quota reserved and settled)."""
        from shared.agent.chat import ChatService
        from shared.llm.metered import MeteredLLM
        from shared.llm.pricing import PriceTable

        quotas = QuotaService(self.store, clock=self.clock)

        def replanner_factory(tenant_id: str, request_id: str):
            return lambda day: self.job().run(tenant_id=tenant_id, day=day, mode="replan", reason="asked in chat",
                                              request_id=request_id)

        kwargs: dict[str, Any] = dict(
            store=self.store, tenants=self.tenants, llm=MeteredLLM(llm, quotas, pricing=PriceTable()),
            gateway_factory=self.gateway, meter=UsageMeter(self.store, clock=self.clock), clock=self.clock,
            replanner_factory=replanner_factory,
        )
        kwargs.update(overrides)
        return ChatService(**kwargs)

    def save_config(self, **changes: Any) -> UserConfig:
        self.config = self.config.model_copy(update=changes)
        self.tenants.save_config(self.config, tenant_id=self.tenant_id)
        return self.config

    # --- the sync's copy ----------------------------------------------------------------------

    def copy_rows(self) -> tuple[list[str], list[str]]:
        """Store the sandbox's rows as the sync does (read directly, no HTTP request logged);
        return the ids written and deleted."""
        changed: list[str] = []
        deleted: list[str] = []
        ws = self.workspace
        for collection, source, mapper in (("tasks", self.config.tasks_data_source_id, page_to_task),
                                           ("routines", self.config.routines_data_source_id, page_to_routine)):
            live = set()
            for page in ws.query_data_source(source, {"page_size": 100})["results"]:
                value = mapper(page).value
                if value is None:
                    continue
                live.add(value.id)
                document = value.model_dump(mode="json")
                if self.store.get(f"{collection}/{value.id}", tenant_id=self.tenant_id) != document:
                    self.store.set(f"{collection}/{value.id}", document, tenant_id=self.tenant_id)
                    changed.append(value.id)
            for stored in self.store.query(collection, tenant_id=self.tenant_id, limit=500):
                if stored.id not in live:
                    self.store.delete(f"{collection}/{stored.id}", tenant_id=self.tenant_id)
                    deleted.append(stored.id)
        return changed, deleted

    # --- what reached the sandbox -------------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        return self.sandbox.faults.requests(self.workspace.id)

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every request that changes something in the workspace."""
        return [(r["method"], r["path"]) for r in self.requests()
                if r["method"] in ("POST", "PATCH", "DELETE") and not r["path"].endswith(READ_ONLY_POSTS)]

    def task_page(self, title: str) -> dict[str, Any]:
        ws = self.workspace
        for page in ws.query_data_source(self.config.tasks_data_source_id, {"page_size": 100})["results"]:
            if page_to_task(page).value.title == title:
                return page
        raise KeyError(title)

    def scheduled_of(self, title: str) -> dict[str, Any] | None:
        return self.task_page(title)["properties"]["Scheduled"]["date"]

    def user_edits(self, title: str, properties: dict[str, Any]) -> dict[str, Any]:
        """The user changes a task in Notion (the sandbox's admin route for user edits)."""
        ws = self.workspace
        return ws.update_page(self.task_page(title)["id"], {"properties": properties}, ws.user)

    def children(self, page_id: str) -> list[dict[str, Any]]:
        return self.workspace.list_children(page_id, {"page_size": 100})["results"]

    def plan_pages(self) -> list[dict[str, Any]]:
        root = self.workspace.demo["root_page_id"]
        return [c for c in self.children(root) if c["type"] == "child_page" and c["child_page"]["title"].startswith(
            "Daily plan")]


def line_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The plain text of each block (what the user reads on the page)."""
    texts = []
    for block in blocks:
        content = block.get(block["type"]) or {}
        texts.append("".join(part.get("plain_text", "") for part in content.get("rich_text", [])))
    return texts


def connect(sandbox: NotionSandbox, base_url: str, store: DocumentStore, clock: Clock, *,
            timezone_name: str = "Europe/Paris") -> World:
    """Connect the sandbox's default workspace as a tenant and select its demo databases."""
    ws = sandbox.default_workspace
    minted = sandbox.mint_tokens(ws.id)
    tenants = TenantRepository(store)
    tenant, _ = tenants.upsert_from_oauth(NotionTokenResponse.from_json(minted))
    config = UserConfig(
        tasks_data_source_id=ws.demo["tasks_data_source_id"],
        routines_data_source_id=ws.demo["routines_data_source_id"],
        timezone=timezone_name, planning_time=time(7, 30), working_hours=WorkingHours(start=time(9), end=time(17)),
    )
    tenants.save_config(config, tenant_id=tenant.tenant_id)
    return World(sandbox, base_url, store, tenant.tenant_id, StaticTokens(minted["access_token"]), clock, config)
