"""Cloud Function `usage`: usage summary, logs, CSV export, and the admin tier switch.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`; metering and quotas live in
`shared.usage`. Every tenant endpoint takes the session (cookie or Bearer) and counts against the
tenant's requests-per-minute limit (429 with Retry-After when over).

    GET  /usage/summary                  today, the last 30 days by day and operation, quotas left
    GET  /usage/logs                     ?operation=&from=&to=&limit=(1-100)&cursor=  newest first
    GET  /usage/export.csv               ?operation=&from=&to=  the same logs as CSV (streamed)
    POST /admin/tenants/{tenant_id}/tier {"tier": "free"|"pro"|"team"}  admin token only
"""

from __future__ import annotations

import itertools

import flask

from shared.auth.authenticate import require_admin
from shared.backends import get_backends
from shared.config import get_settings
from shared.auth.guard import guard_for
from shared.runtime import bootstrap
from shared.usage.admin import TierChange, change_tier
from shared.usage.export import csv_lines
from shared.usage.history import MAX_EXPORT_ROWS, LogFilter, LogQuery, iter_logs, list_logs
from shared.usage.quotas import QuotaService
from shared.usage.summary import usage_summary
from shared.web import Router, parse_json, parse_query

settings = bootstrap("usage")
router = Router("usage")
_quotas: QuotaService | None = None
PRIVATE = {"Cache-Control": "no-store"}  # per-tenant data: never cached by a browser or proxy


def quotas() -> QuotaService:
    global _quotas
    if _quotas is None or _quotas.store is not get_backends().documents:
        _quotas = QuotaService(get_backends().documents)
    return _quotas


def signed_in(request, ctx) -> str:
    """The caller's tenant, after the session check (401/403) and the rate limit (429)."""
    claims = guard_for(get_backends()).require(request)
    ctx.set_tenant(claims.tenant_id)
    quotas().check_rate(tenant_id=claims.tenant_id)
    return claims.tenant_id


@router.get("/usage/summary")
def summary(request, ctx):
    tenant_id = signed_in(request, ctx)
    return usage_summary(get_backends().documents, quotas(), tenant_id=tenant_id), 200, PRIVATE


@router.get("/usage/logs")
def logs(request, ctx):
    tenant_id = signed_in(request, ctx)
    query = parse_query(request, LogQuery)
    return list_logs(get_backends().documents, query, tenant_id=tenant_id), 200, PRIVATE


@router.get("/usage/export.csv")
def export_csv(request, ctx):
    tenant_id = signed_in(request, ctx)
    where = parse_query(request, LogFilter)  # validated before the first byte is sent
    lines = csv_lines(iter_logs(get_backends().documents, where, tenant_id=tenant_id))
    # Produce the header and the first row now, so a store failure on the first page is still a
    # JSON error with its status; later pages stream.
    head = [next(lines), *itertools.islice(lines, 1)]
    response = flask.Response(itertools.chain(head, lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="usage.csv"'
    response.headers.update(PRIVATE)
    response.headers["X-Export-Row-Limit"] = str(MAX_EXPORT_ROWS)
    return response


@router.post("/admin/tenants/{tenant_id}/tier")
def set_tier(request, ctx):
    require_admin(request, get_settings())
    body = parse_json(request, TierChange)
    tenant_id = ctx.path_params["tenant_id"]
    return change_tier(get_backends().documents, body.tier, tenant_id=tenant_id)


usage = router.as_entry_point()

from shared.openapi import add_openapi_route  # noqa: E402  (the OpenAPI route, added last)

add_openapi_route(router)
