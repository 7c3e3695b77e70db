"""Notion for the planner: the API client, the page <-> task mapping and the database templates.

* :mod:`shared.notion.client` — :class:`NotionGateway`, every call to Notion on a tenant's behalf
  (token per request with refresh on 401, per-tenant budget, retries, pagination).
* :mod:`shared.notion.errors` — the documented error family.
* :mod:`shared.notion.mapping` — pages to :class:`~shared.models.Task` / ``Routine`` and back.
* :mod:`shared.notion.templates` — the Tasks and Routines databases onboarding creates.
* :mod:`shared.notion.sandbox` — a local stand-in for api.notion.com (for tests and the local
  stack; never imported by the modules above).
"""

from shared.notion.budget import TenantRateLimiter
from shared.notion.client import NOTION_VERSION, NotionGateway, TokenProvider
from shared.notion.errors import (
    InvalidNotionId,
    NotionAuthError,
    NotionConflict,
    NotionError,
    NotionNotFound,
    NotionPermissionDenied,
    NotionRateLimited,
    NotionUnavailable,
    NotionValidationError,
)

__all__ = [
    "NOTION_VERSION",
    "InvalidNotionId",
    "NotionAuthError",
    "NotionConflict",
    "NotionError",
    "NotionGateway",
    "NotionNotFound",
    "NotionPermissionDenied",
    "NotionRateLimited",
    "NotionUnavailable",
    "NotionValidationError",
    "TenantRateLimiter",
    "TokenProvider",
]
