"""The fast planner: most valuable work first, each at the earliest place it fits.

Order: pinned fixed-time tasks, then every other item by value per minute, then earliest
deadline, then longest first (long blocks are the hard ones to fit), then key. Each is
put at its earliest compatible start; a splittable task takes the earliest free stretch of each
window in turn, at most one chunk per window, until its estimate is planned. ``solve`` then runs
a small deterministic local search (see its docstring): milliseconds on a 200-task day.

``fill`` runs the same pass on top of an existing plan (the solver's): it only ever adds or
lengthens blocks, so it never lowers the objective.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.planning.placement import Occupancy, Placements, window_of
from shared.planning.problem import Item, Problem

_NO_DEADLINE = 1 << 40


def _rank(item: Item) -> tuple:
    return (not item.pinned, -item.weight, item.deadline if item.deadline is not None else _NO_DEADLINE,
            -item.duration, item.key)


def order(items: Sequence[Item]) -> list[Item]:
    """Items in the order a greedy pass considers them."""
    return sorted(items, key=_rank)


def solve(problem: Problem, *, max_passes: int = 3, max_candidates: int = 40) -> Placements:
    """A greedy plan, then a deterministic local search on it.

    Two moves, each kept only if the plan's value rises (so the search ends; ``max_passes`` and
    ``max_candidates`` bound its work):

    * *drop*: keep only the items ranked before a planned item, refill without it, then with it:
      the time and focus minutes it took may serve a better combination;
    * *make room*: for an item left out, keep the items ranked before it outside one of its
      windows, place it first, refill.
    """
    best = fill(problem, {})
    best_value = problem.value(best)
    for _ in range(max_passes):
        improved = False
        for candidate in _neighbours(problem, best, max_candidates):
            value = problem.value(candidate)
            if value > best_value:
                best, best_value, improved = candidate, value, True
        if not improved:
            break
    return best


def _neighbours(problem: Problem, plan: Placements, max_candidates: int):
    rank = {item.key: index for index, item in enumerate(order(problem.items))}
    planned = [k for k in sorted(plan, key=rank.__getitem__) if not problem.by_key[k].pinned]
    for key in planned[:max_candidates]:
        before = {k: v for k, v in plan.items() if rank[k] < rank[key]}
        yield fill(problem, fill(problem, before, skip=key))
    left_out = [i for i in order(problem.items)
                if i.windows and not i.pinned and sum(m for _, m in plan.get(i.key, [])) < i.duration]
    for item in left_out[:max_candidates]:
        for window in item.windows:
            kept = {
                key: [(s, m) for s, m in blocks if not (s < window.hi and window.lo < s + m)]
                for key, blocks in plan.items() if rank[key] < rank[item.key]
            }
            yield fill(problem, {k: v for k, v in kept.items() if v}, first=item.key)


def fill(
    problem: Problem,
    placements: Mapping[str, Sequence[tuple[int, int]]],
    *,
    skip: str | None = None,
    first: str | None = None,
) -> Placements:
    """Add to ``placements`` whatever still fits, in greedy order (``first`` first, never ``skip``)."""
    occupancy = Occupancy.of(problem, placements)
    ranked = order(problem.items)
    if first is not None:
        ranked = [problem.by_key[first]] + [i for i in ranked if i.key != first]
    for item in ranked:
        if item.key == skip:
            continue
        if item.splittable:
            _place_chunks(occupancy, item)
        elif item.key not in occupancy.placed:
            _place_whole(occupancy, item)
    return occupancy.snapshot()


def _place_whole(occupancy: Occupancy, item: Item) -> None:
    for window in item.windows:
        if occupancy.cap_left(item, window.day) < item.duration:
            continue
        start = occupancy.earliest(window, item.duration, grid=item.fixed_start is None)
        if start is not None:
            occupancy.add(item, start, item.duration)
            return


def _place_chunks(occupancy: Occupancy, item: Item) -> None:
    planned = list(occupancy.placed.get(item.key, []))
    left = item.duration - sum(minutes for _, minutes in planned)
    used_segments = set()
    # First lengthen the chunks already planned (the solver's), then open new ones.
    for start, minutes in list(planned):
        window = window_of(item, start)
        if window is None:  # pragma: no cover - every planned chunk lies in one of its windows
            continue
        used_segments.add(window.segment)
        if left <= 0:
            continue
        occupancy.remove(item, start, minutes)
        longer = min(minutes + left, occupancy.room(start, window.hi), occupancy.cap_left(item, window.day))
        occupancy.add(item, start, max(minutes, longer))
        left -= max(minutes, longer) - minutes
    for window in item.windows:
        if left < item.min_piece:
            return
        if window.segment in used_segments:
            continue
        cap = occupancy.cap_left(item, window.day)
        if cap < item.min_piece:
            continue
        start = occupancy.earliest(window, item.min_piece)
        if start is None:
            continue
        minutes = min(left, occupancy.room(start, window.hi), cap)
        occupancy.add(item, start, minutes)
        used_segments.add(window.segment)
        left -= minutes


def openings(occupancy: Occupancy, item: Item) -> list[tuple[int, int]]:
    """Where ``fill`` could still add minutes of ``item`` if the focus cap allowed it.

    Returns ``(day, minutes needed there)`` pairs: a new block needs the item's minimum piece, an
    existing chunk with free room after it needs a single minute.
    """
    planned = list(occupancy.placed.get(item.key, []))  # a copy: probing below edits the plan
    found: list[tuple[int, int]] = []
    if item.splittable:
        used = set()
        for start, minutes in planned:
            window = window_of(item, start)
            if window is None:  # pragma: no cover
                continue
            used.add(window.segment)
            occupancy.remove(item, start, minutes)
            room = occupancy.room(start, window.hi)
            occupancy.add(item, start, minutes)
            if room > minutes:
                found.append((window.day, 1))
        left = item.duration - sum(minutes for _, minutes in planned)
        if left >= item.min_piece:
            for window in item.windows:
                if window.segment not in used and occupancy.earliest(window, item.min_piece) is not None:
                    found.append((window.day, item.min_piece))
        return found
    if planned:
        return []
    for window in item.windows:
        if occupancy.earliest(window, item.duration, grid=item.fixed_start is None) is not None:
            found.append((window.day, item.duration))
    return found
