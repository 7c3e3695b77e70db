"""OpenAPI 3.1 documents of every function, built from the routes' models and served by each
function at ``GET /openapi.json``.

    spec      Operation / Answer and build_document (schemas from the pydantic models)
    schemas   mirrors of answers that handlers build as plain dicts
    catalog   every function's operations
    __main__  ``python -m shared.openapi [--check]``: write (or compare) docs/openapi/*.json

A function adds the route with one line: ``add_openapi_route(router)``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

FUNCTIONS = ("oauth", "agent", "sync", "usage", "web")
VERSION = "1.0.0"


@lru_cache(maxsize=None)
def _document_text(function: str) -> str:
    from shared.openapi.catalog import CATALOG, DESCRIPTIONS
    from shared.openapi.spec import build_document

    if function not in CATALOG:
        raise KeyError(f"no OpenAPI catalog for function {function!r}")
    document = build_document(
        function, CATALOG[function], title=f"Notion planner: {function}", description=DESCRIPTIONS[function],
        server_url="/",  # relative: the function that serves the document
        version=VERSION,
    )
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def document(function: str) -> dict[str, Any]:
    """The OpenAPI document of ``function`` (a fresh copy)."""
    return json.loads(_document_text(function))


def document_text(function: str) -> str:
    """The document as committed in docs/openapi/{function}.json (stable key order)."""
    return _document_text(function)


def add_openapi_route(router: Any) -> None:
    """Serve the router's function's document at ``GET /openapi.json`` (built on first request)."""

    @router.get("/openapi.json")
    def openapi(request: Any, ctx: Any) -> Any:
        import flask

        response = flask.Response(document_text(router.function), mimetype="application/json")
        response.headers["Cache-Control"] = "public, max-age=300"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
