"""The Notion webhook intake: verify, parse, route, filter, deduplicate, coalesce — no Notion calls.

:meth:`WebhookIntake.handle` takes the raw body and the ``X-Notion-Signature`` header and either
raises one of the rejections of :mod:`shared.sync.errors` **before anything is stored** (413 body
too large, 401 unsigned or mis-signed, 400 not a Notion event) or returns what it did:

1. a body that is exactly ``{"verification_token": ...}`` is Notion's one-time verification
   request (sent unsigned; :mod:`shared.sync.verification` decides whether it is taken in);
2. the signature is checked on the raw bytes, then the JSON is parsed and validated;
3. the workspace routes to its tenant (unknown or disconnected → ``ignored``: answering 200 keeps
   Notion from retrying an event nobody can use for a day);
4. :func:`shared.sync.events.classify` drops events outside the tenant's Tasks/Routines data
   sources and event types the sync does not use;
5. the event id is claimed (``webhook_events/{id}``, expiring after Notion's retry horizon): a
   redelivery is answered ``duplicate`` and changes nothing;
6. the change is recorded (dirty mark of the changed data source, or the deleted page) and one
   sync task per tenant per window is enqueued (:mod:`shared.sync.schedule`).

If step 6 fails, the claim of step 5 is withdrawn and the error propagates (503), so Notion's
retry is processed instead of being mistaken for a duplicate.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import pydantic

from shared.connections.tenants import TenantRepository
from shared.ids import tenant_id_for_workspace
from shared.models import ConnectionStatus, Tenant
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.store.errors import AlreadyExists
from shared.sync.errors import (
    WebhookNotConfigured,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    WebhookTooLarge,
)
from shared.sync.events import NotionEvent, Relevance, classify, compact_id
from shared.sync.schedule import DEFAULT_WINDOW, enqueue_coalesced_sync
from shared.sync.signature import signature_matches
from shared.sync.state import KINDS, DeletionLog, DirtyMarks
from shared.sync.verification import VerificationTokens, valid_token
from shared.taskqueue.base import TaskQueue

logger = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 1024 * 1024  # 1 MiB; Notion's events are a few hundred bytes
EVENTS = "webhook_events"
DEDUP_TTL = timedelta(days=3)  # Notion retries for about 24 hours
_MAX_VERIFICATION_BODY = 4096


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def dashed_id(value: str) -> str:
    """A Notion id in its dashed, lower-case form (how the API returns ids)."""
    compact = compact_id(value)
    if compact is None:
        raise ValueError("not a Notion id")
    return f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}"


@dataclass(frozen=True)
class WebhookOutcome:
    """What the intake did with a delivery (the 200 answer's body)."""

    status: Literal["verified", "accepted", "ignored", "duplicate"]
    reason: str = ""
    tenant_id: str | None = None
    task_name: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status}
        if self.reason:
            body["reason"] = self.reason
        return body


def verification_token_of(raw: bytes) -> str | None:
    """The token if ``raw`` is exactly Notion's verification body, else None."""
    if len(raw) > _MAX_VERIFICATION_BODY:
        return None
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict) and set(payload) == {"verification_token"}:
        token = payload["verification_token"]
        return token if valid_token(token) else None
    return None


def parse_event(raw: bytes) -> NotionEvent:
    """The validated event in ``raw``; WebhookPayloadInvalid naming the field otherwise."""
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WebhookPayloadInvalid("The webhook body is not valid JSON.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise WebhookPayloadInvalid("The webhook body must be a JSON object.")
    try:
        return NotionEvent.model_validate(payload)
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        problem = "is required" if first.get("type") == "missing" else "is invalid"
        raise WebhookPayloadInvalid(f"The field '{where}' {problem}.", field=where) from None


@dataclass
class WebhookIntake:
    store: DocumentStore
    tasks: TaskQueue
    tenants: TenantRepository
    tokens: VerificationTokens
    window: timedelta = DEFAULT_WINDOW
    dedup_ttl: timedelta = DEDUP_TTL
    clock: Callable[[], datetime] = _utcnow

    def handle(self, raw: bytes, *, signature: str | None) -> WebhookOutcome:
        """Process one delivery (see the module doc); raises a rejection with no side effect."""
        if len(raw) > MAX_WEBHOOK_BODY:
            raise WebhookTooLarge()
        token = verification_token_of(raw)
        if token is not None:
            # Notion sends it unsigned (there is no key yet); a stray signature header changes nothing.
            return WebhookOutcome("verified", self.tokens.accept(token))
        if not signature:
            raise WebhookSignatureInvalid("The webhook signature is missing.")
        key = self.tokens.current()
        if key is None:
            logger.error("a signed Notion webhook arrived but no verification token is configured")
            raise WebhookNotConfigured()
        if not signature_matches(raw, signature, key):
            raise WebhookSignatureInvalid()
        return self._route(parse_event(raw))

    # --- routing and filtering ----------------------------------------------------------------

    def _tenant_for(self, workspace_id: str) -> Tenant | None:
        tenant = self.tenants.get(tenant_id=tenant_id_for_workspace(workspace_id))
        if tenant is None:
            # Tenants are keyed by their workspace; the indexed query covers any other keying.
            rows = self.store.tenants_where("workspace_id", workspace_id, limit=1)
            tenant = self.tenants.get(tenant_id=rows[0].tenant_id) if rows else None
        if tenant is not None and compact_id(tenant.workspace_id) != compact_id(workspace_id):
            return None
        return tenant

    def _page_is_synced(self, page_id: str, *, tenant_id: str) -> bool:
        return any(self.store.get(f"{collection}/{page_id}", tenant_id=tenant_id) is not None
                   for collection in ("tasks", "routines"))

    def _route(self, event: NotionEvent) -> WebhookOutcome:
        tenant = self._tenant_for(event.workspace_id)
        if tenant is None:
            logger.info("webhook event for an unknown workspace ignored")
            return WebhookOutcome("ignored", "unknown workspace")
        tenant_id = tenant.tenant_id
        if tenant.connection_status != ConnectionStatus.CONNECTED:
            return WebhookOutcome("ignored", "not connected", tenant_id)
        config = self.tenants.get_config(tenant_id=tenant_id)
        sources = {"task": config.tasks_data_source_id, "routine": config.routines_data_source_id}
        selected = [ds for ds in sources.values() if ds]
        relevance = classify(event, selected)
        left = event.type in ("page.deleted", "page.moved") and event.entity.type == "page"
        if relevance.action == "ignore" and left:
            # A page that left our data sources only matters if we hold a copy of it.
            page_id = dashed_id(event.entity.id)
            relevance = classify(event, selected, page_is_synced=self._page_is_synced(page_id, tenant_id=tenant_id))
        if relevance.action == "ignore":
            return WebhookOutcome("ignored", relevance.reason, tenant_id)
        now = self.clock()
        claim = f"{EVENTS}/{event.id}"
        try:
            self.store.create(claim, {"type": event.type, "timestamp": event.timestamp, "received_at": now,
                                      EXPIRES_AT: now + self.dedup_ttl}, tenant_id=tenant_id)
        except AlreadyExists:
            return WebhookOutcome("duplicate", "", tenant_id)
        try:
            task_name = self._record(event, relevance, sources, tenant_id=tenant_id, now=now)
        except Exception:
            with contextlib.suppress(Exception):
                self.store.delete(claim, tenant_id=tenant_id)
            raise
        return WebhookOutcome("accepted", relevance.action, tenant_id, task_name)

    def _record(self, event: NotionEvent, relevance: Relevance, sources: dict[str, str | None], *,
                tenant_id: str, now: datetime) -> str:
        change = relevance.page_change
        if change is not None:
            DeletionLog(self.store).record(dashed_id(change.page_id), deleted=change.deleted, at=event.timestamp,
                                           now=now, tenant_id=tenant_id)
        if relevance.action in ("sync", "full"):
            wanted = relevance.data_sources
            kinds = [kind for kind in KINDS if sources.get(kind)
                     and (wanted is None or compact_id(sources[kind]) in wanted)]
            marks = DirtyMarks(self.store)
            for kind in kinds:
                marks.mark(kind, full=relevance.action == "full", now=now, tenant_id=tenant_id)
        name, created = enqueue_coalesced_sync(self.tasks, tenant_id=tenant_id, now=now, window=self.window)
        logger.info("webhook %s recorded; sync task %s", event.type, "enqueued" if created else "already pending")
        return name
