"""The task queue port: per-tenant HTTP jobs with Cloud Tasks semantics.

A task is an HTTP POST of a JSON body to one of the functions (``function`` + ``path``), delivered
at least once, retried with backoff on a non-2xx answer. Named tasks deduplicate: enqueuing a name
that exists or was used within the retention window raises :class:`TaskAlreadyExists` (Cloud Tasks
keeps names for about an hour after a task ran; the local queue does the same). Names are derived
from the tenant and a job key with :func:`task_name_for`, so a redelivered trigger enqueues nothing
new. In ``gcp`` every task carries an OIDC token for the target (audience = the target URL) minted
for the configured service account; targets verify it (``shared.auth.oidc``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from shared.ids import validate_tenant_id

# Every task carries its tenant in this header (the body is the payload unchanged).
TENANT_HEADER = "X-Planner-Tenant-Id"

# Cloud Tasks task ids: letters, digits, hyphens, underscores; at most 500 characters.
_TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")


def task_name_for(kind: str, *, tenant_id: str, key: str) -> str:
    """A deterministic task id for job ``kind`` of ``tenant_id`` identified by ``key``
    (e.g. ``plan``/``2026-11-28``). Hashing the key keeps ids legal whatever it contains."""
    validate_tenant_id(tenant_id)
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", kind):
        raise ValueError("task kind must be short lowercase letters, digits and hyphens")
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"{kind}-{tenant_id}-{digest}"


@dataclass(frozen=True)
class TaskRequest:
    """What to deliver: POST ``payload`` (JSON) to ``path`` on ``function`` for ``tenant_id``."""

    queue: str  # e.g. "sync", "planning"
    function: str  # "agent", "sync", ...
    path: str  # e.g. "/tasks/sync"
    tenant_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # task id for dedup; None = anonymous (never deduplicated)
    schedule_time: datetime | None = None  # aware datetime; None = now

    def __post_init__(self) -> None:
        validate_tenant_id(self.tenant_id)
        if self.name is not None and not _TASK_ID.fullmatch(self.name):
            raise ValueError("task name may hold only letters, digits, hyphens and underscores")
        if not self.path.startswith("/"):
            raise ValueError("task path must start with /")
        if self.schedule_time is not None and self.schedule_time.tzinfo is None:
            raise ValueError("schedule_time must be timezone-aware")


@runtime_checkable
class TaskQueue(Protocol):
    def enqueue(self, request: TaskRequest) -> str:
        """Create the task; return its full name. TaskAlreadyExists if the name was used."""
