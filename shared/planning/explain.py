"""Why each item (or the rest of a splittable task) is not in the plan, checked against the plan.

Reasons are tested in this order and the first that holds is given, so each one is true of the
final plan and as specific as possible:

1. the item's own state (done, cancelled, blocked, inactive routine, not recurring): decided when
   the problem is built;
2. its deadline has passed;
3. for a fixed-time task: the time is past, after the horizon, after the deadline, taken by a
   more valuable fixed-time task, beyond the focus cap left by those, or not free (outside
   working hours, in a break, in or too close to a busy block);
4. it has no window at all: no working hours / free time, no free time before its deadline, a
   routine window outside working hours, or no free stretch long enough for it in one piece;
5. it has windows, but the final plan leaves no opening: for the rest of a split task whose
   windows could not hold it even if they were empty, there is not enough free time (before its
   deadline); otherwise the time went to items at least as valuable per minute (*lower
   priority*) or to a combination worth more in total (*better fit*);
6. openings remain but each is on a day whose focus cap is reached (*focus cap*).
"""

from __future__ import annotations

import logging

from shared.planning.greedy import openings
from shared.planning.model import ItemKind, ReasonCode, Unscheduled
from shared.planning.placement import Occupancy
from shared.planning.problem import Item, Problem

logger = logging.getLogger(__name__)

_MAX_NAMED = 3


def explain(problem: Problem, occupancy: Occupancy) -> list[Unscheduled]:
    """An :class:`Unscheduled` entry for every rejected or not fully planned item."""
    out = [
        Unscheduled(kind=r.kind, item_id=r.item_id, title=r.title, reason=r.reason, message=r.message,
                    minutes=r.minutes, day=r.occurrence)
        for r in problem.rejections
    ]
    for item in problem.items:
        planned = sum(minutes for _, minutes in occupancy.placed.get(item.key, []))
        missing = item.duration - planned
        if missing <= 0:
            continue
        reason, message = _reason(problem, occupancy, item)
        if planned:
            message = f"{planned} of {item.duration} min planned; the rest: {message}"
        out.append(Unscheduled(kind=item.kind, item_id=item.item_id, title=item.title, reason=reason,
                               message=message, minutes=missing, day=item.occurrence))
    # Input order (tasks, then routines by date): the order the user wrote them in.
    rank = {("task", t.id): i for i, t in enumerate(problem.request.tasks)}
    rank.update({("routine", r.id): len(rank) + i for i, r in enumerate(problem.request.routines)})
    return sorted(out, key=lambda u: (rank[(u.kind.value, u.item_id)], u.day or problem.timeline.days[0]))


class _Explainer:
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.timeline = problem.timeline

    def when(self, offset: int) -> str:
        moment = self.timeline.moment(offset)
        if len(self.timeline.days) == 1 and moment.date() == self.timeline.days[0]:
            return moment.strftime("%H:%M")
        return moment.strftime("%a %d %b %H:%M")

    def day_name(self, day: int) -> str:
        return self.timeline.days[day].strftime("%A %d %B")


def _reason(problem: Problem, occupancy: Occupancy, item: Item) -> tuple[ReasonCode, str]:
    ex = _Explainer(problem)
    if item.deadline is not None and item.deadline <= problem.release:
        return ReasonCode.DEADLINE_PASSED, f"was due {ex.when(item.deadline)}; move its due date to plan it"
    if item.fixed_start is not None:
        found = _fixed_reason(problem, ex, item)
        if found is not None:
            return found
    if not item.windows:
        return _no_window_reason(problem, ex, item)
    return _competition_reason(problem, ex, occupancy, item)


def _fixed_reason(problem: Problem, ex: _Explainer, item: Item) -> tuple[ReasonCode, str] | None:
    start = item.fixed_start
    end = start + item.duration
    if start >= problem.horizon:
        return ReasonCode.SCHEDULED_LATER, f"its fixed time is {ex.when(start)}, after the planned day(s)"
    if start < problem.release or start < 0:
        return ReasonCode.FIXED_TIME_PASSED, f"its fixed time {ex.when(start)} has already passed"
    if item.deadline is not None and end > item.deadline:
        return (ReasonCode.FIXED_TIME_AFTER_DEADLINE,
                f"its fixed time ends at {ex.when(end)}, after its deadline {ex.when(item.deadline)}")
    if item.windows:
        return None
    if item.displaced_by:
        names = _names(problem, list(item.displaced_by))
        return ReasonCode.FIXED_TIME_CONFLICT, f"its fixed time {ex.when(start)} overlaps {names}, worth more"
    if item.over_cap:
        day = problem.timeline.day_index(start)
        return (ReasonCode.FOCUS_CAP,
                f"fixed-time tasks worth more already fill the {problem.focus_cap}-min focus cap on {ex.day_name(day)}")
    clashes = []
    if not any(w_start <= start and end <= w_end for _, w_start, w_end in problem.working):
        clashes.append("outside working hours")
    clashes += [f"during the break '{title}'" for b_start, b_end, title in problem.breaks if b_start < end and start < b_end]
    b = problem.buffer
    clashes += [
        f"during or within {b} min of '{title}'" if b else f"during '{title}'"
        for s, e, title in problem.busy if s - b < end and start < e + b
    ]
    what = ", ".join(clashes) if clashes else "not free"
    return ReasonCode.FIXED_TIME_UNAVAILABLE, f"its fixed time {ex.when(start)}–{ex.when(end)} is {what}"


def _no_window_reason(problem: Problem, ex: _Explainer, item: Item) -> tuple[ReasonCode, str]:
    if item.kind is ItemKind.ROUTINE:
        day = problem.timeline.days.index(item.occurrence)
        working = [(s, e) for k, s, e in problem.working if k == day]
        lo, hi = item.span
        if not working:
            return ReasonCode.NO_FREE_TIME, f"no working hours on {ex.day_name(day)}"
        if not any(s < hi and lo < e for s, e in working):
            return (ReasonCode.OUTSIDE_WORKING_HOURS,
                    f"its window {ex.when(lo)}–{ex.when(hi)} lies outside working hours")
        lo = max(lo, problem.release)
        stretches = [min(s.end, hi) - problem.on_grid(max(s.start, lo)) for s in problem.segments if s.day == day]
        longest = max([0, *stretches])
        if longest <= 0:
            return ReasonCode.NO_FREE_TIME, f"no free time left in its window {ex.when(item.span[0])}–{ex.when(hi)}"
        return (ReasonCode.TOO_LONG,
                f"needs {item.duration} min in one piece; the longest free stretch in its window is {longest} min")
    if not problem.segments:
        return ReasonCode.NO_FREE_TIME, "no free time on the planned day(s)"
    def longest_before(hi: int) -> int:
        return max([0, *(min(s.end, hi) - problem.on_grid(max(s.start, problem.release)) for s in problem.segments)])

    hi = problem.horizon if item.deadline is None else min(item.deadline, problem.horizon)
    longest = longest_before(hi)
    if longest <= 0:
        if hi < problem.horizon and longest_before(problem.horizon) > 0:
            return ReasonCode.NO_TIME_BEFORE_DEADLINE, f"no free time before its deadline {ex.when(item.deadline)}"
        return ReasonCode.NO_FREE_TIME, "no free time on the planned day(s)"
    where = "before its deadline" if item.deadline is not None and item.deadline < problem.horizon else "on the planned day(s)"
    piece = "in one piece" if not item.splittable else f"per chunk (its minimum chunk is {item.min_piece} min)"
    return (ReasonCode.TOO_LONG,
            f"needs {item.min_piece} min {piece}; the longest free stretch {where} is {longest} min")


def _competition_reason(problem: Problem, ex: _Explainer, occupancy: Occupancy, item: Item) -> tuple[ReasonCode, str]:
    found = openings(occupancy, item)
    if found:
        days = sorted({day for day, _ in found})
        if all(occupancy.cap_left(item, day) < need for day, need in found):
            cap_days = ", ".join(ex.day_name(day) for day in days)
            return (ReasonCode.FOCUS_CAP,
                    f"the {problem.focus_cap}-min focus cap is reached on {cap_days}")
        logger.error("an item still fits after the final fill", extra={"item": item.key})
    rival_blocks = {
        (s, e, key)
        for window in item.windows
        for s, e, key in occupancy.blocks()
        if key != item.key and s < window.hi and window.lo < e + problem.buffer
    }
    planned = sum(minutes for _, minutes in occupancy.placed.get(item.key, []))
    if item.splittable and item.duration - planned > sum(w.hi - w.lo for w in item.windows) - planned:
        # Even with its windows all to itself, the rest of a split task would not fit.
        if item.deadline is not None and item.deadline < problem.horizon:
            return (ReasonCode.NO_TIME_BEFORE_DEADLINE,
                    f"not enough free time before its deadline {ex.when(item.deadline)}")
        return ReasonCode.NO_FREE_TIME, "not enough free time on the planned day(s)"
    keys = sorted({key for _, _, key in rival_blocks}, key=lambda k: (-problem.by_key[k].weight, k))
    where = "before its deadline" if item.deadline is not None and item.deadline < problem.horizon else "it could use"
    if all(problem.by_key[key].weight >= item.weight for key in keys):
        return (ReasonCode.LOWER_PRIORITY,
                f"the time {where} went to work at least as important: {_names(problem, keys)}")
    return (ReasonCode.BETTER_FIT,
            f"the time {where} went to a combination worth more in total: {_names(problem, keys)}")


def _names(problem: Problem, keys: list[str]) -> str:
    titles = []
    for key in keys:
        title = f"'{problem.by_key[key].title}'"
        if title not in titles:
            titles.append(title)
    more = len(titles) - _MAX_NAMED
    named = ", ".join(titles[:_MAX_NAMED])
    return f"{named} and {more} more" if more > 0 else named
