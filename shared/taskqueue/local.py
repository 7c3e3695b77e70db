"""The local task queue: Cloud Tasks semantics on one SQLite file shared by several processes.

Tasks live in one table with a UNIQUE ``(queue, task_id)``. Enqueuing a name that is pending, or
whose task finished (delivered or given up) less than ``name_retention`` ago, raises
:class:`TaskAlreadyExists`, as Cloud Tasks does for about an hour. Anonymous tasks get a generated
id. Delivery is the job of :class:`shared.taskqueue.dispatcher.LocalDispatcher`, which uses the
claim/settle methods below: a claim takes a lease so two dispatchers never deliver the same attempt
at once, and settling is fenced by the lease token so a dispatcher whose lease ran out cannot
overwrite the outcome of the one that took over.

Several processes (the functions that enqueue, the dispatcher) open the same file: WAL lets readers
run beside the writer, ``busy_timeout`` waits out short write locks, and every read-then-write runs
in ``BEGIN IMMEDIATE`` so the check and the write are one atomic step.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from shared.taskqueue.base import TaskRequest
from shared.taskqueue.errors import TaskAlreadyExists, TaskQueueError

logger = logging.getLogger(__name__)

Status = Literal["pending", "done", "failed"]

DEFAULT_NAME_RETENTION = timedelta(hours=1)

# Every delivery (local and Cloud Tasks) names the task's tenant in this header, beside the
# X-CloudTasks-* ones; in gcp the OIDC check on the target is what makes it trustworthy.
_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT    NOT NULL,
    task_id       TEXT    NOT NULL,
    function      TEXT    NOT NULL,
    path          TEXT    NOT NULL,
    tenant_id     TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    schedule_time REAL    NOT NULL,
    created_at    REAL    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    responses     INTEGER NOT NULL DEFAULT 0,
    last_status   INTEGER,
    lease_token   TEXT,
    lease_until   REAL,
    finished_at   REAL,
    UNIQUE (queue, task_id)
);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks (status, schedule_time);
"""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def full_task_name(queue: str, task_id: str) -> str:
    """The Cloud-Tasks-shaped full name of a local task (code that parses names works on both)."""
    return f"projects/local/locations/local/queues/{queue}/tasks/{task_id}"


@dataclass(frozen=True)
class StoredTask:
    """One row of the queue as read back (claims, tests, operators)."""

    row_id: int
    queue: str
    task_id: str
    function: str
    path: str
    tenant_id: str
    payload: dict[str, Any]
    status: Status
    schedule_time: datetime
    attempts: int  # dispatches so far, including a claimed one in flight
    responses: int  # dispatches that got an HTTP answer other than 503
    last_status: int | None
    lease_token: str | None

    @property
    def name(self) -> str:
        return full_task_name(self.queue, self.task_id)


class SqliteTaskQueue:
    """A :class:`~shared.taskqueue.base.TaskQueue` on a SQLite file (the ``local`` profile)."""

    def __init__(
        self,
        path: Path | str,
        *,
        name_retention: timedelta = DEFAULT_NAME_RETENTION,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.path = Path(path)
        self.name_retention = name_retention
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            # WAL is a property of the file: set once, every later connection uses it.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    # --- the port ---------------------------------------------------------------------------
    def enqueue(self, request: TaskRequest) -> str:
        """Store the task; return its full name. TaskAlreadyExists if the name is taken."""
        now = self._clock()
        task_id = request.name or uuid.uuid4().hex
        due = request.schedule_time or now
        payload = json.dumps(request.payload, separators=(",", ":"))
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT status, finished_at FROM tasks WHERE queue = ? AND task_id = ?",
                (request.queue, task_id),
            ).fetchone()
            if row is not None:
                status, finished_at = row
                if status == "pending" or finished_at > _ts(now - self.name_retention):
                    raise TaskAlreadyExists(f"A task named {task_id!r} was already enqueued on queue {request.queue!r}.")
                # The name's retention ran out: it may be reused, as on Cloud Tasks.
                conn.execute("DELETE FROM tasks WHERE queue = ? AND task_id = ?", (request.queue, task_id))
            try:
                conn.execute(
                    "INSERT INTO tasks (queue, task_id, function, path, tenant_id, payload, schedule_time, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (request.queue, task_id, request.function, request.path, request.tenant_id, payload, _ts(due), _ts(now)),
                )
            except sqlite3.IntegrityError:
                raise TaskAlreadyExists(f"A task named {task_id!r} was already enqueued on queue {request.queue!r}.") from None
        logger.info("enqueued task %s on queue %s for %s", task_id, request.queue, request.function)
        return full_task_name(request.queue, task_id)

    # --- used by the dispatcher -------------------------------------------------------------
    def claim_next(self, *, now: datetime, lease: timedelta, exclude: frozenset[int] = frozenset()) -> StoredTask | None:
        """Lease the earliest due pending task (not in ``exclude``) and count the attempt.

        A task is due when its schedule time has come and no unexpired lease holds it. The
        attempt counter goes up at claim time, so a dispatcher that dies mid-delivery still used
        up an attempt, as a dispatch on Cloud Tasks does."""
        token = uuid.uuid4().hex
        placeholders = ",".join("?" * len(exclude))
        skip = f" AND id NOT IN ({placeholders})" if exclude else ""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT id FROM tasks WHERE status = 'pending' AND schedule_time <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?)" + skip + " ORDER BY schedule_time, id LIMIT 1",
                (_ts(now), _ts(now), *sorted(exclude)),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE tasks SET lease_token = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                (token, _ts(now + lease), row[0]),
            )
            return self._read(conn, "id = ?", (row[0],))

    def mark_done(self, task: StoredTask, *, now: datetime, status_code: int) -> bool:
        """Record a delivered task. False if the lease was lost (another dispatcher took over)."""
        return self._settle(
            task,
            "status = 'done', finished_at = ?, last_status = ?, responses = responses + 1",
            (_ts(now), status_code),
        )

    def mark_retry(self, task: StoredTask, *, at: datetime, status_code: int | None) -> bool:
        """Put a failed attempt back for another try at ``at``. False if the lease was lost."""
        answered = 1 if status_code is not None and status_code != 503 else 0
        return self._settle(
            task,
            "schedule_time = ?, last_status = ?, responses = responses + ?",
            (_ts(at), status_code, answered),
        )

    def mark_failed(self, task: StoredTask, *, now: datetime, status_code: int | None) -> bool:
        """Give a task up (attempts exhausted or undeliverable). False if the lease was lost."""
        answered = 1 if status_code is not None and status_code != 503 else 0
        return self._settle(
            task,
            "status = 'failed', finished_at = ?, last_status = ?, responses = responses + ?",
            (_ts(now), status_code, answered),
        )

    def prune(self, *, now: datetime) -> int:
        """Delete finished tasks whose name retention has run out; return how many."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM tasks WHERE status != 'pending' AND finished_at <= ?",
                (_ts(now - self.name_retention),),
            )
            return cursor.rowcount

    def get(self, queue: str, task_id: str) -> StoredTask | None:
        """The stored task ``task_id`` of ``queue``, or None."""
        with self._connect() as conn:
            return self._read(conn, "queue = ? AND task_id = ?", (queue, task_id))

    def all_tasks(self, *, status: Status | None = None) -> list[StoredTask]:
        """Every stored task (optionally of one status), oldest schedule first."""
        where, params = ("status = ?", (status,)) if status else ("1 = 1", ())
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM tasks WHERE {where} ORDER BY schedule_time, id", params)
            return [_row_to_task(row) for row in rows.fetchall()]

    # --- plumbing ---------------------------------------------------------------------------
    def _settle(self, task: StoredTask, assignments: str, params: tuple[Any, ...]) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute(
                f"UPDATE tasks SET {assignments}, lease_token = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_token = ? AND status = 'pending'",
                (*params, task.row_id, task.lease_token),
            )
            settled = cursor.rowcount == 1
        if not settled:
            logger.warning("lease on task %s was lost before its outcome was recorded", task.task_id)
        return settled

    @staticmethod
    def _read(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> StoredTask | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM tasks WHERE {where}", params).fetchone()
        return _row_to_task(row) if row else None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: cheap for SQLite, and safe across threads and processes.
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise TaskQueueError("The local task queue file cannot be opened.") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            yield conn
        except sqlite3.OperationalError as exc:
            logger.warning("local task queue operation failed: %s", exc)
            raise TaskQueueError() from exc
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


_COLUMNS = (
    "id, queue, task_id, function, path, tenant_id, payload, status, schedule_time,"
    " attempts, responses, last_status, lease_token"
)


def _row_to_task(row: tuple[Any, ...]) -> StoredTask:
    (row_id, queue, task_id, function, path, tenant_id, payload, status, schedule_time,
     attempts, responses, last_status, lease_token) = row
    return StoredTask(
        row_id=row_id,
        queue=queue,
        task_id=task_id,
        function=function,
        path=path,
        tenant_id=tenant_id,
        payload=json.loads(payload),
        status=status,
        schedule_time=_dt(schedule_time),
        attempts=attempts,
        responses=responses,
        last_status=last_status,
        lease_token=lease_token,
    )
