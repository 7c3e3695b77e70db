"""Outgoing webhooks, shaped and signed exactly as Notion sends them.

Notion POSTs one JSON event per delivery with ``X-Notion-Signature: sha256=<hex>``, the HMAC-SHA256
of the raw body keyed by the subscription's verification token. The payload carries ``id``,
``timestamp``, ``workspace_id``, ``workspace_name``, ``subscription_id``, ``integration_id``,
``type``, ``authors``, ``accessible_by``, ``attempt_number``, ``api_version``, ``entity`` and
``data``. Events are signals: the receiver fetches the entity to learn what changed.

The sandbox queues an event for every change made through the API or the admin "user edit"
endpoints (the *outbox*); a test or the local stack delivers them with ``flush`` or sends one
directly with :func:`emit`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

logger = logging.getLogger(__name__)

API_VERSION = "2025-09-03"
SIGNATURE_HEADER = "X-Notion-Signature"


def sign(body: bytes, verification_token: str) -> str:
    """The ``X-Notion-Signature`` value of a raw body."""
    return "sha256=" + hmac.new(verification_token.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def build_event(
    event_type: str,
    entity: dict[str, Any],
    *,
    workspace_id: str,
    workspace_name: str,
    integration_id: str,
    subscription_id: str,
    authors: list[dict[str, str]],
    accessible_by: list[dict[str, str]],
    data: dict[str, Any] | None = None,
    attempt_number: int = 1,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """One webhook event in Notion's payload shape."""
    moment = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "id": str(uuid.uuid4()),
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "workspace_id": workspace_id,
        "workspace_name": workspace_name,
        "subscription_id": subscription_id,
        "integration_id": integration_id,
        "type": event_type,
        "authors": authors,
        "accessible_by": accessible_by,
        "attempt_number": attempt_number,
        "api_version": API_VERSION,
        "entity": entity,
        "data": data or {},
    }


@dataclass
class Delivery:
    """What happened to one delivery attempt."""

    url: str
    payload: dict[str, Any]
    status: int | None  # the receiver's HTTP status, None if it could not be reached
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "payload": self.payload, "status": self.status, "error": self.error}


def deliver(url: str, payload: dict[str, Any], verification_token: str, *, timeout: float = 10.0) -> Delivery:
    """POST one signed event; never raises for the receiver's failures."""
    body = encode(payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, verification_token), "User-Agent": "notion-api"}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        logger.info("webhook delivery to %s failed: %s", url, type(error).__name__)
        return Delivery(url, payload, None, type(error).__name__)
    return Delivery(url, payload, response.status_code)


@dataclass
class Subscription:
    url: str
    verification_token: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Outbox:
    """Events waiting to be delivered, and the deliveries made (thread-safe)."""

    subscription: Subscription | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.pending.append(event)

    def take_pending(self) -> list[dict[str, Any]]:
        with self._lock:
            events, self.pending = self.pending, []
            return events

    def record(self, delivery: Delivery) -> None:
        with self._lock:
            self.delivered.append(delivery)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "subscription": None if self.subscription is None else {"id": self.subscription.id, "url": self.subscription.url},
                "pending": list(self.pending),
                "delivered": [d.to_dict() for d in self.delivered],
            }
