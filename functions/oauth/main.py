"""Cloud Function `oauth`: Notion OAuth: sign-in (start/callback), disconnect, account export and deletion.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`.
"""

from __future__ import annotations

from shared.runtime import bootstrap
from shared.web import Router

settings = bootstrap("oauth")
router = Router("oauth")

oauth = router.as_entry_point()
