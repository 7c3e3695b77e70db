"""Cloud Function `agent`: daily planning dispatch and jobs, replanning, and chat.

Thin by design: verify, parse, call `shared/`, map the result to a status code. Routing, the
JSON error body and request logs come from `shared.web.Router`; the work lives in `shared.agent`.

    POST /dispatch/planning  Cloud Scheduler's tick (OIDC in gcp, X-CloudScheduler locally): one named
                             planning task per tenant whose local planning time has come
    POST /tasks/plan         one planning run (Cloud Tasks target: OIDC in gcp), run once per task name;
                             body {"date": "YYYY-MM-DD", "mode": "daily"|"replan", "reason": "..."}
    POST /chat               session; rate-limited; {"message", "conversation_id"?} -> the answer, with
                             every change made in Notion confirmed
    GET  /plan/today         session; the stored plan of the tenant's local today (404 if none yet)
    POST /plan/replan        session; replans the rest of today now

Only what a route uses is imported, when it is first used: the dispatcher never loads the planning
engine, the LLM adapters or the memory; chromadb loads on the chat's first semantic search.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.backends import get_backends
from shared.config import get_settings
from shared.runtime import bootstrap
from shared.web import Router, parse_json

settings = bootstrap("agent")
router = Router("agent")

PLAN_RESULT_TTL = timedelta(days=3)  # longer than Cloud Tasks redelivers, past the queue's name retention


class PlanTaskBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    date: str
    mode: Literal["daily", "replan"] = "daily"
    reason: str = Field(default="", max_length=200)


class ChatBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=4000)
    conversation_id: str | None = Field(default=None, max_length=64)


def agent_services():
    from shared.agent.services import AgentServices

    return AgentServices(get_backends())


def signed_in(request, ctx) -> str:
    """The session's tenant (401 without a session; 403 on a cookie POST without its CSRF token)."""
    claims = agent_services().connections.guard.require(request)
    ctx.set_tenant(claims.tenant_id)
    return claims.tenant_id


@router.post("/dispatch/planning")
def dispatch_planning(request, ctx):
    from shared.agent.dispatch import dispatch_planning as dispatch
    from shared.auth.oidc import require_task_caller

    require_task_caller(request, get_settings(), function="agent")
    backends = get_backends()
    return dispatch(backends.documents, backends.tasks).to_dict()


@router.post("/tasks/plan")
def plan_task(request, ctx):
    from shared.agent.plans import parse_day
    from shared.auth.oidc import require_task_caller
    from shared.errors import InvalidRequest
    from shared.idempotency import run_once
    from shared.ids import validate_tenant_id
    from shared.taskqueue.base import TENANT_HEADER

    current = get_settings()
    caller = require_task_caller(request, current, function="agent")
    tenant_id = validate_tenant_id(request.headers.get(TENANT_HEADER))
    ctx.set_tenant(tenant_id)
    body = parse_json(request, PlanTaskBody)
    day = parse_day(body.date)
    if not caller.task_name:
        raise InvalidRequest("The X-CloudTasks-TaskName header is required.", field="X-CloudTasks-TaskName")
    job = agent_services().planning_job()

    def plan() -> dict:
        report = asyncio.run(job.run(tenant_id=tenant_id, day=day, mode=body.mode, reason=body.reason,
                                     request_id=ctx.request_id))
        return {key: value for key, value in report.to_dict().items() if key != "plan"}

    return run_once(get_backends().documents, plan, tenant_id=tenant_id, key=f"plan-task:{caller.task_name}",
                    lock_timeout=timedelta(seconds=current.function_timeout_seconds), result_ttl=PLAN_RESULT_TTL)


@router.post("/chat")
def chat(request, ctx):
    tenant_id = signed_in(request, ctx)
    services = agent_services()
    services.quotas.check_rate(tenant_id=tenant_id)
    body = parse_json(request, ChatBody)
    service = services.chat_service(tenant_id=tenant_id, request_id=ctx.request_id)
    reply = asyncio.run(service.chat(tenant_id=tenant_id, message=body.message,
                                     conversation_id=body.conversation_id, request_id=ctx.request_id))
    return reply.to_dict()


@router.get("/plan/today")
def plan_today(request, ctx):
    from shared.agent.errors import NoPlanYet
    from shared.agent.planning_time import local_today
    from shared.agent.plans import load_plan

    tenant_id = signed_in(request, ctx)
    services = agent_services()
    config = services.connections.tenants.get_config(tenant_id=tenant_id)
    day = local_today(config, datetime.now(timezone.utc))
    plan = load_plan(get_backends().documents, day, tenant_id=tenant_id)
    if plan is None:
        raise NoPlanYet(f"There is no plan for {day.isoformat()} yet.")
    return plan.public()


@router.post("/plan/replan")
def plan_replan(request, ctx):
    from shared.agent.planning_time import local_today
    from shared.errors import Conflict
    from shared.usage.errors import QuotaExceeded

    tenant_id = signed_in(request, ctx)
    services = agent_services()
    services.quotas.check_rate(tenant_id=tenant_id)
    config = services.connections.tenants.get_config(tenant_id=tenant_id)
    day = local_today(config, datetime.now(timezone.utc))
    report = asyncio.run(services.planning_job().run(tenant_id=tenant_id, day=day, mode="replan",
                                                     reason="asked by the user", request_id=ctx.request_id))
    if report.status == "quota_exceeded":
        raise QuotaExceeded("The daily plan quota of your plan is used up.", retry_after=report.retry_after or 60)
    if report.status in ("not_connected", "needs_reauth"):
        raise Conflict("Notion needs to be reconnected before the day can be planned.", code="notion_reauth_required")
    return report.to_dict()


agent = router.as_entry_point()

from shared.openapi import add_openapi_route  # noqa: E402  (the OpenAPI route, added last)

add_openapi_route(router)
