"""Planning tasks on the queue: what they look like and how they are named.

Every planning run is a Cloud Task ``POST /tasks/plan`` on the ``agent`` function, on the
``planning`` queue, with the body ``{"date": "YYYY-MM-DD", "mode": "daily" | "replan",
"reason": "..."}`` and the tenant in the ``X-Planner-Tenant-Id`` header. Names make enqueuing
idempotent: ``plan-{tenant}-{hash("daily-{date}")}`` for a day's scheduled plan (a second enqueue
of the same day, by a second dispatcher or a redelivered scheduler call, is refused by the queue)
and ``hash("replan-{date}-{HHMM}")`` for the replans of one short window (a burst of edits is one
replan).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from shared.taskqueue.base import TaskQueue, TaskRequest, task_name_for
from shared.taskqueue.errors import TaskAlreadyExists

logger = logging.getLogger(__name__)

PLANNING_QUEUE = "planning"
AGENT_FUNCTION = "agent"
PLAN_PATH = "/tasks/plan"


def daily_task_name(*, tenant_id: str, day: date) -> str:
    return task_name_for("plan", tenant_id=tenant_id, key=f"daily-{day.isoformat()}")


def replan_task_name(*, tenant_id: str, day: date, window: str) -> str:
    return task_name_for("plan", tenant_id=tenant_id, key=f"replan-{day.isoformat()}-{window}")


def plan_request(*, tenant_id: str, day: date, mode: str, name: str, reason: str = "",
                 schedule_time: datetime | None = None) -> TaskRequest:
    return TaskRequest(
        queue=PLANNING_QUEUE, function=AGENT_FUNCTION, path=PLAN_PATH, tenant_id=tenant_id,
        payload={"date": day.isoformat(), "mode": mode, "reason": reason}, name=name, schedule_time=schedule_time,
    )


def enqueue_once(tasks: TaskQueue, request: TaskRequest) -> bool:
    """Enqueue ``request``; False if a task of that name was already enqueued (nothing new)."""
    try:
        tasks.enqueue(request)
    except TaskAlreadyExists:
        logger.info("planning task %s was already enqueued", request.name)
        return False
    return True
