"""The exact model: CP-SAT with optional intervals, one per (item, window).

Variables, for every window ``w`` of every item:

* ``x[w]`` — the item has a block in this window;
* ``u[w]`` — the block starts at ``grid × u[w]`` (fixed-time tasks: a constant start);
* ``d[w]`` — its length: the item's duration, or a variable in ``[min_piece, duration]`` for a
  splittable task (0 when absent).

Pinned fixed-time tasks are constants: they lie outside the free segments (``problem``), take
their minutes off the focus cap and add their fixed value.

Constraints: each block lies in its window (start ≥ lo, end ≤ hi: the window already respects
working hours, breaks, busy blocks, ``now``, the deadline and a routine's time window); padded
intervals ``[start, end + buffer)`` of one segment (or of segments closer than the buffer) do not
overlap (``AddNoOverlap``); a non-splittable item has at most one block; a splittable task's
blocks add up to at most its estimate; task minutes per day stay within the focus cap. A
redundant knapsack per segment (padded lengths fit in the segment) tightens the LP bound.

Objective: exactly :func:`shared.planning.objective.block_value` summed over present blocks; it
depends on which window holds a block and on its length, not on where in the window it starts,
so the LP relaxation is a tight knapsack bound. An absent block's start is pinned to ``lo`` so it
does not branch.

Determinism: one worker and a limit in *deterministic* time (``max_deterministic_time``), so the
search does the same work, hence returns the same plan, whatever the machine's load. A wall-clock
limit stays as a safety net only.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.planning.objective import block_value
from shared.planning.placement import Placements
from shared.planning.problem import Item, Problem, Window

logger = logging.getLogger(__name__)

@functools.lru_cache(maxsize=1)
def _cp_model():
    """OR-Tools' CP-SAT module, imported on first use (about 0.6 s with its numpy/pandas imports,
    which a function that only shows plans never pays), or None when ortools is missing: ortools
    is a hard dependency of the platform, but the engine must still plan without it."""
    try:
        from ortools.sat.python import cp_model
    except ImportError:  # exercised by the engine test that hides ortools
        return None
    return cp_model


def available() -> bool:
    return _cp_model() is not None


@dataclass(frozen=True)
class SolverResult:
    placements: Placements | None  # None: no feasible solution within the limits
    objective: int | None
    bound: int | None  # proven upper bound of the objective
    optimal: bool
    status: str


@dataclass
class _Var:
    item: Item
    window: Window
    present: object
    unit: object  # start = grid * unit
    length: object | int


def _build(problem: Problem) -> tuple[object, list[_Var]]:
    cp_model = _cp_model()
    model = cp_model.CpModel()
    grid, buffer, horizon = problem.grid, problem.buffer, problem.horizon
    variables: list[_Var] = []
    intervals_by_segment: dict[int, list[object]] = defaultdict(list)
    load_by_segment: dict[int, list[object]] = defaultdict(list)
    focus_by_day: dict[int, list[object]] = defaultdict(list)
    objective = []

    for item in problem.items:
        if item.pinned:  # a constant of the plan: outside every segment, its value is fixed
            objective.append(block_value(item.weight, item.duration, item.fixed_start, horizon))
            continue
        if not item.windows:
            continue
        presences = []
        lengths = []
        for w in item.windows:
            name = f"{item.key}#{w.segment}"
            window_start = problem.segments[w.segment].start
            x = model.new_bool_var(f"x[{name}]")
            presences.append(x)
            if not item.splittable:
                first, last = w.lo // grid, (w.hi - item.duration) // grid
                u = model.new_int_var(first, last, f"u[{name}]")
                model.add(u == first).only_enforce_if(~x)
                interval = model.new_optional_fixed_size_interval_var(grid * u, item.duration + buffer, x, f"i[{name}]")
                var = _Var(item, w, x, u, item.duration)
                load = (item.duration + buffer) * x
                objective.append(block_value(item.weight, item.duration, window_start, horizon) * x)
            else:
                first, last = w.lo // grid, (w.hi - item.min_piece) // grid
                longest = min(item.duration, w.hi - w.lo)
                u = model.new_int_var(first, last, f"u[{name}]")
                d = model.new_int_var(0, longest, f"d[{name}]")
                model.add(u == first).only_enforce_if(~x)
                model.add(d >= item.min_piece).only_enforce_if(x)
                model.add(d == 0).only_enforce_if(~x)
                # CP-SAT wants an affine end: name it, and keep the block inside the window with it.
                e = model.new_int_var(grid * first, w.hi + buffer, f"e[{name}]")
                model.add(e == grid * u + d + buffer)
                interval = model.new_optional_interval_var(grid * u, d + buffer, e, x, f"i[{name}]")
                var = _Var(item, w, x, u, d)
                lengths.append(d)
                load = d + buffer * x
                # block_value(weight, d, window_start, H), linear in d and x.
                objective.append(item.weight * horizon * d - item.weight * window_start * x)
            variables.append(var)
            intervals_by_segment[w.segment].append(interval)
            load_by_segment[w.segment].append(load)
            if item.focus:
                focus_by_day[w.day].append(var.length * x if isinstance(var.length, int) else var.length)
        if item.splittable:
            model.add(sum(lengths) <= item.duration)
        else:
            model.add_at_most_one(presences)

    # Segments closer than the buffer share one no-overlap constraint (a padded block can cross).
    for group in problem.groups:
        intervals = [i for s in group for i in intervals_by_segment[s]]
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    for segment in problem.segments:
        loads = load_by_segment[segment.index]
        if len(loads) > 1:
            model.add(sum(loads) <= segment.end - segment.start + buffer)
    for day, loads in focus_by_day.items():
        model.add(sum(loads) <= problem.focus_cap - problem.pinned_focus[day])
    model.maximize(sum(objective))
    return model, variables


def _hint(model: object, variables: list[_Var], problem: Problem, placements: Mapping[str, Sequence[tuple[int, int]]]) -> None:
    grid = problem.grid
    chosen: dict[tuple[str, int], tuple[int, int]] = {}
    for key, blocks in placements.items():
        item = problem.by_key[key]
        for start, minutes in blocks:
            for w in item.windows:
                if w.lo <= start < w.hi:
                    chosen[(key, w.segment)] = (start, minutes)
    for var in variables:
        block = chosen.get((var.item.key, var.window.segment))
        model.add_hint(var.present, block is not None)
        model.add_hint(var.unit, (block[0] if block else var.window.lo) // grid)
        if not isinstance(var.length, int):
            model.add_hint(var.length, block[1] if block else 0)


def solve(
    problem: Problem,
    *,
    hint: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    deterministic_time: float | None = None,
    wall_time: float | None = None,
    workers: int = 1,
) -> SolverResult:
    """Solve the model. Without limits it runs until the optimum is proven."""
    model, variables = _build(problem)
    pinned = {item.key: [(item.fixed_start, item.duration)] for item in problem.items if item.pinned}
    if not variables:
        return SolverResult(pinned, problem.value(pinned), problem.value(pinned), True, "OPTIMAL")
    if hint:
        _hint(model, variables, problem, hint)
    cp_model = _cp_model()
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 0
    if deterministic_time is not None:
        solver.parameters.max_deterministic_time = deterministic_time
    if wall_time is not None:
        solver.parameters.max_time_in_seconds = wall_time
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        logger.info("cp-sat found no plan", extra={"status": name})
        return SolverResult(None, None, None, False, name)
    placements: Placements = dict(pinned)
    for var in variables:
        if solver.boolean_value(var.present):
            start = problem.grid * solver.value(var.unit)
            minutes = var.length if isinstance(var.length, int) else solver.value(var.length)
            placements.setdefault(var.item.key, []).append((start, minutes))
    placements = {key: sorted(blocks) for key, blocks in sorted(placements.items())}
    value = problem.value(placements)
    if value != round(solver.objective_value):  # pragma: no cover - a modelling bug, never expected
        logger.error("cp-sat objective differs from the plan's value", extra={"solver": solver.objective_value, "plan": value})
    return SolverResult(placements, value, int(solver.best_objective_bound), status == cp_model.OPTIMAL, name)
