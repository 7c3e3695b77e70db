"""``plan_day``: the engine's one entry point.

1. Build the problem (free segments, items, windows) from the request.
2. Plan greedily (fast; always available).
3. Unless disabled or ortools is missing, improve with CP-SAT, hinted with the greedy plan, under
   a deterministic budget; keep the solver's plan when it is at least as good.
4. Order each free window's blocks most valuable first (value unchanged), then add whatever
   still fits (never lowers the value); repeat until nothing more fits.
5. Explain every item left out, convert offsets to aware datetimes.
"""

from __future__ import annotations

import logging

from shared.planning import greedy, solver
from shared.planning.explain import explain
from shared.planning.model import Plan, PlanBlock, PlanRequest
from shared.planning.placement import Occupancy, Placements
from shared.planning.problem import Problem, build
from shared.planning.sequence import sequence

logger = logging.getLogger(__name__)

_MAX_SETTLE_ROUNDS = 8


def plan_day(request: PlanRequest) -> Plan:
    """A time-blocked plan for ``request``; identical requests give identical plans."""
    problem = build(request)
    placements = greedy.solve(problem)
    value = problem.value(placements)
    method, optimal = "greedy", False
    if not any(item.windows for item in problem.items):
        method, optimal = "empty", True
    elif request.solver.use_solver and solver.available():
        result = solver.solve(
            problem,
            hint=placements,
            deterministic_time=request.solver.deterministic_time_limit,
            wall_time=request.solver.wall_time_limit_seconds,
        )
        if result.placements is not None and result.objective >= value:
            placements, method, optimal = result.placements, "cp-sat", result.optimal
        else:
            logger.warning("cp-sat gave no better plan; keeping the greedy one", extra={"status": result.status})
    placements = _settle(problem, placements)
    return _plan(problem, placements, method, optimal)


def _settle(problem: Problem, placements: Placements) -> Placements:
    """Order each window, then fill what fits, until filling adds nothing (each round adds work)."""
    for _ in range(_MAX_SETTLE_ROUNDS):
        ordered = sequence(problem, placements)
        filled = greedy.fill(problem, ordered)
        if filled == ordered:
            return ordered
        placements = filled
    return placements


def _plan(problem: Problem, placements: Placements, method: str, optimal: bool) -> Plan:
    timeline = problem.timeline
    occupancy = Occupancy.of(problem, placements)
    blocks = []
    for key, pieces in placements.items():
        item = problem.by_key[key]
        for index, (start, minutes) in enumerate(pieces, start=1):
            begin = timeline.moment(start)
            blocks.append(PlanBlock(
                kind=item.kind, item_id=item.item_id, title=item.title, start=begin,
                end=timeline.moment(start + minutes), minutes=minutes, priority=item.priority, day=begin.date(),
                fixed=item.fixed_start is not None, chunk=index, chunks=len(pieces),
            ))
    blocks.sort(key=lambda b: (b.start, b.item_id))
    plan = Plan(
        day=timeline.days[0],
        timezone=problem.request.timezone,
        horizon_days=len(timeline.days),
        blocks=blocks,
        unscheduled=explain(problem, occupancy),
        objective=problem.value(placements),
        method=method,
        proven_optimal=optimal,
        focus_minutes={day: occupancy.focus[k] for k, day in enumerate(timeline.days)},
    )
    logger.info("planned", extra={"blocks": len(blocks), "unscheduled": len(plan.unscheduled), "method": method,
                                  "optimal": optimal})
    return plan
