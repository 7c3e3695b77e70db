"""The agent's services built from the process's adapters (``shared.backends``), once per request.

``functions/agent`` and the dashboard use the same wiring::

    agent = AgentServices(get_backends())
    report = asyncio.run(agent.planning_job().run(tenant_id=t, day=d, mode="replan"))
    reply = asyncio.run(agent.chat_service(tenant_id=t, request_id=rid).chat(tenant_id=t, message="plan?"))

Heavy parts load only when used: the planning engine (ortools) with the planning job, the LLM
adapters with the chat, and the semantic memory (chromadb, the embedding model) on the chat's first
``search_tasks`` call.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.backends import Backends

if TYPE_CHECKING:
    from shared.agent.chat import ChatService
    from shared.agent.planning_job import PlanningJob
    from shared.connections.services import ConnectionServices
    from shared.notion.client import NotionGateway
    from shared.usage.quotas import QuotaService

logger = logging.getLogger(__name__)

_memory: tuple[Backends, Any] | None = None
_memory_lock = threading.Lock()


def memory_service(backends: Backends) -> Any:
    """The process's semantic memory (chromadb and the embedding model load here, once)."""
    global _memory
    with _memory_lock:
        if _memory is None or _memory[0] is not backends:
            from shared.memory.embeddings import get_embedder
            from shared.memory.memory import MemoryService

            service = MemoryService(backends.blobs, backends.documents, get_embedder(),
                                    cache_dir=Path(tempfile.gettempdir()) / "planner-agent-memory")
            _memory = (backends, service)
        return _memory[1]


@dataclass
class AgentServices:
    backends: Backends

    @property
    def settings(self):
        return self.backends.settings

    @cached_property
    def connections(self) -> "ConnectionServices":
        from shared.connections.services import ConnectionServices

        return ConnectionServices.of(self.backends)

    @cached_property
    def quotas(self) -> "QuotaService":
        from shared.usage.quotas import QuotaService

        return QuotaService(self.backends.documents)

    def gateway(self) -> "NotionGateway":
        """A new gateway (use it in ``async with``: its HTTP client belongs to the running loop)."""
        from shared.notion.client import NotionGateway

        return NotionGateway.from_settings(self.settings, token_provider=self.connections.tokens)

    def planning_job(self) -> "PlanningJob":
        from shared.agent.notify import WebhookNotifier
        from shared.agent.planning_job import PlanningJob

        return PlanningJob(
            store=self.backends.documents, tenants=self.connections.tenants, gateway_factory=self.gateway,
            quotas=self.quotas, meter=self.quotas.meter, notifier=WebhookNotifier(),
            lease_ttl=timedelta(seconds=self.settings.function_timeout_seconds),
        )

    def chat_service(self, *, tenant_id: str, request_id: str = "") -> "ChatService":
        """The chat for one tenant's request: metered LLM, tools, semantic search, replanning."""
        from shared.agent.chat import ChatService
        from shared.llm.factory import build_llm
        from shared.llm.metered import MeteredLLM
        from shared.llm.pricing import build_pricing

        llm = MeteredLLM(build_llm(self.settings), self.quotas, pricing=build_pricing(self.settings))

        def search(query: str, k: int) -> list[str]:
            hits = memory_service(self.backends).search(query, tenant_id=tenant_id, k=max(1, min(k, 50)),
                                                        where={"kind": "task"})
            return [hit.id for hit in hits]

        def replanner_factory(for_tenant: str, for_request: str):
            job = self.planning_job()
            return lambda day: job.run(tenant_id=for_tenant, day=day, mode="replan", reason="asked in chat",
                                       request_id=for_request)

        return ChatService(store=self.backends.documents, tenants=self.connections.tenants, llm=llm,
                           gateway_factory=self.gateway, meter=self.quotas.meter, searcher=search,
                           replanner_factory=replanner_factory)
