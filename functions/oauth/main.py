"""Cloud Function `oauth`: Notion sign-in (start/callback), session, disconnect, export, deletion.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`; the flows live in
`shared.connections.signin`.

    GET  /oauth/start       302 to Notion's consent page (state bound to a nonce cookie)
    GET  /oauth/callback    exchanges the code, stores the tenant and tokens, sets the session, 302 to the app
    GET  /session           the signed-in tenant and a CSRF token for forms
    POST /oauth/disconnect  revokes at Notion, deletes the tokens, ends every session
    GET  /account/export    all of the tenant's data as JSON
    POST /account/delete    revokes, destroys the data key, deletes every document and file
"""

from __future__ import annotations

import asyncio

from shared.auth.csrf import OAUTH_NONCE_COOKIE, CsrfError, clear_oauth_nonce_cookie
from shared.auth.sessions import clear_session_cookie, session_cookie
from shared.backends import get_backends
from shared.connections.errors import AccessDenied, ConnectionFlowError
from shared.connections.services import ConnectionServices
from shared.connections.signin import ConnectionFlows
from shared.runtime import bootstrap
from shared.web import Router, html_page, json_response, redirect

bootstrap("oauth")
router = Router("oauth")
_services: ConnectionServices | None = None


def services() -> ConnectionServices:
    global _services
    if _services is None or _services.backends is not get_backends():
        _services = ConnectionServices.of(get_backends())
    return _services


def flows() -> ConnectionFlows:
    return ConnectionFlows(services())


@router.get("/oauth/start")
def start(request, ctx):
    begin = flows().start()
    return redirect(begin.authorize_url, cookies=[begin.nonce_cookie])


@router.get("/oauth/callback")
def callback(request, ctx):
    flow = flows()
    secure = flow.secure_cookies
    settings = flow.settings  # the process's current settings (the same object in production)
    retry = (settings.function_url("oauth") + "/oauth/start", "Try connecting again")
    clear_nonce = {"Set-Cookie": clear_oauth_nonce_cookie(secure=secure)}
    try:
        result = asyncio.run(flow.callback(
            code=request.args.get("code"), state=request.args.get("state"), error=request.args.get("error"),
            nonce_cookie=request.cookies.get(OAUTH_NONCE_COOKIE)))
    except AccessDenied:
        return html_page("Notion was not connected", "You did not allow access to Notion, so nothing was "
                         "connected and nothing was stored.", status=400, link=retry, headers=clear_nonce)
    except CsrfError:
        return html_page("This sign-in link is no longer valid", "The sign-in expired, was already used, or "
                         "was started in another browser. Nothing was changed.", status=400, link=retry,
                         headers=clear_nonce)
    except ConnectionFlowError:
        return html_page("Notion sign-in failed", "Notion did not complete the sign-in. Nothing was changed; "
                         "please try again in a moment.", status=502, link=retry, headers=clear_nonce)
    ctx.set_tenant(result.tenant.tenant_id)
    destination = settings.public_base_url.rstrip("/") + ("/onboarding" if result.created else "/app")
    return redirect(destination, cookies=[
        session_cookie(result.session_token, secure=secure, max_age=result.session_ttl),
        clear_oauth_nonce_cookie(secure=secure),
    ])


@router.get("/session")
def session(request, ctx):
    claims = services().guard.require(request)
    ctx.set_tenant(claims.tenant_id)
    tenant = services().tenants.get(tenant_id=claims.tenant_id)
    return {
        "tenant_id": claims.tenant_id,
        "workspace_name": tenant.workspace_name if tenant else "",
        "connection_status": tenant.connection_status.value if tenant else "disconnected",
        "tier": tenant.tier.value if tenant else "free",
        "expires_at": claims.expires_at,
        "csrf_token": services().guard.csrf_token(claims),
    }


@router.post("/oauth/disconnect")
def disconnect(request, ctx):
    claims = services().guard.require(request)
    ctx.set_tenant(claims.tenant_id)
    result = asyncio.run(flows().disconnect(tenant_id=claims.tenant_id))
    return json_response(result, headers={"Set-Cookie": clear_session_cookie(secure=flows().secure_cookies)})


@router.get("/account/export")
def export(request, ctx):
    claims = services().guard.require(request)
    ctx.set_tenant(claims.tenant_id)
    body = flows().export(tenant_id=claims.tenant_id, blobs=get_backends().blobs)
    return json_response(body, headers={"Content-Disposition": 'attachment; filename="planner-export.json"'})


@router.post("/account/delete")
def delete(request, ctx):
    claims = services().guard.require(request)
    ctx.set_tenant(claims.tenant_id)
    result = asyncio.run(flows().delete_account(tenant_id=claims.tenant_id, blobs=get_backends().blobs))
    return json_response(result, headers={"Set-Cookie": clear_session_cookie(secure=flows().secure_cookies)})


oauth = router.as_entry_point()

from shared.openapi import add_openapi_route  # noqa: E402  (the OpenAPI route, added last)

add_openapi_route(router)
