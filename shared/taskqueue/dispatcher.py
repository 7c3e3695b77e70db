"""The local dispatcher: delivers the SQLite queue's tasks over HTTP the way Cloud Tasks does.

Each due task is claimed under a lease, POSTed as JSON to ``function_urls[function] + path`` with
the headers Cloud Tasks sends (``X-CloudTasks-QueueName``, ``-TaskName``, ``-TaskRetryCount``,
``-TaskExecutionCount``, ``-TaskETA``), marked done on a 2xx answer and otherwise retried with
exponential backoff (``min_backoff * 2**retry``, capped at ``max_backoff``) until ``max_attempts``
dispatches were made, after which it is marked failed and logged. Several dispatchers may share one
queue file: the lease makes sure that one attempt is delivered by one of them only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from shared.taskqueue.base import TENANT_HEADER
from shared.taskqueue.local import SqliteTaskQueue, StoredTask, utcnow

logger = logging.getLogger(__name__)

# Functions may run up to 540 s: wait that long for an answer, and hold the lease a bit longer, so
# a slow but healthy delivery is never handed to a second dispatcher.
_DELIVERY_TIMEOUT = httpx.Timeout(570.0, connect=10.0)
DEFAULT_LEASE = timedelta(minutes=15)


@dataclass
class DispatchCounts:
    """What one :meth:`LocalDispatcher.run_once` did."""

    delivered: int = 0  # answered 2xx, marked done
    retried: int = 0  # failed, scheduled again
    failed: int = 0  # given up (attempts exhausted or no URL for the function)
    lost: int = 0  # outcome not recorded: another dispatcher took the lease over

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.failed + self.lost


class LocalDispatcher:
    """Delivers due tasks of a :class:`SqliteTaskQueue` to the functions' URLs."""

    def __init__(
        self,
        queue: SqliteTaskQueue,
        function_urls: Mapping[str, str],
        *,
        max_attempts: int = 5,
        min_backoff: timedelta = timedelta(seconds=1),
        max_backoff: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = utcnow,
        http: httpx.Client | None = None,
        lease: timedelta = DEFAULT_LEASE,
        max_tasks_per_run: int = 100,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min_backoff < timedelta(0) or max_backoff < min_backoff:
            raise ValueError("backoffs must satisfy 0 <= min_backoff <= max_backoff")
        self.queue = queue
        self.function_urls = {name: url.rstrip("/") for name, url in function_urls.items()}
        self.max_attempts = max_attempts
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.lease = lease
        self.max_tasks_per_run = max_tasks_per_run
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=_DELIVERY_TIMEOUT)

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next try after ``attempts`` failed dispatches (1 -> min_backoff)."""
        return min(self.max_backoff, self.min_backoff * 2 ** max(0, attempts - 1))

    def run_once(self) -> DispatchCounts:
        """Deliver every task due now (each at most once per run); return what happened."""
        counts = DispatchCounts()
        seen: set[int] = set()
        while len(seen) < self.max_tasks_per_run:
            task = self.queue.claim_next(now=self._clock(), lease=self.lease, exclude=frozenset(seen))
            if task is None:
                break
            seen.add(task.row_id)
            self._deliver(task, counts)
        return counts

    def run_forever(self, stop_event: threading.Event, poll_interval: float = 1.0) -> None:
        """Dispatch until ``stop_event`` is set, polling every ``poll_interval`` seconds when idle."""
        logger.info("local task dispatcher started on %s", self.queue.path)
        while not stop_event.is_set():
            try:
                counts = self.run_once()
                self.queue.prune(now=self._clock())
            except Exception:  # the loop must survive a locked file or a bug in one delivery
                logger.exception("local task dispatch round failed")
                counts = DispatchCounts()
            if counts.attempted == 0:
                stop_event.wait(poll_interval)
        logger.info("local task dispatcher stopped")

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # --- one delivery -----------------------------------------------------------------------
    def _deliver(self, task: StoredTask, counts: DispatchCounts) -> None:
        base = self.function_urls.get(task.function)
        if base is None:
            # Retrying cannot make a URL appear: give the task up at once.
            logger.error("task %s targets unknown function %r; giving up", task.task_id, task.function)
            self._record(self.queue.mark_failed(task, now=self._clock(), status_code=None), counts, "failed")
            return
        status: int | None
        try:
            response = self._http.post(
                base + task.path,
                content=json.dumps(task.payload, separators=(",", ":")).encode(),
                headers=self._headers(task),
            )
            status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            logger.warning("task %s delivery to %s failed: %s", task.task_id, task.function, type(exc).__name__)
            status = None
        now = self._clock()
        if status is not None and 200 <= status < 300:
            logger.info("task %s delivered to %s (%s)", task.task_id, task.function, status)
            self._record(self.queue.mark_done(task, now=now, status_code=status), counts, "delivered")
        elif task.attempts >= self.max_attempts:
            logger.error(
                "task %s on queue %s gave up after %d attempts (last status %s)",
                task.task_id, task.queue, task.attempts, status,
            )
            self._record(self.queue.mark_failed(task, now=now, status_code=status), counts, "failed")
        else:
            retry_at = now + self.backoff(task.attempts)
            logger.info("task %s answered %s; retrying at %s", task.task_id, status, retry_at.isoformat())
            self._record(self.queue.mark_retry(task, at=retry_at, status_code=status), counts, "retried")

    @staticmethod
    def _record(settled: bool, counts: DispatchCounts, outcome: str) -> None:
        if not settled:
            outcome = "lost"
        setattr(counts, outcome, getattr(counts, outcome) + 1)

    @staticmethod
    def _headers(task: StoredTask) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Google-Cloud-Tasks",
            "X-CloudTasks-QueueName": task.queue,
            "X-CloudTasks-TaskName": task.task_id,
            "X-CloudTasks-TaskRetryCount": str(task.attempts - 1),
            "X-CloudTasks-TaskExecutionCount": str(task.responses),
            "X-CloudTasks-TaskETA": f"{task.schedule_time.timestamp():.6f}",
            TENANT_HEADER: task.tenant_id,
        }
        if task.last_status is not None:
            headers["X-CloudTasks-TaskPreviousResponse"] = str(task.last_status)
        return headers
