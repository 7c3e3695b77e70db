"""Feedback messages, stored per tenant at ``feedback/{id}``.

Ids sort by time (a UTC timestamp then random hex), so the newest are easy to list. The message is
stored as typed (bounded by the form) and never logged: it may hold personal details.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.dashboard.forms import FeedbackForm
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

COLLECTION = "feedback"


@dataclass(frozen=True)
class FeedbackEntry:
    id: str
    kind: str
    message: str
    may_contact: bool
    created_at: datetime


def _now() -> datetime:
    return datetime.now(timezone.utc)


def save_feedback(store: DocumentStore, form: FeedbackForm, *, tenant_id: str, page: str = "",
                  clock: Callable[[], datetime] = _now) -> str:
    """Store one message; return its id."""
    created = clock()
    feedback_id = f"{created:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
    store.create(f"{COLLECTION}/{feedback_id}", {
        "kind": form.kind, "message": form.message, "may_contact": form.may_contact, "created_at": created,
        "page": page[:200],
    }, tenant_id=tenant_id)
    logger.info("feedback stored", extra={"fields": {"event": "feedback", "kind": form.kind}})
    return feedback_id


def recent_feedback(store: DocumentStore, *, tenant_id: str, limit: int = 5) -> list[FeedbackEntry]:
    """The tenant's latest messages, newest first."""
    documents = store.query(COLLECTION, tenant_id=tenant_id, order_by=[("created_at", "desc")], limit=limit)
    return [FeedbackEntry(id=doc.id, kind=str(doc.data.get("kind", "other")), message=str(doc.data.get("message", "")),
                          may_contact=bool(doc.data.get("may_contact")), created_at=doc.data["created_at"])
            for doc in documents if isinstance(doc.data.get("created_at"), datetime)]
