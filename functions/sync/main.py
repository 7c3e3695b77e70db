"""Cloud Function `sync`: signed Notion webhooks, per-tenant sync jobs and the periodic reconcile.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`.

    POST /webhooks/notion     Notion's deliveries (X-Notion-Signature) and its one-time verification
                              request; answers fast and never calls Notion (shared.sync.webhook)
    POST /tasks/sync          one tenant's sync (Cloud Tasks target: OIDC in gcp), run once per task
                              name; body {"full": true} lists every row, {"poll": true} reads every
                              source incrementally, {} syncs what webhooks marked (shared.sync.job)
    POST /dispatch/reconcile  one full-sync task per connected tenant (Cloud Scheduler target)

The webhook path imports neither the memory (chromadb, the embedding model) nor google-auth: they
load on the first task, so a cold instance answers Notion quickly.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.backends import get_backends
from shared.config import get_settings
from shared.errors import InvalidRequest
from shared.ids import validate_tenant_id
from shared.runtime import bootstrap
from shared.usage.meter import UsageMeter
from shared.sync.errors import WebhookTooLarge
from shared.sync.signature import SIGNATURE_HEADER
from shared.sync.webhook import MAX_WEBHOOK_BODY
from shared.taskqueue.base import TENANT_HEADER
from shared.web import Router, parse_json

settings = bootstrap("sync")
router = Router("sync", max_body_bytes=MAX_WEBHOOK_BODY)

SYNC_RESULT_TTL = timedelta(days=1)  # longer than Cloud Tasks keeps redelivering a task
_memory: Any = None
_memory_lock = threading.Lock()


class SyncTaskBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    full: bool = False
    poll: bool = False
    reason: str | None = None


def read_body(request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes even without a Content-Length."""
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise WebhookTooLarge()
    return raw


def intake():
    from shared.connections.tenants import TenantRepository
    from shared.sync.verification import VerificationTokens
    from shared.sync.webhook import WebhookIntake

    backends = get_backends()
    current = backends.settings
    local = current.profile == "local"
    tokens = VerificationTokens(
        store=backends.documents,
        secrets=backends.secrets,
        configured=current.notion_webhook_verification_token.get_secret_value(),
        local_secrets_dir=Path(current.data_dir) / "secrets" if local else None,
        blobs=None if local else backends.blobs,
    )
    return WebhookIntake(store=backends.documents, tasks=backends.tasks, tenants=TenantRepository(backends.documents),
                         tokens=tokens)


def memory():
    """The process's memory service (chromadb and the embedding model load here, once)."""
    global _memory
    with _memory_lock:
        backends = get_backends()
        if _memory is None or _memory[0] is not backends:
            from shared.memory.embeddings import get_embedder
            from shared.memory.memory import MemoryService

            # Local copies of snapshots: the instance's /tmp in gcp; beside the data in local, so
            # two stacks (or test runs) on one machine never share a replica.
            local = backends.settings.profile == "local"
            base = Path(backends.settings.data_dir) if local else Path(tempfile.gettempdir())
            service = MemoryService(backends.blobs, backends.documents, get_embedder(),
                                    cache_dir=base / "memory-cache")
            if _memory is not None:
                _memory[1].close()  # the settings changed (tests, local stack reload): drop the old copies
            _memory = (backends, service)
        return _memory[1]


def sync_job():
    from shared.connections.services import ConnectionServices
    from shared.notion.client import NotionGateway
    from shared.sync.job import SyncJob

    backends = get_backends()
    services = ConnectionServices.of(backends)
    return SyncJob(
        store=backends.documents,
        tenants=services.tenants,
        memory=memory(),
        gateway_factory=lambda: NotionGateway.from_settings(backends.settings, token_provider=services.tokens),
        lease_ttl=timedelta(seconds=backends.settings.function_timeout_seconds),
        meter=UsageMeter(backends.documents),
    )


@router.post("/webhooks/notion")
def notion_webhook(request, ctx):
    raw = read_body(request, MAX_WEBHOOK_BODY)
    outcome = intake().handle(raw, signature=request.headers.get(SIGNATURE_HEADER))
    if outcome.tenant_id:
        ctx.set_tenant(outcome.tenant_id)
    return outcome.body()


@router.post("/tasks/sync")
def sync_task(request, ctx):
    from shared.auth.oidc import require_task_caller
    from shared.idempotency import run_once

    current = get_settings()
    caller = require_task_caller(request, current, function="sync")
    tenant_id = validate_tenant_id(request.headers.get(TENANT_HEADER))
    ctx.set_tenant(tenant_id)
    body = parse_json(request, SyncTaskBody)
    if not caller.task_name:
        raise InvalidRequest("The X-CloudTasks-TaskName header is required.", field="X-CloudTasks-TaskName")
    job = sync_job()
    return run_once(
        get_backends().documents,
        lambda: asyncio.run(job.run(tenant_id=tenant_id, full=body.full, poll=body.poll)).to_dict(),
        tenant_id=tenant_id,
        key=f"sync-task:{caller.task_name}",
        lock_timeout=timedelta(seconds=current.function_timeout_seconds),
        result_ttl=SYNC_RESULT_TTL,
    )


@router.post("/dispatch/reconcile")
def dispatch_reconcile(request, ctx):
    from shared.auth.oidc import require_task_caller
    from shared.sync.reconcile import dispatch_reconcile as dispatch

    require_task_caller(request, get_settings(), function="sync")
    backends = get_backends()
    return dispatch(backends.documents, backends.tasks).to_dict()


sync = router.as_entry_point()

from shared.openapi import add_openapi_route  # noqa: E402  (the OpenAPI route, added last)

add_openapi_route(router)
