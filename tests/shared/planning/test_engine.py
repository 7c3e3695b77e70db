"""plan_day on hand-written days: exact blocks, exact reasons, DST days, empty days, fallbacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.models import (
    Priority,
    Recurrence,
    Routine,
    Task,
    TaskStatus,
    UserConfig,
    WorkingHours,
)
from shared.planning import (
    Break,
    BusyBlock,
    PlanRequest,
    ReasonCode,
    SolverOptions,
    plan_day,
)
from tests.shared.planning.checker import accounting_errors, violations

ROOT = Path(__file__).resolve().parents[3]
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 30)
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]


def task(task_id: str, minutes: int = 60, priority: Priority = Priority.MEDIUM, **fields) -> Task:
    return Task(id=task_id, title=fields.pop("title", task_id.upper()), estimate_minutes=minutes, priority=priority,
                **fields)


def request(*tasks: Task, **fields) -> PlanRequest:
    fields.setdefault("day", MONDAY)
    fields.setdefault("timezone", "Europe/Paris")
    fields.setdefault("buffer_minutes", 0)
    fields.setdefault("focus_cap_minutes", 480)
    fields.setdefault("solver", SolverOptions(deterministic_time_limit=1.0))
    return PlanRequest(tasks=list(tasks), **fields)


def plan_of(req: PlanRequest):
    plan = plan_day(req)
    assert violations(req, plan) == []
    assert accounting_errors(req, plan) == []
    return plan


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def schedule(plan) -> list[tuple[str, str, str]]:
    return [(block.item_id, clock(block.start), clock(block.end)) for block in plan.blocks]


def reasons(plan) -> dict[str, ReasonCode]:
    return {entry.item_id: entry.reason for entry in plan.unscheduled}


def at(hour: int, minute: int = 0, day: date = MONDAY, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute)).replace(tzinfo=zone)


# --- ordering, buffers, breaks -------------------------------------------------------------------


def test_more_important_work_comes_first():
    plan = plan_of(request(task("low", priority=Priority.LOW), task("urgent", priority=Priority.URGENT),
                           task("medium")))
    assert schedule(plan) == [("urgent", "09:00", "10:00"), ("medium", "10:00", "11:00"), ("low", "11:00", "12:00")]
    assert plan.method == "cp-sat" and plan.proven_optimal
    assert all(block.start.tzinfo == PARIS for block in plan.blocks)


def test_buffer_around_busy_blocks_and_between_blocks():
    req = request(task("a", 50), task("b", 50), task("c", 50), buffer_minutes=10,
                  busy=[BusyBlock(start=at(10), end=at(11), title="Standup")],
                  working_hours=WorkingHours(start=time(9), end=time(13)))
    plan = plan_of(req)
    assert [(clock(b.start), clock(b.end)) for b in plan.blocks] == [("09:00", "09:50"), ("11:10", "12:00"),
                                                                     ("12:10", "13:00")]


def test_breaks_and_working_hours_bound_the_plan():
    req = request(*(task(f"t{i}", 90) for i in range(6)), breaks=[Break(start=time(12), end=time(13), title="Lunch")])
    plan = plan_of(req)
    assert len(plan.blocks) == 4  # 9-12 holds two, 13-17 holds two (4 h, 90-min blocks)
    assert all(not (b.start < at(13) and at(12) < b.end) for b in plan.blocks)
    assert {entry.reason for entry in plan.unscheduled} == {ReasonCode.LOWER_PRIORITY}


# --- daylight-saving days ----------------------------------------------------------------------


def test_paris_spring_forward_day_has_one_hour_less():
    day = date(2026, 3, 29)  # a Sunday: clocks jump from 02:00 to 03:00
    hours = WorkingHours(start=time(1), end=time(5), days=EVERY_DAY)
    fits = plan_of(request(task("fits", 180), day=day, working_hours=hours))
    block = fits.blocks[0]
    assert (block.start.isoformat(), block.end.isoformat()) == ("2026-03-29T01:00:00+01:00", "2026-03-29T05:00:00+02:00")
    # Subtracting datetimes that share a tzinfo gives wall-clock time (4 h here): compare in UTC.
    assert block.minutes == 180 == (block.end.astimezone(UTC) - block.start.astimezone(UTC)).seconds // 60
    too_long = plan_of(request(task("long", 200), day=day, working_hours=hours))
    assert reasons(too_long) == {"long": ReasonCode.TOO_LONG}
    assert "180 min" in too_long.unscheduled[0].message


def test_paris_fall_back_day_has_one_hour_more():
    day = date(2026, 10, 25)
    plan = plan_of(request(task("long", 240), day=day, working_hours=WorkingHours(start=time(1), end=time(4), days=EVERY_DAY)))
    block = plan.blocks[0]
    assert (block.start.isoformat(), block.end.isoformat()) == ("2026-10-25T01:00:00+02:00", "2026-10-25T04:00:00+01:00")
    assert block.minutes == 240


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1)])
def test_new_york_dst_days_plan_the_wall_clock_working_day(day):
    req = request(task("big", 600, splittable=True, min_chunk_minutes=60),
                  task("call", 30, scheduled_start=at(13, 0, day, NEW_YORK)),
                  day=day, timezone="America/New_York", focus_cap_minutes=600,
                  working_hours=WorkingHours(start=time(9), end=time(17), days=EVERY_DAY))
    plan = plan_of(req)
    assert schedule(plan) == [("big", "09:00", "13:00"), ("call", "13:00", "13:30"), ("big", "13:30", "17:00")]
    assert sum(b.minutes for b in plan.blocks if b.item_id == "big") == 450
    assert plan.unscheduled[0].minutes == 150 and plan.unscheduled[0].reason is ReasonCode.NO_FREE_TIME


# --- days without free time ----------------------------------------------------------------------


def test_fully_booked_day_gives_an_empty_plan_with_reasons():
    req = request(task("a"), task("b", status=TaskStatus.DONE),
                  busy=[BusyBlock(start=at(8), end=at(18), title="Offsite")])
    plan = plan_of(req)
    assert plan.blocks == [] and plan.method == "empty"
    assert reasons(plan) == {"a": ReasonCode.NO_FREE_TIME, "b": ReasonCode.DONE}


def test_day_off_has_no_free_time():
    plan = plan_of(request(task("a"), day=date(2026, 4, 4)))  # a Saturday, working Mon-Fri
    assert reasons(plan) == {"a": ReasonCode.NO_FREE_TIME}


# --- fixed-time tasks --------------------------------------------------------------------------


def test_fixed_time_tasks_keep_their_time_or_say_why_not():
    req = request(
        task("review", 60, scheduled_start=at(14)),
        task("clash", 30, scheduled_start=at(10, 30), title="Clash"),
        task("in_meeting", 30, scheduled_start=at(11, 15)),
        task("past", 30, scheduled_start=at(9, 30)),
        task("tomorrow", 30, scheduled_start=at(10, day=MONDAY + timedelta(days=1))),
        task("late", 30, scheduled_start=at(15), due=at(15, 15)),
        task("important", 45, Priority.URGENT, scheduled_start=at(10, 15), title="Important"),
        busy=[BusyBlock(start=at(11), end=at(12), title="Client call")],
        now=at(10),
    )
    plan = plan_of(req)
    assert ("review", "14:00", "15:00") in schedule(plan)
    assert ("important", "10:15", "11:00") in schedule(plan)
    assert reasons(plan) == {
        "clash": ReasonCode.FIXED_TIME_CONFLICT,
        "in_meeting": ReasonCode.FIXED_TIME_UNAVAILABLE,
        "past": ReasonCode.FIXED_TIME_PASSED,
        "tomorrow": ReasonCode.SCHEDULED_LATER,
        "late": ReasonCode.FIXED_TIME_AFTER_DEADLINE,
    }
    messages = {entry.item_id: entry.message for entry in plan.unscheduled}
    assert "'Important'" in messages["clash"]
    assert "'Client call'" in messages["in_meeting"]


# --- deadlines, urgency, carry-over ------------------------------------------------------------


def test_deadline_is_met_even_when_more_important_work_wants_the_morning():
    plan = plan_of(request(task("urgent", 60, Priority.URGENT), task("due", 60, due=at(10))))
    assert schedule(plan) == [("due", "09:00", "10:00"), ("urgent", "10:00", "11:00")]


def test_passed_and_unreachable_deadlines():
    req = request(task("yesterday", due=MONDAY - timedelta(days=1)),
                  task("early", 30, due=at(9, 30)),
                  busy=[BusyBlock(start=at(9), end=at(9, 30), title="Sync")])
    plan = plan_of(req)
    assert reasons(plan) == {"yesterday": ReasonCode.DEADLINE_PASSED, "early": ReasonCode.NO_TIME_BEFORE_DEADLINE}


def test_urgency_wins_the_last_slot():
    plan = plan_of(request(task("next_week", due=MONDAY + timedelta(days=7)), task("today", due=MONDAY),
                           focus_cap_minutes=60))
    assert [b.item_id for b in plan.blocks] == ["today"]
    assert reasons(plan) == {"next_week": ReasonCode.FOCUS_CAP}


def test_carried_over_work_wins_a_tie():
    req = request(task("fresh"), task("carried", carried_over_days=2),
                  working_hours=WorkingHours(start=time(9), end=time(10)))
    plan = plan_of(req)
    assert [b.item_id for b in plan.blocks] == ["carried"]
    entry = plan.unscheduled[0]
    assert (entry.item_id, entry.reason) == ("fresh", ReasonCode.LOWER_PRIORITY)
    assert "'CARRIED'" in entry.message


def test_better_fit_is_named_as_such():
    # One free hour: a high-priority 35-min task (16/min) or two 30-min tasks due tomorrow (12/min).
    req = request(task("high", 35, Priority.HIGH), task("b", 30, due=MONDAY + timedelta(days=1)),
                  task("c", 30, due=MONDAY + timedelta(days=1)),
                  working_hours=WorkingHours(start=time(9), end=time(10)))
    plan = plan_of(req)
    assert sorted(b.item_id for b in plan.blocks) == ["b", "c"]
    assert reasons(plan) == {"high": ReasonCode.BETTER_FIT}
    assert "'B'" in plan.unscheduled[0].message and "'C'" in plan.unscheduled[0].message


# --- focus cap, splitting ----------------------------------------------------------------------


def test_focus_cap_limits_task_minutes_but_not_routines():
    req = request(task("a"), task("b"), task("c"), focus_cap_minutes=120,
                  routines=[Routine(id="standup", title="Standup", window_start=time(9), window_end=time(9, 30),
                                    duration_minutes=15)])
    plan = plan_of(req)
    assert plan.focus_minutes == {MONDAY: 120}
    assert schedule(plan)[0] == ("standup", "09:00", "09:15")
    assert list(reasons(plan).values()) == [ReasonCode.FOCUS_CAP]


def test_splittable_task_is_split_only_when_it_must():
    meeting = [BusyBlock(start=at(11), end=at(12), title="Meeting")]
    whole = plan_of(request(task("essay", 240, splittable=True, min_chunk_minutes=30), busy=meeting))
    assert schedule(whole) == [("essay", "12:00", "16:00")]  # one uninterrupted block beats two chunks
    split = plan_of(request(task("essay", 420, splittable=True, min_chunk_minutes=30), busy=meeting))
    assert schedule(split) == [("essay", "09:00", "11:00"), ("essay", "12:00", "17:00")]
    assert [(b.chunk, b.chunks) for b in split.blocks] == [(1, 2), (2, 2)]


def test_part_of_a_splittable_task_beyond_the_cap_is_explained():
    plan = plan_of(request(task("thesis", 600, splittable=True), task("block", 600), focus_cap_minutes=330))
    assert sum(b.minutes for b in plan.blocks) == 330
    entry = {e.item_id: e for e in plan.unscheduled}
    assert (entry["thesis"].reason, entry["thesis"].minutes) == (ReasonCode.FOCUS_CAP, 270)
    assert entry["thesis"].message.startswith("330 of 600 min planned")
    assert entry["block"].reason is ReasonCode.TOO_LONG


# --- routines ----------------------------------------------------------------------------------


def test_routines_in_their_windows_or_explained():
    routines = [
        Routine(id="standup", title="Standup", window_start=time(9, 30), window_end=time(10), duration_minutes=15),
        Routine(id="friday", title="Review", recurrence=Recurrence(kind="weekly", days=[5])),
        Routine(id="off", title="Old habit", active=False),
        Routine(id="gym", title="Gym", window_start=time(6), window_end=time(8), duration_minutes=45),
        Routine(id="mail", title="Mail", window_start=time(11), window_end=time(12)),
    ]
    req = request(task("deep", 120, Priority.HIGH), routines=routines,
                  busy=[BusyBlock(start=at(11), end=at(12), title="1:1")])
    plan = plan_of(req)
    assert ("standup", "09:30", "09:45") in schedule(plan)
    assert reasons(plan) == {
        "friday": ReasonCode.NOT_DUE,
        "off": ReasonCode.INACTIVE,
        "gym": ReasonCode.OUTSIDE_WORKING_HOURS,
        "mail": ReasonCode.NO_FREE_TIME,
    }
    assert all(e.day == MONDAY for e in plan.unscheduled if e.item_id in ("gym", "mail"))


def test_multi_day_horizon_plans_later_days_for_later_deadlines():
    req = request(task("today", 240, Priority.HIGH), task("later", 240, due=MONDAY + timedelta(days=1)),
                  focus_cap_minutes=300, horizon_days=2)
    plan = plan_of(req)
    assert {(b.item_id, b.day) for b in plan.blocks} == {("today", MONDAY), ("later", MONDAY + timedelta(days=1))}
    assert plan.focus_minutes == {MONDAY: 240, MONDAY + timedelta(days=1): 240}


# --- solver fallbacks, determinism, scale ------------------------------------------------------


def test_solver_out_of_budget_falls_back_to_greedy():
    req = request(*(task(f"t{i}", 30 + 15 * (i % 4), Priority(1 + i % 4)) for i in range(30)),
                  solver=SolverOptions(deterministic_time_limit=1e-6))
    plan = plan_of(req)
    assert plan.method == "greedy" and not plan.proven_optimal
    assert plan.objective == plan_day(req.model_copy(update={"solver": SolverOptions(use_solver=False)})).objective


def _plan_in_subprocess(req: PlanRequest, *, hide_ortools: bool, hash_seed: str) -> dict:
    script = (
        "import json, sys\n"
        + ("sys.modules['ortools'] = None\n" if hide_ortools else "")
        + "from shared.planning import PlanRequest, plan_day\n"
        "req = PlanRequest.model_validate_json(sys.stdin.read())\n"
        "print(plan_day(req).model_dump_json())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=hash_seed)
    out = subprocess.run([sys.executable, "-c", script], input=req.model_dump_json(), capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120, check=True)
    return json.loads(out.stdout)


def test_without_ortools_the_engine_plans_greedily():
    req = request(task("a", 90, Priority.HIGH), task("b", 60), task("c", 300))
    plan = _plan_in_subprocess(req, hide_ortools=True, hash_seed="0")
    assert plan["method"] == "greedy"
    assert [(b["item_id"], b["start"][11:16]) for b in plan["blocks"]] == [("a", "09:00"), ("b", "10:30"),
                                                                            ("c", "11:30")]


def test_same_input_same_plan_across_processes():
    from bench.planning import generate

    req = generate(21, 60).model_copy(update={"solver": SolverOptions(deterministic_time_limit=0.5)})
    first = _plan_in_subprocess(req, hide_ortools=False, hash_seed="1")
    second = _plan_in_subprocess(req, hide_ortools=False, hash_seed="2")
    assert first == second
    assert first == json.loads(plan_day(req).model_dump_json())


def test_two_hundred_task_day_is_valid():
    from bench.planning import generate

    req = generate(40, 200)
    plan = plan_of(req)
    assert len(req.tasks) == 200 and plan.blocks
    assert plan.method == "cp-sat"


def test_from_config_takes_the_users_settings():
    config = UserConfig(timezone="America/New_York", buffer_minutes=15, focus_cap_minutes=90,
                        working_hours=WorkingHours(start=time(8), end=time(12)))
    req = PlanRequest.from_config(config, day=MONDAY, tasks=[task("a"), task("b")])
    assert (req.timezone, req.buffer_minutes, req.focus_cap_minutes) == ("America/New_York", 15, 90)
    plan = plan_of(req)
    assert schedule(plan) == [("a", "08:00", "09:00")]
    assert reasons(plan) == {"b": ReasonCode.FOCUS_CAP}
