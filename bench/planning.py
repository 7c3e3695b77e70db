"""Planning engine quality and speed against a proven optimum.

A fixed set of generated days (``INSTANCES``: seeds and task counts from 5 to 200, several
timezones including daylight-saving days, busy blocks, breaks, routines, deadlines, fixed-time
and splittable tasks, some multi-day horizons). For each one:

* the engine (``plan_day`` with its default deterministic solver budget) and its time;
* the greedy-only engine (the baseline measured in the same run) and its time;
* the proven optimum of the same objective: CP-SAT on the same model with no limit, run until
  it reports OPTIMAL (several workers: this is the referee, it need not be deterministic).

It prints per instance: tasks, engine objective, optimum, ratio engine ÷ optimum, engine time,
greedy ratio and time; then the minimum ratio, median times and the 200-task planning time.

Run: ``.venv/bin/python -m bench.planning`` (``--quick`` for a 10-instance subset).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as wall
from zoneinfo import ZoneInfo

from bench._runner import Measurement, report
from shared.models import Priority, Recurrence, Routine, Task, TaskStatus, WorkingHours
from shared.planning import PlanRequest, SolverOptions, plan_day
from shared.planning.model import Break, BusyBlock
from shared.planning.problem import build
from shared.planning.solver import solve as exact_solve

ZONES = ("Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney", "Asia/Kolkata")
DST_DAYS = ((date(2026, 3, 29), "Europe/Paris"), (date(2026, 10, 25), "Europe/Paris"),
            (date(2026, 3, 8), "America/New_York"), (date(2026, 11, 1), "America/New_York"),
            (date(2026, 4, 5), "Australia/Sydney"))
SIZES = (5, 5, 8, 10, 10, 12, 15, 15, 20, 20, 25, 25, 30, 30, 35, 40, 40, 45, 50, 50, 60, 60, 70, 75, 80,
         90, 100, 100, 110, 120, 120, 130, 140, 150, 150, 160, 170, 180, 190, 200, 200, 200, 8, 12, 30, 60,
         100, 150, 200, 5)
INSTANCES = tuple((seed, size) for seed, size in enumerate(SIZES, start=1))
ESTIMATES = (10, 15, 20, 25, 30, 30, 45, 45, 60, 60, 90, 120, 150, 180, 240)


def generate(seed: int, n_tasks: int) -> PlanRequest:
    """A reproducible, realistic day with ``n_tasks`` tasks."""
    rng = random.Random(seed)
    if seed % 5 == 0:  # a daylight-saving day, in a zone where it is one
        day, zone_name = DST_DAYS[(seed // 5) % len(DST_DAYS)]
    else:
        day, zone_name = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 300)), ZONES[seed % len(ZONES)]
    zone = ZoneInfo(zone_name)
    horizon = 3 if seed % 7 == 0 else 1
    start_hour = rng.choice((8, 9, 9, 10))
    # One instance in 25 falls on a day off: nothing can be planned, every task needs its reason.
    days = [d for d in range(1, 8) if d != day.isoweekday()] if seed % 25 == 24 else list(range(1, 8))
    hours = WorkingHours(start=wall(start_hour, 0), end=wall(start_hour + rng.choice((8, 8, 9, 10)), 0), days=days)

    def at(day_offset: int, hour: int, minute: int) -> datetime:
        return datetime.combine(day + timedelta(days=day_offset), wall(hour, minute)).replace(tzinfo=zone)

    busy = []
    for offset in range(horizon):
        for _ in range(rng.randrange(0, 5)):
            start = at(offset, rng.randrange(start_hour, start_hour + 8), rng.choice((0, 15, 30, 45)))
            busy.append(BusyBlock(start=start, end=start + timedelta(minutes=rng.choice((15, 30, 45, 60, 90))),
                                  title=f"Meeting {len(busy) + 1}"))
    breaks = [Break(start=wall(12, 30), end=wall(13, 15), title="Lunch")] if rng.random() < 0.7 else []
    routines = []
    for index in range(rng.randrange(0, 5)):
        lo = rng.randrange(start_hour, start_hour + 6)
        routines.append(Routine(
            id=f"r{index}", title=f"Routine {index}",
            recurrence=rng.choice((Recurrence(kind="daily"), Recurrence(kind="weekdays"),
                                   Recurrence(kind="weekly", days=rng.sample(range(1, 8), 3)))),
            window_start=wall(lo, 0), window_end=wall(min(lo + rng.choice((1, 2, 3)), 23), 0),
            duration_minutes=rng.choice((15, 20, 30, 45)), priority=Priority(rng.randrange(1, 5)),
        ))
    tasks = []
    for index in range(n_tasks):
        roll = rng.random()
        due = None
        if roll < 0.15:
            due = at(0, rng.randrange(start_hour + 1, start_hour + 9), 0)
        elif roll < 0.3:
            due = day + timedelta(days=rng.randrange(0, 4))
        elif roll < 0.4:
            due = day + timedelta(days=rng.randrange(4, 20))
        elif roll < 0.42:
            due = day - timedelta(days=1)
        estimate = rng.choice(ESTIMATES)
        splittable = estimate >= 45 and rng.random() < 0.4
        scheduled = None
        if rng.random() < 0.05:
            scheduled = at(rng.randrange(0, horizon), rng.randrange(start_hour, start_hour + 8), rng.choice((0, 30)))
        status = rng.choices(list(TaskStatus), weights=(70, 15, 5, 7, 3))[0]
        tasks.append(Task(
            id=f"t{index}", title=f"Task {index}", status=status, priority=Priority(rng.randrange(1, 5)),
            due=due, scheduled_start=scheduled, estimate_minutes=estimate, splittable=splittable,
            min_chunk_minutes=rng.choice((15, 30, 30, 45)), carried_over_days=rng.choice((0, 0, 0, 1, 2, 5)),
        ))
    # Some days are planned mid-morning: nothing may start before "now".
    now = at(0, start_hour + 2, 17) if seed % 4 == 3 else None
    return PlanRequest(
        day=day, now=now, timezone=zone_name, tasks=tasks, routines=routines, working_hours=hours, breaks=breaks,
        busy=busy, buffer_minutes=rng.choice((0, 5, 5, 10)), focus_cap_minutes=rng.choice((300, 330, 360, 420)),
        horizon_days=horizon,
    )


def optimum(request: PlanRequest, workers: int) -> tuple[int, float]:
    """The proven optimum of the engine's objective, and how long proving it took."""
    problem = build(request)
    started = time.perf_counter()
    result = exact_solve(problem, workers=workers)
    elapsed = time.perf_counter() - started
    if not result.optimal:  # pragma: no cover - without limits CP-SAT always proves or refutes
        raise RuntimeError(f"the referee did not prove optimality ({result.status})")
    assert result.objective == problem.value(result.placements)
    return result.objective, elapsed


def run(instances=INSTANCES, workers: int = 2) -> dict:
    engine_times = Measurement("engine (cp-sat, deterministic budget)")
    greedy_times = Measurement("greedy-only engine (baseline)")
    rows = []
    print(f"{'seed':>4} {'tasks':>5} {'engine':>14} {'optimum':>14} {'ratio':>7} {'time s':>7} "
          f"{'greedy':>7} {'g time':>7} {'proof s':>8} {'method':>7}")
    for seed, size in instances:
        request = generate(seed, size)
        greedy_request = request.model_copy(update={"solver": SolverOptions(use_solver=False)})
        started = time.perf_counter()
        plan = plan_day(request)
        engine_time = time.perf_counter() - started
        started = time.perf_counter()
        greedy_plan = plan_day(greedy_request)
        greedy_time = time.perf_counter() - started
        best, proof_time = optimum(request, workers)
        ratio = plan.objective / best if best else 1.0
        greedy_ratio = greedy_plan.objective / best if best else 1.0
        engine_times.samples.append(engine_time)
        greedy_times.samples.append(greedy_time)
        rows.append({"seed": seed, "tasks": size, "ratio": ratio, "greedy_ratio": greedy_ratio,
                     "time": engine_time, "greedy_time": greedy_time, "optimal": plan.objective == best,
                     "greedy_optimal": greedy_plan.objective == best, "proof": proof_time})
        print(f"{seed:>4} {size:>5} {plan.objective:>14} {best:>14} {ratio:>7.4f} {engine_time:>7.2f} "
              f"{greedy_ratio:>7.4f} {greedy_time:>7.3f} {proof_time:>8.2f} {plan.method:>7}", flush=True)
    report("Planning time per instance", greedy_times, [engine_times], unit="s")
    largest_size = max(r["tasks"] for r in rows)
    largest = [row["time"] for row in rows if row["tasks"] == largest_size]
    largest_greedy = [row["greedy_time"] for row in rows if row["tasks"] == largest_size]
    summary = {
        "instances": len(rows),
        "min_ratio": min(row["ratio"] for row in rows),
        "mean_ratio": statistics.fmean(row["ratio"] for row in rows),
        "min_greedy_ratio": min(row["greedy_ratio"] for row in rows),
        "median_time": statistics.median(row["time"] for row in rows),
        "median_greedy_time": statistics.median(row["greedy_time"] for row in rows),
        "max_time": max(row["time"] for row in rows),
        "max_greedy_time": max(row["greedy_time"] for row in rows),
        "mean_greedy_ratio": statistics.fmean(row["greedy_ratio"] for row in rows),
        "at_optimum": sum(row["optimal"] for row in rows),
        "greedy_at_optimum": sum(row["greedy_optimal"] for row in rows),
        "largest_tasks": largest_size,
        "largest_count": len(largest),
        "largest_times": (min(largest), max(largest)),
        "largest_greedy_times": (min(largest_greedy), max(largest_greedy)),
        "proof_times": (min(row["proof"] for row in rows), max(row["proof"] for row in rows)),
    }
    print(f"\ninstances {summary['instances']}: min ratio {summary['min_ratio']:.4f} "
          f"(mean {summary['mean_ratio']:.4f}, {summary['at_optimum']} at the optimum); greedy-only min ratio "
          f"{summary['min_greedy_ratio']:.4f} (mean {summary['mean_greedy_ratio']:.4f}, "
          f"{summary['greedy_at_optimum']} at the optimum)")
    print(f"median planning time {summary['median_time']:.2f} s (greedy-only {summary['median_greedy_time']:.3f} s); "
          f"max {summary['max_time']:.2f} s (greedy-only {summary['max_greedy_time']:.3f} s)")
    low, high = summary["largest_times"]
    g_low, g_high = summary["largest_greedy_times"]
    print(f"{summary['largest_tasks']}-task days ({summary['largest_count']}): {low:.2f}-{high:.2f} s "
          f"(greedy-only {g_low:.3f}-{g_high:.3f} s); proving the optima took "
          f"{summary['proof_times'][0]:.2f}-{summary['proof_times'][1]:.2f} s")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 instances instead of all")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers for the referee optimum")
    args = parser.parse_args(argv)
    instances = INSTANCES[::5] if args.quick else INSTANCES
    run(instances, workers=args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
