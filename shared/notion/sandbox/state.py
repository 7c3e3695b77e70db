"""``NotionSandbox``: everything the sandbox knows, behind one lock, optionally saved to a JSON file.

It holds the workspaces (each with its objects), the OAuth server (codes and tokens), the fault
injector and request log, and the webhook outbox. The HTTP layer (:mod:`.server`) only parses
requests and calls into it; tests may also drive it directly.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from shared.notion.sandbox import webhooks
from shared.notion.sandbox.faults import Faults
from shared.notion.sandbox.oauth import OAuthServer
from shared.notion.sandbox.seed import seed_demo
from shared.notion.sandbox.workspace import Actor, Workspace

logger = logging.getLogger(__name__)

DEFAULT_WORKSPACE_NAME = "Ada's Notion"


class NotionSandbox:
    """An in-memory Notion: workspaces, OAuth, faults, webhooks."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | tuple[str, ...] = (),
        integration_name: str = "Planner (sandbox)",
        state_file: str | Path | None = None,
        seed: bool = True,
        today: date | None = None,
        now: Callable[[], datetime] | None = None,
        access_token_ttl: float | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.integration_name = integration_name
        self.integration_id = str(uuid.uuid4())
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.today = today
        self.oauth = OAuthServer(client_id, client_secret, list(redirect_uris), access_token_ttl)
        self.faults = Faults()
        self.outbox = webhooks.Outbox()
        self.workspaces: dict[str, Workspace] = {}
        self.state_file = Path(state_file) if state_file else None
        self._seeding = False
        if self.state_file and self.state_file.exists():
            self._load()
        elif seed:
            self.add_workspace(DEFAULT_WORKSPACE_NAME)

    # --- workspaces ----------------------------------------------------------------------------------

    def add_workspace(self, name: str, *, seed: bool = True, person_name: str = "Ada Lovelace", email: str = "ada@example.com") -> Workspace:
        """A new workspace with the integration installed, seeded with the demo unless ``seed=False``."""
        with self.lock:
            person = {
                "object": "user", "id": str(uuid.uuid4()), "name": person_name, "avatar_url": None,
                "type": "person", "person": {"email": email},
            }
            ws = Workspace(
                workspace_id=str(uuid.uuid4()), name=name, bot_id=str(uuid.uuid4()), integration_name=self.integration_name,
                person=person, now=self.now, on_event=self._on_event,
            )
            self.workspaces[ws.id] = ws
            if seed:
                self._seeding = True
                try:
                    seed_demo(ws, self.today or self.now().date())
                finally:
                    self._seeding = False
            self.save()
            return ws

    def workspace(self, workspace_id: str) -> Workspace:
        return self.workspaces[workspace_id]

    @property
    def default_workspace(self) -> Workspace:
        return next(iter(self.workspaces.values()))

    def describe(self, ws: Workspace) -> dict[str, Any]:
        return {"workspace_id": ws.id, "workspace_name": ws.name, "bot_id": ws.bot_id, "owner_user_id": ws.person["id"], **ws.demo}

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything (workspaces, tokens, faults, webhooks); re-seed the default workspace."""
        with self.lock:
            self.workspaces.clear()
            self.oauth.grants.clear()
            self.oauth.tokens.clear()
            self.faults.clear()
            self.faults.clear_log()
            self.faults.set_rate_limit(None)
            self.outbox = webhooks.Outbox()
            if seed:
                self.add_workspace(DEFAULT_WORKSPACE_NAME)
            self.save()

    # --- tokens ---------------------------------------------------------------------------------------

    def token_response(self, workspace_id: str, access: str, refresh: str) -> dict[str, Any]:
        """The body of a successful ``POST /v1/oauth/token``."""
        ws = self.workspaces[workspace_id]
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "bot_id": ws.bot_id,
            "workspace_id": ws.id,
            "workspace_name": ws.name,
            "workspace_icon": ws.icon,
            "owner": {"type": "user", "user": dict(ws.person)},
            "duplicated_template_id": None,
        }

    def mint_tokens(self, workspace_id: str) -> dict[str, Any]:
        """A token pair for a workspace without the browser dance (tests, local stack)."""
        with self.lock:
            if workspace_id not in self.workspaces:
                raise KeyError(workspace_id)
            access, refresh = self.oauth.issue(workspace_id, self.oauth.client_id)
            self.save()
            return self.token_response(workspace_id, access, refresh)

    # --- webhooks -------------------------------------------------------------------------------------

    def _on_event(self, ws: Workspace, event_type: str, entity: dict[str, Any], data: dict[str, Any], actor: Actor) -> None:
        if self._seeding:
            return
        subscription = self.outbox.subscription
        self.outbox.queue(
            webhooks.build_event(
                event_type, entity,
                workspace_id=ws.id, workspace_name=ws.name, integration_id=self.integration_id,
                subscription_id=subscription.id if subscription else "00000000-0000-0000-0000-000000000000",
                authors=[dict(actor)],
                accessible_by=[{"id": ws.person["id"], "type": "person"}, {"id": ws.bot_id, "type": "bot"}],
                data=data, timestamp=self.now(),
            )
        )

    def subscribe(self, url: str, verification_token: str, *, verify: bool = False) -> webhooks.Delivery | None:
        """Point the outbox at a receiver; ``verify`` POSTs ``{"verification_token"}`` as Notion does."""
        self.outbox.subscription = webhooks.Subscription(url, verification_token)
        if not verify:
            return None
        try:
            response = httpx.post(url, json={"verification_token": verification_token}, timeout=10.0)
            return webhooks.Delivery(url, {"verification_token": "<redacted>"}, response.status_code)
        except httpx.HTTPError as error:  # the receiver's problem, reported not raised
            return webhooks.Delivery(url, {}, None, type(error).__name__)

    def flush_webhooks(self) -> list[webhooks.Delivery]:
        """Deliver every queued event to the subscription (signed), in order."""
        subscription = self.outbox.subscription
        if subscription is None:
            raise ValueError("no webhook subscription: set one first")
        deliveries = []
        for event in self.outbox.take_pending():
            delivery = webhooks.deliver(subscription.url, event, subscription.verification_token)
            self.outbox.record(delivery)
            deliveries.append(delivery)
        return deliveries

    def emit_webhook(
        self,
        event_type: str,
        entity: dict[str, Any] | str,
        url: str,
        verification_token: str,
        *,
        workspace_id: str | None = None,
        data: dict[str, Any] | None = None,
        attempt_number: int = 1,
        authors: list[dict[str, str]] | None = None,
    ) -> webhooks.Delivery:
        """Send one signed event now, e.g. ``emit_webhook("page.properties_updated", page_id, url, token)``.

        ``entity`` is ``{"id", "type"}`` or a page id. ``data.parent`` is filled in for a known page.
        """
        with self.lock:
            ws = self.workspaces[workspace_id] if workspace_id else self.default_workspace
            if isinstance(entity, str):
                entity = {"id": entity, "type": event_type.split(".", 1)[0]}
            data = dict(data or {})
            page = ws.pages.get(entity.get("id", ""))
            if page is not None and "parent" not in data:
                data["parent"] = ws._parent_ref(page)
            payload = webhooks.build_event(
                event_type, dict(entity),
                workspace_id=ws.id, workspace_name=ws.name, integration_id=self.integration_id,
                subscription_id=self.outbox.subscription.id if self.outbox.subscription else str(uuid.uuid4()),
                authors=authors or [dict(ws.user)],
                accessible_by=[{"id": ws.person["id"], "type": "person"}, {"id": ws.bot_id, "type": "bot"}],
                data=data, attempt_number=attempt_number, timestamp=self.now(),
            )
        delivery = webhooks.deliver(url, payload, verification_token)
        self.outbox.record(delivery)
        return delivery

    # --- persistence ----------------------------------------------------------------------------------

    def save(self) -> None:
        """Write the state file (atomically), if there is one."""
        if self.state_file is None:
            return
        with self.lock:
            data = {
                "version": 1,
                "integration_id": self.integration_id,
                "workspaces": [ws.to_dict() for ws in self.workspaces.values()],
                "oauth": self.oauth.to_dict(),
            }
            tmp = self.state_file.with_suffix(self.state_file.suffix + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.state_file)

    def _load(self) -> None:
        assert self.state_file is not None
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        self.integration_id = data.get("integration_id", self.integration_id)
        for item in data.get("workspaces", []):
            ws = Workspace.from_dict(item, now=self.now, on_event=self._on_event)
            self.workspaces[ws.id] = ws
        self.oauth.load(data.get("oauth", {}))
        logger.info("sandbox state loaded from %s (%d workspaces)", self.state_file, len(self.workspaces))
