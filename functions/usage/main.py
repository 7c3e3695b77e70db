"""Cloud Function `usage`: Usage: metering summaries, logs, CSV export and quotas.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`.
"""

from __future__ import annotations

from shared.runtime import bootstrap
from shared.web import Router

settings = bootstrap("usage")
router = Router("usage")

usage = router.as_entry_point()
