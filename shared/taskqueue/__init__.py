"""The task queue port (Cloud Tasks semantics) and its adapters: Cloud Tasks and a local queue."""

from shared.taskqueue.base import TaskQueue, TaskRequest, task_name_for
from shared.taskqueue.errors import TaskAlreadyExists, TaskQueueError

__all__ = ["TaskAlreadyExists", "TaskQueue", "TaskQueueError", "TaskRequest", "task_name_for"]
