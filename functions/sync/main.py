"""Cloud Function `sync`: Sync: signed Notion webhooks, per-tenant sync jobs and the periodic reconcile.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`.
"""

from __future__ import annotations

from shared.runtime import bootstrap
from shared.web import Router

settings = bootstrap("sync")
router = Router("sync")

sync = router.as_entry_point()
