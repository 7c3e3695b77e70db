"""Property tests over random days: no hard-constraint violation, a reason for everything left out,
the same plan for the same input. Most examples use the greedy path (fast); a bounded number run
CP-SAT with a small deterministic budget."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from shared.planning import plan_day
from tests.shared.planning.checker import accounting_errors, violations
from tests.shared.planning.strategies import plan_requests

_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=150, **_SETTINGS)
@given(plan_requests(use_solver=False))
def test_greedy_plans_break_no_hard_constraint_and_explain_every_gap(request):
    plan = plan_day(request)
    assert violations(request, plan) == []
    assert accounting_errors(request, plan) == []
    assert plan.method in ("greedy", "empty")


@settings(max_examples=25, **_SETTINGS)
@given(plan_requests(use_solver=True, max_tasks=8))
def test_solver_plans_break_no_hard_constraint_and_explain_every_gap(request):
    plan = plan_day(request)
    assert violations(request, plan) == []
    assert accounting_errors(request, plan) == []
    greedy_plan = plan_day(request.model_copy(update={"solver": request.solver.model_copy(update={"use_solver": False})}))
    assert plan.objective >= greedy_plan.objective


@settings(max_examples=40, **_SETTINGS)
@given(plan_requests(use_solver=False))
def test_greedy_is_deterministic(request):
    assert plan_day(request) == plan_day(request.model_copy(deep=True))


@settings(max_examples=10, **_SETTINGS)
@given(plan_requests(use_solver=True, max_tasks=8))
def test_solver_is_deterministic(request):
    first = plan_day(request)
    assert first == plan_day(request.model_copy(deep=True))
    assert first.model_dump(mode="json") == plan_day(request).model_dump(mode="json")
