"""The CP-SAT model against exhaustive search on small days, and the solver's own guarantees.

The exhaustive search shares nothing with the solver but the problem's windows and the objective:
it enumerates every assignment of items to windows (and every chunk length of a splittable task),
and decides whether the blocks of a window fit by trying every order, each block at its earliest
grid start. For a fixed order that placement is dominant (starting earlier never hurts the blocks
after it), so "some order fits" is exactly "the window can hold these blocks".

Every number in these days (grid, window bounds, durations, buffer, cap) is a multiple of 5, and
the value grows with a chunk's length, so a best chunk length is always pinned by one of those
numbers: chunk lengths are enumerated in steps of 5.
"""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.models import Priority, Routine, Task, WorkingHours
from shared.planning import (
    Break,
    BusyBlock,
    PlanRequest,
    SolverOptions,
    greedy,
    plan_day,
    solver,
)
from shared.planning.objective import block_value
from shared.planning.problem import Item, Problem, Window, build

DAY = date(2026, 10, 25)  # a 25-hour day in Paris, to keep the objective's H honest


def _fits(problem: Problem, blocks: list[tuple[Window, int]]) -> bool:
    """Can these (window, minutes) blocks of one segment group all be placed?"""
    grid, buffer = problem.grid, problem.buffer
    for order in itertools.permutations(blocks):
        end = None
        for window, minutes in order:
            start = window.lo if end is None else max(window.lo, end + buffer)
            start = -(-start // grid) * grid
            if start + minutes > window.hi:
                break
            end = start + minutes
        else:
            return True
    return False


def _options(item: Item) -> list[list[tuple[Window, int]]]:
    if not item.splittable:
        return [[]] + [[(w, item.duration)] for w in item.windows]
    per_window = [[0, *range(item.min_piece, min(item.duration, w.hi - w.lo) + 1, 5)] for w in item.windows]
    return [
        [(w, minutes) for w, minutes in zip(item.windows, lengths) if minutes]
        for lengths in itertools.product(*per_window)
        if sum(lengths) <= item.duration
    ]


def exhaustive_optimum(problem: Problem) -> int:
    pinned = {i.key: [(i.fixed_start, i.duration)] for i in problem.items if i.pinned}
    base = problem.value(pinned)
    free = [i for i in problem.items if i.windows and not i.pinned]
    group_of = {s: g for g, group in enumerate(problem.groups) for s in group}
    best = base
    for choice in itertools.product(*(_options(i) for i in free)):
        focus = list(problem.pinned_focus)
        by_group: dict[int, list[tuple[Window, int]]] = {}
        value = base
        for item, blocks in zip(free, choice):
            for window, minutes in blocks:
                by_group.setdefault(group_of[window.segment], []).append((window, minutes))
                value += block_value(item.weight, minutes, problem.segments[window.segment].start, problem.horizon)
                if item.focus:
                    focus[window.day] += minutes
        if value <= best or any(f > problem.focus_cap for f in focus):
            continue
        if all(_fits(problem, blocks) for blocks in by_group.values()):
            best = value
    return best


@st.composite
def small_days(draw) -> PlanRequest:
    def at(hour: int, minute: int = 0):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.combine(DAY, time(hour, minute)).replace(tzinfo=ZoneInfo("Europe/Paris"))

    busy = []
    if draw(st.booleans()):
        start = draw(st.sampled_from((30, 60, 90)))
        busy.append(BusyBlock(start=at(1, 0) + timedelta(minutes=start), end=at(1, 0) + timedelta(minutes=start + 30)))
    breaks = [Break(start=time(2, 30), end=time(2, 45))] if draw(st.booleans()) else []
    tasks = []
    for index in range(draw(st.integers(2, 5))):
        splittable = index == 0 and draw(st.booleans())
        estimate = draw(st.sampled_from((45, 60, 90, 120) if splittable else (15, 20, 30, 45, 60)))
        due = draw(st.sampled_from((None, None, at(2, 0), at(3, 0))))
        fixed = at(1, 0) + timedelta(minutes=draw(st.sampled_from((0, 45, 120)))) if index == 3 else None
        tasks.append(Task(
            id=f"t{index}", title=f"T{index}", estimate_minutes=estimate,
            priority=draw(st.sampled_from(list(Priority))), due=due, splittable=splittable,
            min_chunk_minutes=draw(st.sampled_from((15, 25))), scheduled_start=fixed,
            carried_over_days=draw(st.integers(0, 2)),
        ))
    routines = []
    if draw(st.booleans()):
        routines.append(Routine(id="r", title="R", window_start=time(1, 30), window_end=time(2, 45),
                                duration_minutes=draw(st.sampled_from((15, 30))), priority=Priority.HIGH))
    return PlanRequest(
        day=DAY, timezone="Europe/Paris", tasks=tasks, routines=routines, busy=busy, breaks=breaks,
        working_hours=WorkingHours(start=time(1), end=time(4), days=[7]),  # crosses the repeated hour
        buffer_minutes=draw(st.sampled_from((0, 10))), focus_cap_minutes=draw(st.sampled_from((60, 120, 240))),
        granularity_minutes=15, solver=SolverOptions(deterministic_time_limit=5.0),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_days())
def test_cp_sat_optimum_equals_exhaustive_search(request):
    problem = build(request)
    exact = solver.solve(problem)
    assert exact.optimal
    assert exact.objective == exhaustive_optimum(problem) == exact.bound
    assert problem.value(greedy.solve(problem)) <= exact.objective
    plan = plan_day(request)
    assert plan.proven_optimal and plan.objective == exact.objective


def test_solver_is_reproducible_and_respects_its_budget():
    from bench.planning import generate

    problem = build(generate(28, 100))
    hint = greedy.solve(problem)
    first = solver.solve(problem, hint=hint, deterministic_time=0.3)
    second = solver.solve(problem, hint=hint, deterministic_time=0.3)
    assert first.placements == second.placements and first.objective == second.objective
    assert first.objective >= problem.value(hint)
    assert first.bound >= first.objective


def test_empty_problem_is_trivially_optimal():
    problem = build(PlanRequest(day=DAY, timezone="UTC", working_hours=WorkingHours(days=[1])))  # a day off
    result = solver.solve(problem)
    assert (result.placements, result.objective, result.optimal) == ({}, 0, True)
