"""Errors of the task queue port.

    TaskQueueError (Unavailable, 503)       the queue failed after retries
    └── TaskAlreadyExists (Conflict, 409)   a task with this name exists or ran recently (dedup)
"""

from __future__ import annotations

from shared.errors import Conflict, Unavailable


class TaskQueueError(Unavailable):
    code = "queue_unavailable"
    default_message = "The task queue is unavailable; try again."


class TaskAlreadyExists(Conflict):
    code = "task_already_exists"
    default_message = "A task with this name was already enqueued."
