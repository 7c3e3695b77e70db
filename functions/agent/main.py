"""Cloud Function `agent`: The agent: daily planning dispatch and jobs, replanning, and chat.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`.
"""

from __future__ import annotations

from shared.runtime import bootstrap
from shared.web import Router

settings = bootstrap("agent")
router = Router("agent")

agent = router.as_entry_point()

from shared.openapi import add_openapi_route  # noqa: E402  (the OpenAPI route, added last)

add_openapi_route(router)
