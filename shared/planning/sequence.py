"""Order the blocks inside each free window: most valuable first, as far as the rules allow.

The objective decides *which* work goes into *which* window; this pass decides the order inside
a window. For each window (or group of windows closer than the buffer) it rebuilds the movable
blocks (everything but fixed-time tasks) at their earliest compatible starts, in order of value
per minute, then deadline, then key. When that order would push a block past its deadline or
routine window, it takes at each step the most valuable block whose choice still lets the rest be
placed in deadline order. The new arrangement replaces the old one only if its weighted start
sum (Σ weight × start) is not larger, and never when it cannot place every block, so the pass
keeps every block in its window with its length: the plan's value is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.planning.placement import Occupancy, Placements, window_of
from shared.planning.problem import Item, Problem, Window

_Block = tuple[Item, int, int, Window]  # item, start, minutes, window


def sequence(problem: Problem, placements: Mapping[str, Sequence[tuple[int, int]]]) -> Placements:
    """``placements`` with each window's movable blocks reordered (see the module docstring)."""
    current: Placements = {key: sorted(blocks) for key, blocks in placements.items()}
    for group in problem.groups:
        members = set(group)
        movable: list[_Block] = []
        for key in sorted(current):
            item = problem.by_key[key]
            if item.fixed_start is not None:
                continue
            for start, minutes in current[key]:
                window = window_of(item, start)
                if window is not None and window.segment in members:
                    movable.append((item, start, minutes, window))
        if not movable:
            continue
        moving = {(item.key, start, minutes) for item, start, minutes, _ in movable}
        others = {key: [b for b in blocks if (key, *b) not in moving] for key, blocks in current.items()}
        arranged = _arrange(problem, {k: v for k, v in others.items() if v}, movable)
        if arranged is None or _cost(arranged) > _cost(movable):
            continue
        for item, start, minutes, _ in movable:
            current[item.key].remove((start, minutes))
        for item, start, minutes, _ in arranged:
            current[item.key].append((start, minutes))
            current[item.key].sort()
    return current


def _cost(blocks: list[_Block]) -> int:
    return sum(item.weight * start for item, start, _, _ in blocks)


def _priority(block: _Block) -> tuple:
    item, start, _, window = block
    return (-item.weight, window.hi, window.lo, item.key, start)


def _deadline_order(block: _Block) -> tuple:
    item, start, _, window = block
    return (window.hi, window.lo, -item.weight, item.key, start)


def _place_all(occupancy: Occupancy, blocks: list[_Block]) -> list[_Block] | None:
    """Place ``blocks`` in this order at their earliest starts; undo and return None on failure."""
    placed: list[_Block] = []
    for item, _, minutes, window in blocks:
        start = occupancy.earliest(window, minutes)
        if start is None:
            for done_item, done_start, done_minutes, _ in placed:
                occupancy.remove(done_item, done_start, done_minutes)
            return None
        occupancy.add(item, start, minutes)
        placed.append((item, start, minutes, window))
    return placed


def _arrange(problem: Problem, fixed: Placements, movable: list[_Block]) -> list[_Block] | None:
    occupancy = Occupancy.of(problem, fixed)
    ranked = sorted(movable, key=_priority)
    simple = _place_all(occupancy, ranked)
    if simple is not None:
        return simple
    remaining = list(ranked)
    result: list[_Block] = []
    while remaining:
        for candidate in remaining:
            item, _, minutes, window = candidate
            start = occupancy.earliest(window, minutes)
            if start is None:
                continue
            occupancy.add(item, start, minutes)
            rest = [b for b in remaining if b is not candidate]
            trial = _place_all(occupancy, sorted(rest, key=_deadline_order))
            if trial is not None:
                for b_item, b_start, b_minutes, _ in trial:
                    occupancy.remove(b_item, b_start, b_minutes)
                result.append((item, start, minutes, window))
                remaining = rest
                break
            occupancy.remove(item, start, minutes)
        else:
            return None
    return result
