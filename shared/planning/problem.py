"""The request turned into numbers: free segments, schedulable items and their windows.

Free time is working hours minus breaks, minus busy blocks widened by the buffer on both sides,
minus everything before ``now``. It is cut into *segments* (maximal free stretches). An *item* is
a task or one day's occurrence of a routine; its *windows* are the parts of segments where it may
go: before its deadline, inside the routine's time window, starting on the grid. A fixed-time
task has exactly one window, ``[start, start + estimate)``, when that stretch is free.

Fixed-time tasks are commitments: they are *pinned* (always planned) when their time is free,
most valuable first; one that overlaps a more valuable pinned task, or would pass the day's focus
cap, keeps no window. Pinning them before optimising means every planner (greedy, CP-SAT, the
exact referee) solves the same problem around the same fixed blocks.

Items that can never be planned (done, blocked, an inactive routine...) are *rejections*, decided
here from the input alone. Items with no window stay items: ``explain`` says why.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property

from shared.models import Priority, Routine, Task, TaskStatus
from shared.planning.errors import PlanningError
from shared.planning.model import ItemKind, PlanRequest, ReasonCode
from shared.planning.objective import block_value, routine_weight, task_weight
from shared.planning.timeline import Timeline

_ONE_MINUTE = timedelta(minutes=1)
PINNED = -1  # the segment index of a pinned fixed-time block's own window

_STATUS_REASONS = {
    TaskStatus.DONE: (ReasonCode.DONE, "it is already done"),
    TaskStatus.CANCELLED: (ReasonCode.CANCELLED, "it was cancelled"),
    TaskStatus.BLOCKED: (ReasonCode.BLOCKED, "it is blocked; unblock it to have it planned"),
}


@dataclass(frozen=True)
class Segment:
    index: int
    day: int
    start: int
    end: int


@dataclass(frozen=True)
class Window:
    """Where one block of an item may lie: start >= lo (on the grid unless fixed), end <= hi."""

    segment: int
    day: int
    lo: int
    hi: int


@dataclass(frozen=True)
class Item:
    key: str
    kind: ItemKind
    item_id: str
    title: str
    priority: Priority
    weight: int
    duration: int  # minutes wanted
    min_piece: int  # shortest block; == duration unless splittable
    splittable: bool
    focus: bool  # counts toward the focus cap (tasks do, routines do not)
    windows: tuple[Window, ...]
    fixed_start: int | None = None
    deadline: int | None = None  # offset the work must end by
    occurrence: date | None = None  # a routine's date
    span: tuple[int, int] | None = None  # a routine's window on its day
    pinned: bool = False  # a fixed-time task that is planned at its time, whatever else happens
    displaced_by: tuple[str, ...] = ()  # keys of the pinned tasks its fixed time overlaps
    over_cap: bool = False  # its fixed time is free but the pinned tasks already fill the focus cap


@dataclass(frozen=True)
class Rejection:
    kind: ItemKind
    item_id: str
    title: str
    reason: ReasonCode
    message: str
    minutes: int
    occurrence: date | None = None


@dataclass(frozen=True)
class Problem:
    request: PlanRequest
    timeline: Timeline
    release: int  # nothing starts before this offset
    working: tuple[tuple[int, int, int], ...]  # (day, start, end) of working hours
    breaks: tuple[tuple[int, int, str], ...]  # (start, end, title)
    busy: tuple[tuple[int, int, str], ...]  # (start, end, title), not widened
    segments: tuple[Segment, ...]
    items: tuple[Item, ...]
    rejections: tuple[Rejection, ...] = field(default=())

    @property
    def buffer(self) -> int:
        return self.request.buffer_minutes

    @property
    def grid(self) -> int:
        return self.request.granularity_minutes

    @property
    def focus_cap(self) -> int:
        return self.request.focus_cap_minutes

    @property
    def horizon(self) -> int:
        return self.timeline.length

    @cached_property
    def weights(self) -> dict[str, int]:
        return {item.key: item.weight for item in self.items}

    @cached_property
    def by_key(self) -> dict[str, Item]:
        return {item.key: item for item in self.items}

    def on_grid(self, offset: int) -> int:
        """The first grid point at or after ``offset``."""
        return -(-offset // self.grid) * self.grid

    @cached_property
    def _segment_starts(self) -> list[int]:
        return [segment.start for segment in self.segments]

    def segment_at(self, offset: int) -> Segment:
        """The free segment containing ``offset`` (a planned block always starts in one)."""
        index = bisect.bisect_right(self._segment_starts, offset) - 1
        segment = self.segments[index] if index >= 0 else None
        if segment is None or not segment.start <= offset < segment.end:
            raise PlanningError("a planned block starts outside free time")
        return segment

    def value(self, placements: Mapping[str, Iterable[tuple[int, int]]]) -> int:
        """The objective (``shared.planning.objective``) of ``placements``: key -> [(start, minutes)]."""
        return sum(
            block_value(self.by_key[key].weight, minutes, self.window_start(key, start), self.horizon)
            for key, blocks in placements.items()
            for start, minutes in blocks
        )

    def window_start(self, key: str, start: int) -> int:
        """Where the free window of a block begins (a pinned block is its own window)."""
        return start if self.by_key[key].pinned else self.segment_at(start).start

    @cached_property
    def pinned_focus(self) -> list[int]:
        """Task minutes per day taken by pinned fixed-time tasks."""
        focus = [0] * len(self.timeline.days)
        for item in self.items:
            if item.pinned:
                focus[item.windows[0].day] += item.duration
        return focus

    @cached_property
    def groups(self) -> tuple[tuple[int, ...], ...]:
        """Segment indices that must be checked together: neighbours closer than the buffer."""
        groups: list[list[int]] = []
        previous_end = None
        for segment in self.segments:
            if groups and previous_end is not None and segment.start - previous_end < self.buffer:
                groups[-1].append(segment.index)
            else:
                groups.append([segment.index])
            previous_end = segment.end
        return tuple(tuple(group) for group in groups)


def _subtract(spans: list[tuple[int, int]], cut_start: int, cut_end: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if cut_end <= start or cut_start >= end:
            out.append((start, end))
            continue
        if start < cut_start:
            out.append((start, cut_start))
        if cut_end < end:
            out.append((cut_end, end))
    return out


def _deadline(task: Task, timeline: Timeline) -> tuple[int | None, int | None]:
    """(offset the task must end by, planned days until it is due)."""
    if task.due is None:
        return None, None
    if isinstance(task.due, datetime):
        instant = timeline.localize(task.due)
        due_date = timeline.local_date(instant - _ONE_MINUTE)  # 00:00 ends the previous day
    else:
        instant = timeline.end_of(task.due)
        due_date = task.due
    return timeline.floor(instant), (due_date - timeline.days[0]).days


def _segments(problem: Problem, cuts: list[tuple[int, int]]) -> tuple[Segment, ...]:
    """Working hours minus breaks, busy blocks (widened by the buffer), the past and ``cuts``."""
    buffer = problem.buffer
    segments: list[Segment] = []
    for k, start, end in problem.working:
        spans = [(start, end)]
        for b_start, b_end, _ in problem.breaks:
            spans = _subtract(spans, b_start, b_end)
        for b_start, b_end, _ in problem.busy:
            spans = _subtract(spans, b_start - buffer, b_end + buffer)
        for c_start, c_end in cuts:
            spans = _subtract(spans, c_start - buffer, c_end + buffer)
        spans = _subtract(spans, min(start, problem.release) - 1, problem.release)
        for s, e in sorted(spans):
            segments.append(Segment(len(segments), k, s, e))
    return tuple(segments)


def build(request: PlanRequest) -> Problem:
    """Compute free segments, items and up-front rejections for a request."""
    timeline = Timeline(request.day, request.horizon_days, request.zone)
    release = max(0, timeline.ceil(request.now)) if request.now is not None else 0

    working: list[tuple[int, int, int]] = []
    breaks: list[tuple[int, int, str]] = []
    for k, day in enumerate(timeline.days):
        if day.isoweekday() in request.working_hours.days:
            working.append((k, timeline.wall(k, request.working_hours.start), timeline.wall(k, request.working_hours.end)))
        for pause in request.breaks:
            if day.isoweekday() in pause.days:
                breaks.append((timeline.wall(k, pause.start), timeline.wall(k, pause.end), pause.title))
    busy = tuple(sorted((timeline.floor(b.start), timeline.ceil(b.end), b.title) for b in request.busy))
    base = Problem(request, timeline, release, tuple(working), tuple(sorted(breaks)), busy, (), ())
    base = replace(base, segments=_segments(base, []))

    rejections: list[Rejection] = []
    schedulable: list[Task] = []
    for task in request.tasks:
        if task.status in _STATUS_REASONS:
            reason, message = _STATUS_REASONS[task.status]
            rejections.append(Rejection(ItemKind.TASK, task.id, task.title, reason, message, task.estimate_minutes))
        else:
            schedulable.append(task)
    # Fixed-time tasks first: the pinned ones then cut the free time everything else shares.
    fixed = _pin_fixed(base, [_fixed_item(base, t) for t in schedulable if t.scheduled_start is not None])
    pinned = [(item.fixed_start, item.fixed_start + item.duration) for item in fixed if item.pinned]
    problem = replace(base, segments=_segments(base, pinned))

    fixed_by_id = {item.item_id: item for item in fixed}
    items = [fixed_by_id.get(t.id) or _flexible_item(problem, t) for t in schedulable]
    for routine in request.routines:
        occurrences = _routine_items(problem, routine) if routine.active else []
        if not routine.active:
            rejections.append(Rejection(ItemKind.ROUTINE, routine.id, routine.title, ReasonCode.INACTIVE,
                                        "the routine is switched off", routine.duration_minutes))
        elif not occurrences:
            rejections.append(Rejection(ItemKind.ROUTINE, routine.id, routine.title, ReasonCode.NOT_DUE,
                                        "does not recur on the planned day(s)", routine.duration_minutes))
        else:
            items.extend(occurrences)
    return replace(problem, items=tuple(items), rejections=tuple(rejections))


def _pin_fixed(problem: Problem, items: list[Item]) -> list[Item]:
    """Pin free fixed-time tasks, most valuable first; the rest lose their window (and say why)."""
    candidates = sorted((i for i in items if i.windows), key=lambda i: (-i.weight, i.fixed_start, i.key))
    kept: list[Item] = []
    focus = [0] * len(problem.timeline.days)
    decided: dict[str, Item] = {}
    b = problem.buffer
    for item in candidates:
        start, end, day = item.fixed_start, item.fixed_start + item.duration, item.windows[0].day
        clashes = tuple(k.key for k in kept if start < k.fixed_start + k.duration + b and k.fixed_start < end + b)
        if clashes:
            decided[item.key] = replace(item, windows=(), displaced_by=clashes)
        elif focus[day] + item.duration > problem.focus_cap:
            decided[item.key] = replace(item, windows=(), over_cap=True)
        else:
            focus[day] += item.duration
            kept.append(item)
            # A pinned block lies outside every free segment: its window stands alone (segment -1).
            decided[item.key] = replace(item, pinned=True, windows=(Window(PINNED, day, start, end),))
    return [decided.get(item.key, item) for item in items]


def _windows(problem: Problem, lo: int, hi: int, min_piece: int, day: int | None = None) -> tuple[Window, ...]:
    windows = []
    for segment in problem.segments:
        if day is not None and segment.day != day:
            continue
        start = problem.on_grid(max(segment.start, lo))
        end = min(segment.end, hi)
        if end - start >= min_piece:
            windows.append(Window(segment.index, segment.day, start, end))
    return tuple(windows)


def _task_base(problem: Problem, task: Task) -> tuple[dict, int]:
    deadline, days_left = _deadline(task, problem.timeline)
    hi = problem.horizon if deadline is None else min(deadline, problem.horizon)
    weight = task_weight(task.priority, days_left, task.carried_over_days)
    return {"key": f"task:{task.id}", "kind": ItemKind.TASK, "item_id": task.id, "title": task.title,
            "priority": task.priority, "weight": weight, "duration": task.estimate_minutes, "focus": True,
            "deadline": deadline}, hi


def _fixed_item(problem: Problem, task: Task) -> Item:
    """A fixed-time task, with a window when its whole stretch is free."""
    base, hi = _task_base(problem, task)
    start = problem.timeline.floor(problem.timeline.localize(task.scheduled_start))
    end = start + task.estimate_minutes
    windows: tuple[Window, ...] = ()
    if start >= problem.release and end <= hi:
        windows = tuple(Window(s.index, s.day, start, end) for s in problem.segments if s.start <= start and end <= s.end)
    return Item(**base, min_piece=task.estimate_minutes, splittable=False, windows=windows, fixed_start=start)


def _flexible_item(problem: Problem, task: Task) -> Item:
    base, hi = _task_base(problem, task)
    min_piece = min(task.min_chunk_minutes, task.estimate_minutes) if task.splittable else task.estimate_minutes
    return Item(**base, min_piece=min_piece, splittable=task.splittable,
                windows=_windows(problem, problem.release, hi, min_piece))


def _routine_items(problem: Problem, routine: Routine) -> list[Item]:
    timeline = problem.timeline
    items = []
    for k, day in enumerate(timeline.days):
        if not routine.recurrence.occurs_on(day):
            continue
        lo, hi = timeline.wall(k, routine.window_start), timeline.wall(k, routine.window_end)
        items.append(Item(
            key=f"routine:{routine.id}@{day.isoformat()}", kind=ItemKind.ROUTINE, item_id=routine.id,
            title=routine.title, priority=routine.priority, weight=routine_weight(routine.priority),
            duration=routine.duration_minutes, min_piece=routine.duration_minutes, splittable=False,
            focus=False, windows=_windows(problem, max(lo, problem.release), hi, routine.duration_minutes, day=k),
            occurrence=day, span=(lo, hi),
        ))
    return items

