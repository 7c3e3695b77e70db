"""When a tenant's daily plan is due: its local planning time on a local date, as a UTC instant.

A tenant plans each local day at ``UserConfig.planning_time`` in ``UserConfig.timezone``. Wall
times are turned into instants with :mod:`zoneinfo` and PEP 495's ``fold=0``, which settles the two
days a year when the wall clock jumps, deliberately:

* **spring forward** (the time does not exist that day, e.g. 02:30 on 2026-03-29 in Europe/Paris):
  it is read with the offset in force *before* the gap, i.e. the plan comes at the same elapsed
  time after midnight: 02:30 CET = 03:30 CEST. The day is still planned, once;
* **fall back** (the time happens twice, e.g. 02:30 on 2026-10-25 in Europe/Paris): the *first*
  occurrence (02:30 CEST) is the planning time. The second 02:30 plans nothing: the day's task name
  is already used (see :mod:`shared.agent.dispatch`).

Every other day the instant is simply the wall time in the zone's current offset.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from shared.models import UserConfig

# A daily plan whose planning time passed longer ago than this is not made any more (the
# dispatcher was down, say): planning a day that is mostly over is noise. The next day is.
MAX_LATENESS = timedelta(hours=12)


def occurrence(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall time ``at`` on local date ``day`` in ``zone`` (fold=0, see above)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    return local.astimezone(timezone.utc)


def planning_instant(config: UserConfig, day: date) -> datetime:
    """When the plan of local ``day`` is due for a tenant configured with ``config``."""
    return occurrence(day, config.planning_time, config.zone)


def local_today(config: UserConfig, now: datetime) -> date:
    """The tenant's local date at instant ``now``."""
    return now.astimezone(config.zone).date()


def due_day(config: UserConfig, now: datetime) -> date | None:
    """The local day whose plan is due at ``now``: the latest day whose planning instant is at or
    before ``now``, provided it is less than :data:`MAX_LATENESS` old; otherwise ``None``."""
    today = local_today(config, now)
    for day in (today, today - timedelta(days=1)):
        instant = planning_instant(config, day)
        if instant <= now:
            return day if now - instant <= MAX_LATENESS else None
    return None


def next_planning_instant(config: UserConfig, *, after: datetime) -> datetime:
    """The first planning instant strictly after ``after``."""
    day = local_today(config, after) - timedelta(days=1)
    while True:
        instant = planning_instant(config, day)
        if instant > after:
            return instant
        day += timedelta(days=1)


def first_planning_instant(config: UserConfig, *, now: datetime) -> datetime:
    """Where a newly scheduled tenant starts: ``now`` if today's planning time has passed but
    today's working hours have not ended (a user who connects at 10:00 gets today's plan at once),
    otherwise the next planning instant."""
    today = local_today(config, now)
    hours = config.working_hours
    if planning_instant(config, today) <= now and today.isoweekday() in hours.days:
        if now < occurrence(today, hours.end, config.zone):
            return now
    return next_planning_instant(config, after=now)
