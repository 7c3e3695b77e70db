"""Property tests over random days: no hard-constraint violation, a reason for everything left out,
the same plan for the same input. Most examples use the greedy path (fast); a bounded number run
CP-SAT with a small deterministic budget."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings

from shared.models import TaskStatus
from shared.planning import ItemKind, ReasonCode, plan_day
from tests.shared.planning.checker import accounting_errors, violations
from tests.shared.planning.strategies import plan_requests

_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@settings(max_examples=400, **_SETTINGS)
@given(plan_requests(use_solver=False, max_tasks=20))
def test_greedy_plans_break_no_hard_constraint_and_explain_every_gap(request):
    plan = plan_day(request)
    assert violations(request, plan) == []
    assert accounting_errors(request, plan) == []
    assert plan.method in ("greedy", "empty")


@settings(max_examples=60, **_SETTINGS)
@given(plan_requests(use_solver=True, max_tasks=12))
def test_solver_plans_break_no_hard_constraint_and_explain_every_gap(request):
    plan = plan_day(request)
    assert violations(request, plan) == []
    assert accounting_errors(request, plan) == []
    greedy_plan = plan_day(request.model_copy(update={"solver": request.solver.model_copy(update={"use_solver": False})}))
    assert plan.objective >= greedy_plan.objective


@settings(max_examples=60, **_SETTINGS)
@given(plan_requests(use_solver=False, max_tasks=20))
def test_greedy_is_deterministic(request):
    assert plan_day(request) == plan_day(request.model_copy(deep=True))


@settings(max_examples=20, **_SETTINGS)
@given(plan_requests(use_solver=True, max_tasks=12))
def test_solver_is_deterministic(request):
    first = plan_day(request)
    assert first == plan_day(request.model_copy(deep=True))
    assert first.model_dump(mode="json") == plan_day(request).model_dump(mode="json")


def _reason_contradictions(request, plan) -> list[str]:
    """Claims a reason makes that the request and the plan contradict."""
    tasks = {t.id: t for t in request.tasks}
    routines = {r.id: r for r in request.routines}
    days = [request.day + timedelta(days=k) for k in range(request.horizon_days)]
    out = []
    for entry in plan.unscheduled:
        item = tasks.get(entry.item_id) if entry.kind is ItemKind.TASK else routines.get(entry.item_id)
        code = entry.reason
        status = {ReasonCode.DONE: TaskStatus.DONE, ReasonCode.CANCELLED: TaskStatus.CANCELLED,
                  ReasonCode.BLOCKED: TaskStatus.BLOCKED}
        if code in status and item.status is not status[code]:
            out.append(f"{entry.item_id}: says {code.value}, status is {item.status.value}")
        if entry.kind is ItemKind.TASK and item.status in status.values() and code not in status:
            out.append(f"{entry.item_id}: status {item.status.value} but reason {code.value}")
        if code is ReasonCode.INACTIVE and item.active:
            out.append(f"{entry.item_id}: active routine called inactive")
        if code is ReasonCode.NOT_DUE and any(item.recurrence.occurs_on(d) for d in days):
            out.append(f"{entry.item_id}: due routine called not due")
        about_fixed_time = code.value.startswith("fixed_time") or code is ReasonCode.SCHEDULED_LATER
        if about_fixed_time and item.scheduled_start is None:
            out.append(f"{entry.item_id}: {code.value} without a fixed time")
        if code is ReasonCode.FOCUS_CAP:
            piece = item.min_chunk_minutes if item.splittable and item.scheduled_start is None else item.estimate_minutes
            piece = min(piece, entry.minutes) if entry.minutes < item.estimate_minutes else piece
            if all(plan.focus_minutes[d] + piece <= request.focus_cap_minutes for d in days):
                out.append(f"{entry.item_id}: focus cap claimed with room on every day")
        competing = code in (ReasonCode.LOWER_PRIORITY, ReasonCode.BETTER_FIT, ReasonCode.FIXED_TIME_CONFLICT)
        if competing and not plan.blocks:
            out.append(f"{entry.item_id}: {code.value} in an empty plan")
        if code is ReasonCode.DEADLINE_PASSED and item.due is None:
            out.append(f"{entry.item_id}: deadline passed without a deadline")
    return out


@settings(max_examples=300, **_SETTINGS)
@given(plan_requests(use_solver=False, max_tasks=20))
def test_reasons_do_not_contradict_the_request_or_the_plan(request):
    plan = plan_day(request)
    assert _reason_contradictions(request, plan) == []
