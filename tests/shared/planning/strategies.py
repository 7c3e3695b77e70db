"""Hypothesis strategies: random but realistic days, daylight-saving days and odd zones included."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from shared.models import Priority, Recurrence, Routine, Task, TaskStatus, WorkingHours
from shared.planning import Break, BusyBlock, PlanRequest, SolverOptions

_STATUSES = [TaskStatus.TODO] * 6 + [TaskStatus.IN_PROGRESS] * 2 + [TaskStatus.BLOCKED, TaskStatus.DONE,
                                                                  TaskStatus.CANCELLED]
ZONES = ("Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham")
DST_DAYS = (date(2026, 3, 29), date(2026, 10, 25), date(2026, 3, 8), date(2026, 11, 1), date(2026, 4, 5),
            date(2026, 10, 4))


def _wall(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def local_times(draw, lo: int = 0, hi: int = 23 * 60 + 55) -> int:
    return draw(st.integers(lo // 5, hi // 5)) * 5


@st.composite
def plan_requests(draw, *, use_solver: bool = False, max_tasks: int = 10) -> PlanRequest:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    day = draw(st.one_of(st.sampled_from(DST_DAYS), st.dates(date(2026, 1, 1), date(2026, 12, 31))))
    horizon = draw(st.integers(1, 2))
    start = draw(local_times(0, 14 * 60))
    end = draw(local_times(start + 30, min(start + 12 * 60, 23 * 60 + 55)))
    off_day = draw(st.booleans()) and draw(st.booleans())  # about one day in four is a day off
    days = [d for d in range(1, 8) if not (off_day and d == day.isoweekday())] or [day.isoweekday() % 7 + 1]
    hours = WorkingHours(start=_wall(start), end=_wall(end), days=days)

    def at(offset_days: int, minutes: int) -> datetime:
        return datetime.combine(day + timedelta(days=offset_days), _wall(minutes)).replace(tzinfo=zone)

    breaks = []
    for _ in range(draw(st.integers(0, 2))):
        b_start = draw(local_times(start, end))
        breaks.append(Break(start=_wall(b_start), end=_wall(min(b_start + draw(st.sampled_from((15, 30, 60))), 23 * 60 + 59)),
                            title="Break"))
    busy = []
    for index in range(draw(st.integers(0, 4))):
        b_start = at(draw(st.integers(0, horizon - 1)), draw(local_times(max(0, start - 60), end)))
        busy.append(BusyBlock(start=b_start, end=b_start + timedelta(minutes=draw(st.sampled_from((5, 15, 30, 60, 120)))),
                              title=f"Meeting {index}"))
    tasks = []
    for index in range(draw(st.integers(0, max_tasks))):
        due_kind = draw(st.sampled_from(("none", "none", "date", "aware", "naive")))
        due = None
        if due_kind == "date":
            due = day + timedelta(days=draw(st.integers(-1, 3)))
        elif due_kind in ("aware", "naive"):
            moment = at(draw(st.integers(-1, horizon)), draw(local_times(0, 23 * 60 + 55)))
            due = moment if due_kind == "aware" else moment.replace(tzinfo=None)
        scheduled = None
        if draw(st.integers(0, 5)) == 0:
            scheduled = at(draw(st.integers(0, horizon)), draw(local_times(max(0, start - 60), end)))
        estimate = draw(st.sampled_from((5, 10, 15, 25, 30, 45, 60, 90, 120, 180, 240)))
        tasks.append(Task(
            id=f"t{index}", title=f"Task {index}",
            status=draw(st.sampled_from(_STATUSES)),
            priority=draw(st.sampled_from(list(Priority))),
            due=due, scheduled_start=scheduled, estimate_minutes=estimate,
            splittable=draw(st.booleans()), min_chunk_minutes=draw(st.sampled_from((5, 15, 30, 45, 60))),
            carried_over_days=draw(st.integers(0, 5)),
        ))
    routines = []
    for index in range(draw(st.integers(0, 3))):
        lo = draw(local_times(max(0, start - 60), min(end, 22 * 60)))
        hi = draw(local_times(lo + 15, min(lo + 6 * 60, 23 * 60 + 55)))
        recurrence = draw(st.sampled_from((Recurrence(kind="daily"), Recurrence(kind="weekdays"),
                                           Recurrence(kind="weekly", days=[day.isoweekday()]),
                                           Recurrence(kind="weekly", days=[day.isoweekday() % 7 + 1]))))
        routines.append(Routine(
            id=f"r{index}", title=f"Routine {index}", recurrence=recurrence, window_start=_wall(lo),
            window_end=_wall(hi), duration_minutes=draw(st.sampled_from((10, 15, 30, 45))),
            priority=draw(st.sampled_from(list(Priority))), active=draw(st.integers(0, 6)) > 0,
        ))
    now = None
    if draw(st.integers(0, 3)) == 0:
        now = at(0, draw(local_times(max(0, start - 60), end)))
    return PlanRequest(
        day=day, timezone=zone_name, now=now, tasks=tasks, routines=routines, working_hours=hours,
        breaks=breaks, busy=busy, buffer_minutes=draw(st.sampled_from((0, 5, 10, 15))),
        focus_cap_minutes=draw(st.sampled_from((0, 60, 240, 330, 600))), horizon_days=horizon,
        granularity_minutes=draw(st.sampled_from((1, 5, 15))),
        solver=SolverOptions(use_solver=use_solver, deterministic_time_limit=0.2),
    )
