"""The partial plan as a set of occupied stretches, and the one rule for adding a block to it.

A block ``[start, end)`` is compatible with the plan when it keeps ``buffer`` minutes from every
planned block on both sides, and its day's focus cap is respected. The greedy planner, the gap
filling after the solver and the explanations all ask this class, so they agree on what fits.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

from shared.planning.problem import Item, Problem, Window

Placements = dict[str, list[tuple[int, int]]]  # item key -> [(start, minutes), ...] sorted by start


class Occupancy:
    """Planned blocks sorted by start, with the task minutes planned on each day."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.buffer = problem.buffer
        self._starts: list[int] = []
        self._blocks: list[tuple[int, int, str]] = []  # (start, end, key)
        self.focus = [0] * len(problem.timeline.days)
        self.placed: Placements = {}

    @classmethod
    def of(cls, problem: Problem, placements: Mapping[str, Sequence[tuple[int, int]]]) -> Occupancy:
        occupancy = cls(problem)
        for key in sorted(placements):
            for start, minutes in placements[key]:
                occupancy.add(problem.by_key[key], start, minutes)
        return occupancy

    # -- queries ---------------------------------------------------------------------------------

    def blocks(self) -> list[tuple[int, int, str]]:
        return list(self._blocks)

    def cap_left(self, item: Item, day: int) -> int:
        """Minutes this item may still add on ``day`` under the focus cap."""
        if not item.focus:
            return 1 << 30
        return max(0, self.problem.focus_cap - self.focus[day])

    def _first_relevant(self, start: int) -> int:
        # Blocks never overlap, so ends are sorted like starts: skip those ending well before.
        index = bisect.bisect_left(self._starts, start)
        return max(0, index - 1)

    def earliest(self, window: Window, minutes: int, *, grid: bool = True) -> int | None:
        """Earliest start in ``window`` for a block of ``minutes`` that keeps the buffer, or None."""
        b = self.buffer
        x = window.lo
        for s, e, _ in self._blocks[self._first_relevant(x):]:
            if e + b <= x:
                continue
            if x + minutes + b <= s:
                break
            x = self.problem.on_grid(e + b) if grid else e + b
            if x + minutes > window.hi:
                return None
        return x if x + minutes <= window.hi else None

    def room(self, start: int, hi: int) -> int:
        """How long a block starting at ``start`` (a compatible start) may run before ``hi``."""
        index = bisect.bisect_right(self._starts, start)
        end = hi if index == len(self._blocks) else min(hi, self._blocks[index][0] - self.buffer)
        return max(0, end - start)

    def conflicts(self, start: int, end: int) -> list[str]:
        """Keys of planned blocks closer than the buffer to ``[start, end)``."""
        b = self.buffer
        return [key for s, e, key in self._blocks if start < e + b and s < end + b]

    # -- updates ---------------------------------------------------------------------------------

    def add(self, item: Item, start: int, minutes: int) -> None:
        index = bisect.bisect_left(self._starts, start)
        self._starts.insert(index, start)
        self._blocks.insert(index, (start, start + minutes, item.key))
        if item.focus:
            self.focus[self.problem.timeline.day_index(start)] += minutes
        self.placed.setdefault(item.key, []).append((start, minutes))
        self.placed[item.key].sort()

    def remove(self, item: Item, start: int, minutes: int) -> None:
        index = self._blocks.index((start, start + minutes, item.key))
        del self._starts[index]
        del self._blocks[index]
        if item.focus:
            self.focus[self.problem.timeline.day_index(start)] -= minutes
        self.placed[item.key].remove((start, minutes))
        if not self.placed[item.key]:
            del self.placed[item.key]

    def snapshot(self) -> Placements:
        return {key: list(blocks) for key, blocks in sorted(self.placed.items())}


def window_of(item: Item, start: int) -> Window | None:
    """The item's window holding a block that starts at ``start``."""
    for window in item.windows:
        if window.lo <= start < window.hi:
            return window
    return None
