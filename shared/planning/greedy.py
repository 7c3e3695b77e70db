"""The fast planner: most valuable work first, each at the earliest place it fits.

Order: pinned fixed-time tasks, then every other item by value per minute, then earliest
deadline, then longest first (long blocks are the hard ones to fit), then key. Each is
put at its earliest compatible start; a splittable task takes the earliest free stretch of each
window in turn, at most one chunk per window, until its estimate is planned.

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


def solve(problem: Problem) -> Placements:
    """A plan built greedily from nothing."""
    return fill(problem, {})


def fill(problem: Problem, placements: Mapping[str, Sequence[tuple[int, int]]]) -> Placements:
    """Add to ``placements`` whatever still fits, in greedy order."""
    occupancy = Occupancy.of(problem, placements)
    for item in order(problem.items):
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
