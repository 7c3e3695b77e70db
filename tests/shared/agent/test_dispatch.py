"""The planning dispatcher on the document store (SQLite and the Firestore emulator) and the local
task queue: tenants across timezones and DST changes, ticks on an injected clock, concurrent and
repeated ticks — each tenant gets exactly one planning task per local day."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone

import pytest

from shared.agent.dispatch import NEXT_PLAN_AT, dispatch_planning, schedule_next_plan
from shared.agent.planning_time import planning_instant
from shared.agent.queueing import daily_task_name
from shared.connections.tenants import TenantRepository
from shared.models import UserConfig, WorkingHours
from shared.taskqueue.local import SqliteTaskQueue

UTC = timezone.utc
EVERY_DAY = WorkingHours(start=time(9), end=time(17), days=[1, 2, 3, 4, 5, 6, 7])

TENANTS = {
    "paris-early": ("Europe/Paris", time(2, 30)),  # in the spring gap and the autumn fold
    "paris-morning": ("Europe/Paris", time(7, 30)),
    "newyork": ("America/New_York", time(7, 0)),
    "kolkata": ("Asia/Kolkata", time(6, 45)),
    "auckland": ("Pacific/Auckland", time(8, 15)),
}


@pytest.fixture
def queue(tmp_path):
    return SqliteTaskQueue(tmp_path / "tasks.sqlite3")


def add_tenant(store, tenant_id: str, tz: str, at: time, *, now: datetime, status: str = "connected",
               hours: WorkingHours = EVERY_DAY) -> UserConfig:
    config = UserConfig(timezone=tz, planning_time=at, working_hours=hours)
    store.set("", {"workspace_id": tenant_id, "connection_status": status}, tenant_id=tenant_id)
    TenantRepository(store).save_config(config, tenant_id=tenant_id)
    schedule_next_plan(store, tenant_id=tenant_id, config=config, now=now)
    return config


def planned_days(queue: SqliteTaskQueue) -> Counter:
    return Counter((task.tenant_id, task.payload["date"]) for task in queue.all_tasks())


def run_ticks(store, queue, start: datetime, end: datetime, *, every: timedelta = timedelta(minutes=5)):
    """Tick like Cloud Scheduler; return when each (tenant, day) was first enqueued."""
    first_seen: dict[tuple[str, str], datetime] = {}
    moment = start
    while moment <= end:
        if dispatch_planning(store, queue, now=moment).enqueued:
            for key in planned_days(queue):
                first_seen.setdefault(key, moment)
        moment += every
    return first_seen


@pytest.mark.parametrize(
    ("start", "end", "tz_days"),
    [
        # Spring: Europe/Paris changes on 29 March 2026 (New York already did on 8 March).
        (datetime(2026, 3, 28, 6, 0, tzinfo=UTC), datetime(2026, 3, 30, 12, 0, tzinfo=UTC), None),
        # Autumn: Europe/Paris falls back on 25 October 2026; Auckland is in its summer time.
        (datetime(2026, 10, 24, 6, 0, tzinfo=UTC), datetime(2026, 10, 26, 12, 0, tzinfo=UTC), None),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_each_tenant_is_planned_once_per_local_day_at_its_local_time(store, queue, start, end, tz_days):
    configs = {tenant: add_tenant(store, tenant, tz, at, now=start - timedelta(days=1))
               for tenant, (tz, at) in TENANTS.items()}
    first_seen = run_ticks(store, queue, start, end)

    counts = planned_days(queue)
    assert counts and set(counts.values()) == {1}, "a (tenant, day) was enqueued twice"
    by_tenant = defaultdict(list)
    for (tenant, day), moment in first_seen.items():
        by_tenant[tenant].append(date.fromisoformat(day))
        due = planning_instant(configs[tenant], date.fromisoformat(day))
        # Enqueued by the first tick at or after the local planning time (or the very first tick,
        # for a day whose time had already come when the ticks started).
        assert max(due, start) <= moment < max(due, start) + timedelta(minutes=5), (tenant, day)
    for tenant, days in by_tenant.items():
        days.sort()
        assert days == [days[0] + timedelta(days=i) for i in range(len(days))], f"{tenant} skipped a day"
        # Each tenant planned every local day whose planning time fell inside the window.
        expected = {d for d in (start.date() + timedelta(days=i) for i in range(-1, 6))
                    if start - timedelta(hours=12) <= planning_instant(configs[tenant], d) <= end}
        assert set(days) == expected, tenant


def test_dst_days_are_planned_at_the_documented_instants(store, queue):
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    add_tenant(store, "paris-early", "Europe/Paris", time(2, 30), now=start)
    first_seen = run_ticks(store, queue, start, datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    # 02:30 does not exist that night: read as 02:30 CET = 03:30 CEST = 01:30 UTC, planned once.
    assert first_seen == {("paris-early", "2026-03-29"): datetime(2026, 3, 29, 1, 30, tzinfo=UTC)}

    autumn_start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    add_tenant(store, "paris-fold", "Europe/Paris", time(2, 30), now=autumn_start)
    first_seen = run_ticks(store, queue, autumn_start, datetime(2026, 10, 25, 3, 0, tzinfo=UTC))
    # The first 02:30 (CEST, 00:30 UTC) plans the day; the second 02:30 (CET, 01:30 UTC) does not.
    assert first_seen[("paris-fold", "2026-10-25")] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert planned_days(queue)[("paris-fold", "2026-10-25")] == 1


def test_two_dispatchers_at_once_enqueue_each_tenant_once(store_factory, queue):
    store = store_factory()
    now = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    tenants = [f"tenant-{n:02d}" for n in range(6)]
    for tenant in tenants:
        add_tenant(store, tenant, "Europe/Paris", time(7, 30), now=now - timedelta(days=1))
    barrier = threading.Barrier(2)
    reports = []

    def tick():
        own_store = store_factory()  # each "instance" has its own connection
        barrier.wait()
        reports.append(dispatch_planning(own_store, queue, now=now))

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert planned_days(queue) == Counter({(t, "2026-03-30"): 1 for t in tenants})
    assert sum(r.enqueued for r in reports) == len(tenants)
    assert sum(r.advanced for r in reports) == len(tenants)  # each advanced once, by one of them
    tomorrow = datetime(2026, 3, 31, 5, 30, tzinfo=UTC)
    assert all(store.get("", tenant_id=t)[NEXT_PLAN_AT] == tomorrow for t in tenants)


def test_a_repeated_tick_and_a_lost_advance_enqueue_nothing_new(store, queue):
    now = datetime(2026, 3, 30, 5, 35, tzinfo=UTC)
    add_tenant(store, "paris-morning", "Europe/Paris", time(7, 30), now=now - timedelta(days=1))
    first = dispatch_planning(store, queue, now=now)
    again = dispatch_planning(store, queue, now=now)  # the scheduler redelivers the same tick
    assert (first.enqueued, again.due, again.enqueued) == (1, 0, 0)

    # A dispatcher died after enqueuing and before advancing: the field is still due next tick.
    store.set("", {NEXT_PLAN_AT: datetime(2026, 3, 30, 5, 30, tzinfo=UTC)}, tenant_id="paris-morning", merge=True)
    later = dispatch_planning(store, queue, now=now + timedelta(minutes=5))
    assert (later.due, later.enqueued, later.already_enqueued, later.advanced) == (1, 0, 1, 1)
    [task] = queue.all_tasks()
    assert task.task_id == daily_task_name(tenant_id="paris-morning", day=date(2026, 3, 30))
    assert task.payload == {"date": "2026-03-30", "mode": "daily", "reason": "daily plan"}
    assert (task.function, task.path, task.queue) == ("agent", "/tasks/plan", "planning")


def test_disconnected_late_and_days_off_are_skipped_but_advanced(store, queue):
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # a Saturday
    before = now - timedelta(days=2)
    add_tenant(store, "gone", "Europe/Paris", time(7, 30), now=before, status="needs_reauth")
    add_tenant(store, "weekday-only", "Europe/Paris", time(7, 30), now=before,
               hours=WorkingHours(start=time(9), end=time(17)))
    add_tenant(store, "stale", "Asia/Kolkata", time(6, 0), now=before)
    store.set("", {NEXT_PLAN_AT: now - timedelta(days=1, hours=13)}, tenant_id="stale", merge=True)
    # "stale" is due since yesterday's morning; at 17:30 local its today's time passed 11.5 h ago.
    report = dispatch_planning(store, queue, now=now)
    assert report.due == 3 and report.advanced == 3
    assert report.skipped == Counter({"not_connected": 1, "day_off": 1}) and report.enqueued == 1
    assert [t.tenant_id for t in queue.all_tasks()] == ["stale"]
    for tenant in ("gone", "weekday-only", "stale"):
        assert store.get("", tenant_id=tenant)[NEXT_PLAN_AT] > now


def test_a_dispatch_long_after_the_time_skips_the_stale_day(store, queue):
    now = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)  # 00:00 CEST: the 07:30 plan is 16.5 h old
    add_tenant(store, "paris-morning", "Europe/Paris", time(7, 30), now=now - timedelta(days=2))
    store.set("", {NEXT_PLAN_AT: datetime(2026, 3, 30, 5, 30, tzinfo=UTC)}, tenant_id="paris-morning", merge=True)
    report = dispatch_planning(store, queue, now=now)
    assert report.skipped == Counter({"late": 1}) and queue.all_tasks() == []
    assert store.get("", tenant_id="paris-morning")[NEXT_PLAN_AT] == datetime(2026, 3, 31, 5, 30, tzinfo=UTC)


def test_batches_reach_every_due_tenant(store, queue):
    now = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    for n in range(7):
        add_tenant(store, f"tenant-{n}", "Europe/Paris", time(7, 30), now=now - timedelta(days=1))
    report = dispatch_planning(store, queue, now=now, batch=3)
    assert report.enqueued == 7 and len(queue.all_tasks()) == 7


def test_schedule_next_plan_sets_once_and_reschedules_on_request(store):
    now = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 in Paris
    config = UserConfig(timezone="Europe/Paris", planning_time=time(7, 30))
    assert schedule_next_plan(store, tenant_id="new-tenant", config=config, now=now) == now  # plan today now
    assert schedule_next_plan(store, tenant_id="new-tenant", config=config, now=now) is None
    evening = UserConfig(timezone="Europe/Paris", planning_time=time(20, 0))
    assert schedule_next_plan(store, tenant_id="new-tenant", config=evening, now=now, reschedule=True) == datetime(
        2026, 3, 30, 18, 0, tzinfo=UTC)
    assert store.get("", tenant_id="new-tenant")[NEXT_PLAN_AT] == datetime(2026, 3, 30, 18, 0, tzinfo=UTC)
