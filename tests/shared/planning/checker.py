"""An independent checker of a plan's hard constraints, written from the request alone.

It does not import the engine's internals (no offsets, no segments): it recomputes every rule with
aware datetimes compared as UTC instants (comparing two datetimes that share a tzinfo ignores
``fold``, which would hide errors on the repeated hour of a daylight-saving day).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from shared.models import TaskStatus
from shared.planning import ItemKind, Plan, PlanRequest


def _at(request: PlanRequest, day: date, wall: time) -> datetime:
    return datetime.combine(day, wall).replace(tzinfo=request.zone).astimezone(UTC)


def _due(request: PlanRequest, due) -> datetime | None:
    if due is None:
        return None
    if isinstance(due, datetime):
        return (due if due.tzinfo else due.replace(tzinfo=request.zone)).astimezone(UTC)
    return _at(request, due + timedelta(days=1), time(0))


def violations(request: PlanRequest, plan: Plan) -> list[str]:
    """Every broken rule, as readable strings (empty when the plan is valid)."""
    out: list[str] = []
    zone = request.zone
    buffer = timedelta(minutes=request.buffer_minutes)
    days = [request.day + timedelta(days=k) for k in range(request.horizon_days)]
    tasks = {t.id: t for t in request.tasks}
    routines = {r.id: r for r in request.routines}
    now = request.now.astimezone(UTC) if request.now else None

    blocks = sorted(plan.blocks, key=lambda b: b.start.astimezone(UTC))
    for block in blocks:
        s, e = block.start.astimezone(UTC), block.end.astimezone(UTC)
        name = f"{block.kind.value} {block.item_id} at {block.start.isoformat()}"
        if block.start.utcoffset() != block.start.astimezone(zone).utcoffset():
            out.append(f"{name}: start not expressed in the user's zone")
        if e <= s or (e - s) != timedelta(minutes=block.minutes):
            out.append(f"{name}: length {e - s} does not match {block.minutes} min")
        local_day = s.astimezone(zone).date()
        if local_day != block.day or local_day not in days:
            out.append(f"{name}: day {block.day} is not its local date / outside the horizon")
        if local_day.isoweekday() not in request.working_hours.days:
            out.append(f"{name}: on a day off")
        if s < _at(request, local_day, request.working_hours.start) or e > _at(request, local_day, request.working_hours.end):
            out.append(f"{name}: outside working hours")
        for pause in request.breaks:
            on_day = local_day.isoweekday() in pause.days
            if on_day and s < _at(request, local_day, pause.end) and _at(request, local_day, pause.start) < e:
                out.append(f"{name}: overlaps break {pause.title}")
        for busy in request.busy:
            bs, be = busy.start.astimezone(UTC), busy.end.astimezone(UTC)
            if s < be + buffer and bs < e + buffer:
                out.append(f"{name}: within the buffer of busy block {busy.title}")
        if now is not None and s < now:
            out.append(f"{name}: starts before now")
        if block.kind is ItemKind.TASK:
            task = tasks.get(block.item_id)
            if task is None:
                out.append(f"{name}: unknown task")
                continue
            if task.status in (TaskStatus.DONE, TaskStatus.CANCELLED, TaskStatus.BLOCKED):
                out.append(f"{name}: task is {task.status.value}")
            due = _due(request, task.due)
            if due is not None and e > due:
                out.append(f"{name}: ends after its deadline")
            if task.scheduled_start is not None:
                fixed = task.scheduled_start if task.scheduled_start.tzinfo else task.scheduled_start.replace(tzinfo=zone)
                if s != fixed.astimezone(UTC).replace(second=0, microsecond=0) or block.minutes != task.estimate_minutes:
                    out.append(f"{name}: fixed-time task not at its time")
        else:
            routine = routines.get(block.item_id)
            if routine is None:
                out.append(f"{name}: unknown routine")
                continue
            if not routine.active or not routine.recurrence.occurs_on(local_day):
                out.append(f"{name}: routine not due that day")
            if s < _at(request, local_day, routine.window_start) or e > _at(request, local_day, routine.window_end):
                out.append(f"{name}: routine outside its window")
            if block.minutes != routine.duration_minutes:
                out.append(f"{name}: routine length differs from its duration")

    for first, second in pairwise(blocks):
        if second.start.astimezone(UTC) < first.end.astimezone(UTC) + buffer:
            out.append(f"{first.item_id} and {second.item_id} overlap or are closer than the buffer")

    per_task: dict[str, list] = defaultdict(list)
    per_routine_day: dict[tuple[str, date], int] = defaultdict(int)
    focus: dict[date, int] = defaultdict(int)
    for block in blocks:
        if block.kind is ItemKind.TASK:
            per_task[block.item_id].append(block)
            focus[block.day] += block.minutes
        else:
            per_routine_day[(block.item_id, block.day)] += 1
    for day, minutes in focus.items():
        if minutes > request.focus_cap_minutes:
            out.append(f"{day}: {minutes} task minutes exceed the focus cap")
        if plan.focus_minutes.get(day) != minutes:
            out.append(f"{day}: focus_minutes reports {plan.focus_minutes.get(day)}, blocks add up to {minutes}")
    for task_id, task_blocks in per_task.items():
        task = tasks[task_id]
        total = sum(b.minutes for b in task_blocks)
        if total > task.estimate_minutes:
            out.append(f"task {task_id}: {total} min planned for a {task.estimate_minutes}-min estimate")
        if not task.splittable and len(task_blocks) > 1:
            out.append(f"task {task_id}: not splittable but planned in {len(task_blocks)} blocks")
        piece = min(task.min_chunk_minutes, task.estimate_minutes) if task.splittable else task.estimate_minutes
        if any(b.minutes < piece for b in task_blocks):
            out.append(f"task {task_id}: a block is shorter than its minimum chunk")
    for (routine_id, day), count in per_routine_day.items():
        if count > 1:
            out.append(f"routine {routine_id}: {count} blocks on {day}")
    return out


def accounting_errors(request: PlanRequest, plan: Plan) -> list[str]:
    """Every task and routine occurrence is planned in full or has a reason for what is missing."""
    out: list[str] = []
    days = [request.day + timedelta(days=k) for k in range(request.horizon_days)]
    planned: dict[tuple[str, str, date | None], int] = defaultdict(int)
    for block in plan.blocks:
        day = block.day if block.kind is ItemKind.ROUTINE else None
        planned[(block.kind.value, block.item_id, day)] += block.minutes
    reasons: dict[tuple[str, str, date | None], list] = defaultdict(list)
    for entry in plan.unscheduled:
        reasons[(entry.kind.value, entry.item_id, entry.day)].append(entry)
        if not entry.message.strip():
            out.append(f"{entry.item_id}: empty reason message")
        if entry.minutes <= 0:
            out.append(f"{entry.item_id}: reason for nothing missing")

    def check(key, wanted: int) -> None:
        got = planned.get(key, 0)
        missing = wanted - got
        entries = reasons.get(key, [])
        if missing > 0 and not entries:
            out.append(f"{key}: {missing} min unplanned without a reason")
        if missing > 0 and entries and entries[0].minutes != missing:
            out.append(f"{key}: reason covers {entries[0].minutes} min, {missing} are missing")
        if missing <= 0 and entries:
            out.append(f"{key}: fully planned yet has a reason")
        if len(entries) > 1:
            out.append(f"{key}: {len(entries)} reasons")

    for task in request.tasks:
        check(("task", task.id, None), task.estimate_minutes)
    for routine in request.routines:
        due_days = [d for d in days if routine.recurrence.occurs_on(d)] if routine.active else []
        if not due_days:
            if not reasons.get(("routine", routine.id, None)):
                out.append(f"routine {routine.id}: not due / inactive without a reason")
            continue
        for day in due_days:
            check(("routine", routine.id, day), routine.duration_minutes)
    return out
