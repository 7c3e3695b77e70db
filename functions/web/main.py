"""Cloud Function `web`: the dashboard — sign-in, onboarding, today's plan, chat, usage, settings,
help and feedback, as server-rendered HTML (progressive enhancement: every page works without
JavaScript; the chat sends through ``fetch`` when it can).

Thin by design: verify, parse, call `shared/`, render. Routing and request logs come from
`shared.web.Router`; pages, forms, charts and the onboarding steps live in `shared.dashboard`.
Every form carries the session's CSRF token (checked by the session guard); every response carries
the security headers (a CSP that allows nothing from another origin). No asset comes from the
internet: CSS and JS are served by this function, charts are inline SVG rendered here.

The routes below are the paths the function receives. Its public URL may add a prefix (every
function on one host, this one at ``…/web``), so every link, form action, asset URL and redirect is
built with ``u(route)`` (:class:`shared.dashboard.paths.BasePath`, from ``PLANNER_PUBLIC_BASE_URL``).

    GET  /                       landing: sign in with Notion (signed in: to /app)
    GET  /onboarding             the wizard: connect → sources → schedule → preview
    GET  /onboarding/sources     choose the Tasks and Routines data sources, or create them
    POST /onboarding/sources     (form) use existing data sources (missing columns are added)
    POST /onboarding/template    (form) create both databases from the templates under a page
    GET  /onboarding/schedule    planning time, timezone, working hours
    POST /onboarding/schedule    (form)
    GET  /onboarding/preview     today's plan as the planner would make it now
    POST /onboarding/finish      (form) done: schedules the daily plan, queues the first sync
    GET  /app                    today's plan
    GET  /chat   POST /chat      the chat (form), POST /api/chat the same as JSON (fetch)
    GET  /usage                  usage with charts, quotas
    GET  /settings  POST /settings   the schedule and notifications
    POST /settings/disconnect    GET /settings/export    POST /settings/delete
    GET  /help   GET /feedback   POST /feedback   POST /signout
    GET  /assets/{name}          the dashboard's CSS and JS
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from shared.auth.sessions import clear_session_cookie
from shared.backends import get_backends
from shared.config import get_settings
from shared.connections.services import ConnectionServices
from shared.connections.signin import ConnectionFlows
from shared.dashboard import chat as chat_service
from shared.dashboard import onboarding
from shared.dashboard.errors import InvalidForm, NotConfigured
from shared.dashboard.feedback import recent_feedback, save_feedback
from shared.dashboard.forms import (
    ChatForm,
    DeleteForm,
    FeedbackForm,
    ScheduleForm,
    SettingsForm,
    SourcesForm,
    TemplateForm,
    parse_form,
)
from shared.dashboard.http import PageHandlers, Visitor, found, see_other
from shared.dashboard.items import notion_items
from shared.dashboard.paths import BasePath
from shared.dashboard.render import Renderer
from shared.dashboard.security import harden
from shared.dashboard.timezones import timezone_choices
from shared.dashboard.today import today_view
from shared.dashboard.usage_view import usage_view
from shared.dashboard.workspace import create_databases, prepare_sources, workspace_choices
from shared.errors import Unauthenticated
from shared.openapi import add_openapi_route
from shared.runtime import bootstrap
from shared.web import Router, json_response, parse_json

settings = bootstrap("web")
# "/app" → "/web/app" under a prefixed public URL. From get_settings(), not the settings above:
# bootstrap() keeps the process's first settings, while a test loads this module again under others
# (in production both are the same object).
u = BasePath.of(get_settings().public_base_url)
router = Router("web")
HERE = Path(__file__).resolve().parent
WEEKDAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"))
_services: ConnectionServices | None = None


def services() -> ConnectionServices:
    global _services
    if _services is None or _services.backends is not get_backends():
        _services = ConnectionServices.of(get_backends())
    return _services


def sign_in_url() -> str:
    return services().settings.function_url("oauth") + "/oauth/start"


def common() -> dict:
    return {"sign_in_url": sign_in_url(), "weekdays": WEEKDAYS}


renderer = Renderer(HERE / "templates", HERE / "static", paths=u)
pages = PageHandlers(renderer, landing=u("/"), context=common)


def now() -> datetime:
    return datetime.now(timezone.utc)


def visitor(request, ctx) -> Visitor:
    """The signed-in caller (Unauthenticated → the page wrapper sends them to the landing page),
    counted against the tenant's requests-per-minute limit."""
    from shared.usage.quotas import QuotaService

    claims = services().guard.require(request)
    ctx.set_tenant(claims.tenant_id)
    QuotaService(get_backends().documents).check_rate(tenant_id=claims.tenant_id)
    tenant = services().tenants.get(tenant_id=claims.tenant_id)
    return Visitor(
        tenant_id=claims.tenant_id,
        workspace_name=tenant.workspace_name if tenant else "",
        tier=tenant.tier.value if tenant else "free",
        connection_status=tenant.connection_status.value if tenant else "disconnected",
        csrf_token=services().guard.csrf_token(claims),
    )


def render(template: str, who: Visitor | None, nav: str, *, status: int = 200, **context):
    return renderer.page(template, status=status, visitor=who, nav=nav, **common(), **context)


def gateway():
    from shared.notion.client import NotionGateway

    return NotionGateway.from_settings(services().settings, token_provider=services().tokens)


def config_of(who: Visitor):
    return services().tenants.get_config(tenant_id=who.tenant_id)


async def _with_gateway(work):
    async with gateway() as notion:
        return await work(notion)


# --- landing and sign-out ---------------------------------------------------------------------------


@router.get("/")
@pages.page
def landing(request, ctx):
    try:
        services().guard.require(request)
    except Unauthenticated:
        return render("landing.html", None, "")
    return found(u("/app"))


@router.post("/signout")
@pages.page
def signout(request, ctx):
    visitor(request, ctx)  # a cross-site form cannot sign a user out: the CSRF token is checked
    response = see_other(u("/"))
    response.headers.add("Set-Cookie", clear_session_cookie(secure=services().sessions.secure_cookies))
    return response


# --- onboarding -------------------------------------------------------------------------------------


def _state(who: Visitor):
    return onboarding.load_state(get_backends().documents, config_of(who), tenant_id=who.tenant_id)


@router.get("/onboarding")
@pages.page
def onboarding_start(request, ctx):
    who = visitor(request, ctx)
    return render("onboarding_connect.html", who, "onboarding", step="connect", state=_state(who))


def _sources_page(who: Visitor, request, *, status: int = 200, error: InvalidForm | None = None):
    choices = asyncio.run(_with_gateway(lambda notion: workspace_choices(notion, tenant_id=who.tenant_id)))
    config = config_of(who)
    return render("onboarding_sources.html", who, "onboarding", status=status, step="sources", choices=choices,
                  config=config, error=error, state=_state(who), request_next=request.args.get("next", ""))


@router.get("/onboarding/sources")
@pages.page
def onboarding_sources(request, ctx):
    return _sources_page(visitor(request, ctx), request)


def _use_sources(who: Visitor, tasks_id: str, routines_id: str | None, *, created: dict | None = None) -> None:
    config = config_of(who).model_copy(update={"tasks_data_source_id": tasks_id,
                                               "routines_data_source_id": routines_id})
    services().tenants.save_config(config, tenant_id=who.tenant_id)
    onboarding.mark(get_backends().documents, "sources", tenant_id=who.tenant_id, created=created)


@router.post("/onboarding/sources")
@pages.page
def onboarding_choose(request, ctx):
    who = visitor(request, ctx)
    try:
        form = parse_form(request.form, SourcesForm)
        asyncio.run(_with_gateway(lambda notion: prepare_sources(
            notion, form.tasks_data_source_id, form.routines_data_source_id, tenant_id=who.tenant_id)))
    except InvalidForm as error:
        return _sources_page(who, request, status=400, error=error)
    _use_sources(who, form.tasks_data_source_id, form.routines_data_source_id)
    return see_other(u("/settings?saved=1" if request.args.get("next") == "settings" else "/onboarding/schedule"))


@router.post("/onboarding/template")
@pages.page
def onboarding_template(request, ctx):
    who = visitor(request, ctx)
    try:
        form = parse_form(request.form, TemplateForm)
    except InvalidForm as error:
        return _sources_page(who, request, status=400, error=error)
    today = now().astimezone(config_of(who).zone).date()
    created = asyncio.run(_with_gateway(lambda notion: create_databases(
        notion, form.parent_page_id, tenant_id=who.tenant_id, examples=form.examples, today=today)))
    _use_sources(who, created.tasks_data_source_id, created.routines_data_source_id, created={
        "tasks_database_id": created.tasks_database_id, "routines_database_id": created.routines_database_id,
        "examples": created.examples})
    return see_other(u("/onboarding/schedule"))


def _schedule_page(who: Visitor, *, status: int = 200, error: InvalidForm | None = None):
    state = _state(who)
    if not state.sources_done:
        return found(u("/onboarding/sources"))
    return render("onboarding_schedule.html", who, "onboarding", status=status, step="schedule",
                  config=config_of(who), timezones=timezone_choices(), error=error, state=state)


@router.get("/onboarding/schedule")
@pages.page
def onboarding_schedule(request, ctx):
    return _schedule_page(visitor(request, ctx))


@router.post("/onboarding/schedule")
@pages.page
def onboarding_save_schedule(request, ctx):
    who = visitor(request, ctx)
    try:
        config = parse_form(request.form, ScheduleForm).apply(config_of(who))
    except InvalidForm as error:
        return _schedule_page(who, status=400, error=error)
    services().tenants.save_config(config, tenant_id=who.tenant_id)
    onboarding.mark(get_backends().documents, "schedule", tenant_id=who.tenant_id)
    return see_other(u("/onboarding/preview"))


@router.get("/onboarding/preview")
@pages.page
def onboarding_preview(request, ctx):
    who = visitor(request, ctx)
    state = _state(who)
    if not state.sources_done or not state.schedule_done:
        return found(u("/onboarding/" + state.next_step))
    config = config_of(who)
    plan = asyncio.run(_with_gateway(lambda notion: today_view(
        get_backends().documents, config, tenant_id=who.tenant_id, now=now(), fresh=True,
        read_notion=lambda: notion_items(notion, config, tenant_id=who.tenant_id))))
    return render("onboarding_preview.html", who, "onboarding", step="preview", plan=plan, config=config, state=state)


@router.post("/onboarding/finish")
@pages.page
def onboarding_finish(request, ctx):
    who = visitor(request, ctx)
    state = _state(who)
    if not state.sources_done or not state.schedule_done:
        return see_other(u("/onboarding/" + state.next_step))
    onboarding.finish(get_backends(), config_of(who), tenant_id=who.tenant_id, now=now())
    return see_other(u("/app?welcome=1"))


# --- today ------------------------------------------------------------------------------------------


@router.get("/app")
@pages.page
def today(request, ctx):
    who = visitor(request, ctx)
    state = _state(who)
    if not state.done:
        return found(u("/onboarding"))
    config = config_of(who)
    if not config.tasks_data_source_id:
        raise NotConfigured()
    plan = asyncio.run(_with_gateway(lambda notion: today_view(
        get_backends().documents, config, tenant_id=who.tenant_id, now=now(),
        read_notion=lambda: notion_items(notion, config, tenant_id=who.tenant_id))))
    return render("today.html", who, "today", plan=plan, config=config, welcome=request.args.get("welcome") == "1")


# --- chat -------------------------------------------------------------------------------------------


@router.get("/chat")
@pages.page
def chat(request, ctx):
    who = visitor(request, ctx)
    wanted = chat_service.new_conversation_id() if request.args.get("new") else request.args.get("c")
    try:
        conversation = chat_service.conversation(get_backends(), tenant_id=who.tenant_id, conversation_id=wanted)
    except ValueError:
        raise InvalidForm("That conversation does not exist.", field="c") from None
    return render("chat.html", who, "chat", conversation=conversation, error=None)


@router.post("/chat")
@pages.page
def chat_send(request, ctx):
    who = visitor(request, ctx)
    try:
        form = parse_form(request.form, ChatForm)
    except InvalidForm as error:
        conversation = chat_service.conversation(get_backends(), tenant_id=who.tenant_id,
                                                 conversation_id=request.form.get("conversation_id") or None)
        return render("chat.html", who, "chat", status=400, conversation=conversation, error=error)
    reply = chat_service.send(get_backends(), tenant_id=who.tenant_id, message=form.message,
                              conversation_id=form.conversation_id, request_id=ctx.request_id)
    return see_other(u(f"/chat?{urlencode({'c': reply.conversation_id})}#latest"))


@router.post("/api/chat")
@pages.api
def chat_api(request, ctx):
    claims = services().guard.require(request)  # JSON 401/403 here: this is an API
    ctx.set_tenant(claims.tenant_id)
    from shared.usage.quotas import QuotaService

    QuotaService(get_backends().documents).check_rate(tenant_id=claims.tenant_id)
    body = parse_json(request, chat_service.ChatRequest)
    return chat_service.send(get_backends(), tenant_id=claims.tenant_id, message=body.message,
                             conversation_id=body.conversation_id, request_id=ctx.request_id)


# --- usage ------------------------------------------------------------------------------------------


@router.get("/usage")
@pages.page
def usage(request, ctx):
    from shared.usage.quotas import QuotaService
    from shared.usage.summary import usage_summary

    who = visitor(request, ctx)
    store = get_backends().documents
    view = usage_view(usage_summary(store, QuotaService(store), tenant_id=who.tenant_id))
    export_url = services().settings.function_url("usage") + "/usage/export.csv"
    return render("usage.html", who, "usage", usage=view, export_url=export_url)


# --- settings ---------------------------------------------------------------------------------------


def _settings_page(who: Visitor, *, status: int = 200, error: InvalidForm | None = None, saved: bool = False):
    return render("settings.html", who, "settings", status=status, config=config_of(who),
                  timezones=timezone_choices(), error=error, saved=saved)


@router.get("/settings")
@pages.page
def settings_page(request, ctx):
    return _settings_page(visitor(request, ctx), saved=request.args.get("saved") == "1")


@router.post("/settings")
@pages.page
def settings_save(request, ctx):
    from shared.agent.dispatch import schedule_next_plan
    from shared.agent.errors import UnsafeWebhookUrl
    from shared.agent.notify import vet_url

    who = visitor(request, ctx)
    try:
        form = parse_form(request.form, SettingsForm)
        config = form.apply(config_of(who))
        if form.webhook_url:
            vet_url(form.webhook_url)
    except UnsafeWebhookUrl as unsafe:
        return _settings_page(who, status=400, error=InvalidForm(unsafe.message, field="webhook_url"))
    except InvalidForm as error:
        return _settings_page(who, status=400, error=error)
    store = get_backends().documents
    services().tenants.save_config(config, tenant_id=who.tenant_id)
    schedule_next_plan(store, tenant_id=who.tenant_id, config=config, now=now(), reschedule=True)
    return see_other(u("/settings?saved=1"))


def signed_out_page(title: str, message: str, *, link: tuple[str, str]):
    response = render("message.html", None, "", title=title, message=message, link=link)
    response.headers.add("Set-Cookie", clear_session_cookie(secure=services().sessions.secure_cookies))
    return response


@router.post("/settings/disconnect")
@pages.page
def settings_disconnect(request, ctx):
    who = visitor(request, ctx)
    flows = ConnectionFlows(services())
    asyncio.run(flows.disconnect(tenant_id=who.tenant_id))
    return signed_out_page("Notion disconnected",
                           "The planner no longer has access to your Notion workspace and every session was signed "
                           "out. Your settings are kept: sign in again to reconnect.",
                           link=(sign_in_url(), "Sign in with Notion"))


@router.get("/settings/export")
@pages.page
def settings_export(request, ctx):
    who = visitor(request, ctx)
    body = ConnectionFlows(services()).export(tenant_id=who.tenant_id, blobs=get_backends().blobs)
    response = json_response(body, headers={"Content-Disposition": 'attachment; filename="planner-export.json"'})
    return harden(response)


@router.post("/settings/delete")
@pages.page
def settings_delete(request, ctx):
    who = visitor(request, ctx)
    try:
        parse_form(request.form, DeleteForm)
    except InvalidForm as error:
        return _settings_page(who, status=400, error=error)
    asyncio.run(ConnectionFlows(services()).delete_account(tenant_id=who.tenant_id, blobs=get_backends().blobs))
    return signed_out_page("Account deleted",
                           "Your account, settings, plans, usage history and memory were deleted, and the planner's "
                           "access to Notion was revoked. Your Notion pages are untouched.",
                           link=(u("/"), "Back to the start page"))


# --- help and feedback ------------------------------------------------------------------------------


@router.get("/help")
@pages.page
def help_page(request, ctx):
    try:
        who = visitor(request, ctx)
    except Unauthenticated:
        who = None  # help is public
    return render("help.html", who, "help")


@router.get("/feedback")
@pages.page
def feedback(request, ctx):
    who = visitor(request, ctx)
    return render("feedback.html", who, "feedback", error=None, sent=request.args.get("sent") == "1",
                  recent=recent_feedback(get_backends().documents, tenant_id=who.tenant_id))


@router.post("/feedback")
@pages.page
def feedback_send(request, ctx):
    who = visitor(request, ctx)
    try:
        form = parse_form(request.form, FeedbackForm)
    except InvalidForm as error:
        return render("feedback.html", who, "feedback", status=400, error=error, sent=False,
                      recent=recent_feedback(get_backends().documents, tenant_id=who.tenant_id))
    save_feedback(get_backends().documents, form, tenant_id=who.tenant_id, page=request.form.get("page", ""))
    return see_other(u("/feedback?sent=1"))


# --- static files -----------------------------------------------------------------------------------


@router.get("/assets/{name}")
def static(request, ctx):
    return renderer.static_response(ctx.path_params["name"])


add_openapi_route(router)
web = router.as_entry_point()
