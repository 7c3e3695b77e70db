"""What every function's routes accept and answer: the source of the OpenAPI documents.

One list of :class:`~shared.openapi.spec.Operation` per function, in the order of its
``main.py``. Bodies and answers are the pydantic models the handlers use where they have one
(``shared.usage``, ``shared.dashboard.forms``...), else the mirrors in :mod:`shared.openapi.schemas`.
tests/test_openapi.py fails when a route of a Router is missing here, or when a real answer does
not validate against the document.

Imports stay light (no chromadb, no ortools): a function builds its document on the first
``GET /openapi.json``.
"""

from __future__ import annotations

from shared.dashboard.chat import ChatReply, ChatRequest
from shared.dashboard.forms import (
    ChatForm,
    DeleteForm,
    FeedbackForm,
    ScheduleForm,
    SettingsForm,
    SourcesForm,
    TemplateForm,
)
from shared.openapi import schemas as S
from shared.openapi.spec import Answer, Operation, error_answer
from shared.usage.admin import TierChange, TierChanged
from shared.usage.history import LogFilter, LogPage, LogQuery
from shared.usage.summary import UsageSummary

HTML = "text/html"
FORM = "application/x-www-form-urlencoded"
_LOCATION = {"Location": "Where the browser goes next."}

UNAUTHENTICATED = error_answer("No valid session (session_missing, session_invalid, session_expired, session_revoked).")
CSRF = error_answer("A cookie-authenticated request without this session's CSRF token (csrf_invalid).")
RATE_LIMITED = error_answer("Over the tier's requests-per-minute limit (rate_limited).", retry_after=True)
INVALID = error_answer("The body or query is invalid; `field` names it.")
TASK_ONLY = error_answer("Not called by Cloud Tasks / Cloud Scheduler: no or an invalid OIDC token (oidc_invalid; "
                         "locally, the X-CloudTasks-* / X-CloudScheduler headers are missing).")
TASK_FORBIDDEN = error_answer("A valid token of another account, or no task service account configured (oidc_forbidden).")


def common() -> list[Operation]:
    return [
        Operation("GET", "/healthz", "Liveness and configuration summary", {200: Answer("Healthy.", S.Health)},
                  auth="none", tags=["meta"]),
        Operation("GET", "/openapi.json", "This OpenAPI document", {200: Answer("The document.", S.OpenApiDocument)},
                  auth="none", tags=["meta"]),
    ]


OAUTH = [
    *common(),
    Operation("GET", "/oauth/start", "Start the Notion sign-in",
              {302: Answer("To Notion's consent page; sets the OAuth nonce cookie.", media_type=None, headers=_LOCATION)},
              auth="none"),
    Operation("GET", "/oauth/callback", "Finish the Notion sign-in", {
        302: Answer("Signed in: to the dashboard (/onboarding for a new workspace, else /app); sets the session cookie.",
                    media_type=None, headers=_LOCATION),
        400: Answer("Consent refused, or a state that is invalid, expired, replayed or from another browser (a page).",
                    schema={"type": "string"}, media_type=HTML),
        502: Answer("Notion did not complete the exchange (a page).", schema={"type": "string"}, media_type=HTML),
    }, auth="none", query=S.OAuthCallbackQuery),
    Operation("GET", "/session", "The signed-in tenant and a CSRF token",
              {200: Answer("The session.", S.SessionInfo), 401: UNAUTHENTICATED}),
    Operation("POST", "/oauth/disconnect", "Revoke Notion access and end every session",
              {200: Answer("Disconnected; clears the session cookie.", S.Disconnected), 401: UNAUTHENTICATED, 403: CSRF}),
    Operation("GET", "/account/export", "Export every document and file of the tenant",
              {200: Answer("The tenant's data (attachment).", S.AccountExport), 401: UNAUTHENTICATED}),
    Operation("POST", "/account/delete", "Delete the account and all its data",
              {200: Answer("Deleted; clears the session cookie.", S.AccountDeleted), 401: UNAUTHENTICATED, 403: CSRF}),
]

SYNC = [
    *common(),
    Operation("POST", "/webhooks/notion", "Notion webhook deliveries and the subscription's verification", {
        200: Answer("Accepted (a sync is queued), ignored, a duplicate, or the verification stored.", S.WebhookAck),
        400: error_answer("Not a Notion event (webhook_payload_invalid)."),
        401: error_answer("Missing or wrong X-Notion-Signature (webhook_signature_invalid)."),
        413: error_answer("Body over 1 MiB (webhook_too_large)."),
    }, auth="notion_signature", body_one_of=(S.NotionWebhookEvent, S.WebhookVerification)),
    Operation("POST", "/tasks/sync", "Run one tenant's sync (Cloud Tasks target)", {
        200: Answer("What the run did (also when it could not run: not_connected, needs_reauth, failed).", S.SyncReport),
        400: error_answer("Bad tenant header, task name or body."),
        401: TASK_ONLY,
        403: TASK_FORBIDDEN,
        409: error_answer("Another run of this tenant or task is in progress; Cloud Tasks retries.", retry_after=True),
        503: error_answer("Notion or the store failed transiently; Cloud Tasks retries.", retry_after=True),
    }, auth="task", body=S.SyncTaskBody,
       headers={"X-Planner-Tenant-Id": "The tenant to sync.", "X-CloudTasks-TaskName": "The task's name (run once)."}),
    Operation("POST", "/dispatch/reconcile", "Queue the periodic full sync of every connected tenant (Cloud Scheduler)",
              {200: Answer("How many tenants were queued.", S.ReconcileDispatch), 401: TASK_ONLY, 403: TASK_FORBIDDEN},
              auth="task",
              body=S.SchedulerBody),
]

USAGE = [
    *common(),
    Operation("GET", "/usage/summary", "Today, the last 30 days by day and operation, cost and quotas left",
              {200: Answer("The summary.", UsageSummary), 401: UNAUTHENTICATED, 429: RATE_LIMITED}),
    Operation("GET", "/usage/logs", "Usage logs, newest first, cursor-paginated",
              {200: Answer("One page.", LogPage), 400: INVALID, 401: UNAUTHENTICATED, 429: RATE_LIMITED}, query=LogQuery),
    Operation("GET", "/usage/export.csv", "The usage logs as CSV (streamed)", {
        200: Answer("CSV with a header row (attachment).", schema={"type": "string"}, media_type="text/csv",
                    headers={"X-Export-Row-Limit": "The most rows one export holds."}),
        400: INVALID, 401: UNAUTHENTICATED, 429: RATE_LIMITED}, query=LogFilter),
    Operation("POST", "/admin/tenants/{tenant_id}/tier", "Change a tenant's tier (administrators)", {
        200: Answer("The new and previous tier.", TierChanged), 400: INVALID,
        403: error_answer("Not the administrator token (admin_required)."),
        404: error_answer("No such tenant (unknown_tenant)."),
    }, auth="admin", body=TierChange, path_params={"tenant_id": "The tenant (ws-<workspace id>)."}),
]

AGENT = [
    *common(),
    Operation("POST", "/dispatch/planning", "Queue the daily plan of every tenant whose planning time has come "
              "(Cloud Scheduler)", {200: Answer("What the tick did.", S.PlanningDispatch), 401: TASK_ONLY,
                                    403: TASK_FORBIDDEN}, auth="task", body=S.SchedulerBody),
    Operation("POST", "/tasks/plan", "Plan one tenant's day (Cloud Tasks target; run once per task name)", {
        200: Answer("What the run did (also when it could not: day_over, not_connected, quota_exceeded...).",
                    S.PlanRunReport),
        400: error_answer("Bad tenant header, task name, date or body."), 401: TASK_ONLY, 403: TASK_FORBIDDEN,
        409: error_answer("Another planning run of this tenant or task is in progress; Cloud Tasks retries.",
                          retry_after=True),
    }, auth="task", body=S.PlanTaskBody,
       headers={"X-Planner-Tenant-Id": "The tenant to plan.", "X-CloudTasks-TaskName": "The task's name (run once)."}),
    Operation("POST", "/chat", "Ask the agent (it may look up and change tasks in Notion, and replan)", {
        200: Answer("The answer; every change made in Notion is confirmed in it and listed in `writes`.",
                    S.AgentChatReply),
        400: INVALID, 401: UNAUTHENTICATED, 403: CSRF, 429: RATE_LIMITED}, body=S.AgentChatBody),
    Operation("GET", "/plan/today", "The stored plan of the tenant's local today", {
        200: Answer("The plan.", S.PlanView), 401: UNAUTHENTICATED,
        404: error_answer("No plan for today yet (no_plan).")}),
    Operation("POST", "/plan/replan", "Replan the rest of today now", {
        200: Answer("What the run did, with the new plan.", S.ReplanReport), 401: UNAUTHENTICATED, 403: CSRF,
        409: error_answer("Notion must be reconnected (notion_reauth_required), or a plan is being written (plan_busy).",
                          retry_after=False),
        429: error_answer("Over the rate limit or the daily plan quota (rate_limited, quota_exceeded).",
                          retry_after=True)}, body=None),
]


# --- web (pages are HTML; forms post url-encoded bodies and answer 303 or the page again) ----------


def _page(path: str, summary: str, *, auth: str = "session", redirects: str = "Not signed in: to the landing page.",
          query: type | None = None) -> Operation:
    answers = {200: Answer("The page.", schema={"type": "string"}, media_type=HTML)}
    if auth == "session":
        answers[302] = Answer(redirects, media_type=None, headers=_LOCATION)
    return Operation("GET", path, summary, answers, auth=auth, tags=["pages"], query=query,
                     default=Answer("An error page (403 form expired, 429 slow down, 5xx).", schema={"type": "string"},
                                    media_type=HTML))


def _form(path: str, summary: str, body: type | None, *, then: str, page_again: bool = True,
          ok: int = 303) -> Operation:
    answers: dict[int, Answer] = {
        ok: (Answer(then, media_type=None, headers=_LOCATION) if ok in (302, 303)
             else Answer(then, schema={"type": "string"}, media_type=HTML)),
        302: Answer("Not signed in: to the landing page.", media_type=None, headers=_LOCATION),
        403: Answer("The CSRF token is missing or not this session's (an error page).", schema={"type": "string"},
                    media_type=HTML),
    }
    if page_again:
        answers[400] = Answer("A field is invalid: the form again, the message next to the field.",
                              schema={"type": "string"}, media_type=HTML)
    return Operation("POST", path, summary, answers, tags=["forms"], body=body, body_media_type=FORM,
                     body_schema=None if body else {"type": "object", "properties": {"csrf_token": {"type": "string"}},
                                                    "required": ["csrf_token"]},
                     default=Answer("An error page.", schema={"type": "string"}, media_type=HTML))


WEB = [
    *common(),
    _page("/", "Landing: sign in with Notion (signed in: to /app)", auth="none"),
    _form("/signout", "Sign out (clears the session cookie)", None, then="To the landing page.", page_again=False),
    _page("/onboarding", "Onboarding: connected, continue"),
    _page("/onboarding/sources", "Onboarding: choose or create the Tasks and Routines databases"),
    _form("/onboarding/sources", "Use existing data sources (missing columns are added)", SourcesForm,
          then="To the schedule step (or /settings when ?next=settings)."),
    _form("/onboarding/template", "Create both databases from the templates under a page", TemplateForm,
          then="To the schedule step."),
    _page("/onboarding/schedule", "Onboarding: planning time, timezone, working hours",
          redirects="Not signed in, or no databases chosen yet."),
    _form("/onboarding/schedule", "Save the schedule", ScheduleForm, then="To the preview step."),
    _page("/onboarding/preview", "Onboarding: today's plan as the planner would make it now",
          redirects="Not signed in, or an earlier step is not done."),
    _form("/onboarding/finish", "Finish onboarding (schedules the daily plan, queues the first sync)", None,
          then="To /app.", page_again=False),
    _page("/app", "Today's plan", redirects="Not signed in (to /) or not onboarded (to /onboarding)."),
    _page("/chat", "The chat"),
    _form("/chat", "Send a chat message (without JavaScript)", ChatForm, then="Back to the conversation."),
    Operation("POST", "/api/chat", "Send a chat message (JSON; the chat page's fetch)", {
        200: Answer("The agent's answer.", ChatReply), 400: INVALID, 401: UNAUTHENTICATED, 403: CSRF,
        429: RATE_LIMITED}, body=ChatRequest, tags=["api"]),
    _page("/usage", "Usage with charts and quotas"),
    _page("/settings", "Settings"),
    _form("/settings", "Save the settings", SettingsForm, then="Back to the settings, saved."),
    _form("/settings/disconnect", "Disconnect Notion", None, then="A page saying so; clears the session cookie.",
          page_again=False, ok=200),
    Operation("GET", "/settings/export", "Export every document and file of the tenant", {
        200: Answer("The tenant's data (attachment).", S.AccountExport),
        302: Answer("Not signed in: to the landing page.", media_type=None, headers=_LOCATION)}, tags=["pages"]),
    _form("/settings/delete", "Delete the account (type DELETE)", DeleteForm,
          then="A page saying so; clears the session cookie.", ok=200),
    _page("/help", "Help", auth="none"),
    _page("/feedback", "The feedback form"),
    _form("/feedback", "Send feedback (stored per tenant)", FeedbackForm, then="Back to the form, thanked."),
    Operation("GET", "/assets/{name}", "The dashboard's CSS, JS and icon", {
        200: Answer("The file (cached for a year: its URL carries its hash).", schema={"type": "string"},
                    media_type="text/css", also=("text/javascript", "image/svg+xml")),
        404: error_answer("No such file.")}, auth="none", tags=["meta"], path_params={"name": "e.g. app.css"}),
]

CATALOG: dict[str, list[Operation]] = {"oauth": OAUTH, "agent": AGENT, "sync": SYNC, "usage": USAGE, "web": WEB}

DESCRIPTIONS = {
    "oauth": "Notion sign-in (OAuth), the session, disconnect, account export and deletion.",
    "agent": "Daily planning dispatch and jobs, replanning, and the chat.",
    "sync": "Notion webhooks, per-tenant sync jobs and the periodic reconcile.",
    "usage": "Usage summaries, logs, CSV export and the administrators' tier switch.",
    "web": "The dashboard: HTML pages and forms (CSRF token in every form) and the chat's JSON endpoint.",
}
