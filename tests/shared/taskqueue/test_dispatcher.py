"""The local dispatcher: Cloud Tasks headers, outcomes, backoff, give-up, leases, a real server."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from shared.taskqueue import TaskRequest
from shared.taskqueue.dispatcher import LocalDispatcher

TENANT = "tenant-abc"
URLS = {"sync": "http://sync.local:8083/", "agent": "http://agent.local:8082"}


def request(name: str | None = "sync-1", **overrides) -> TaskRequest:
    fields = dict(queue="sync", function="sync", path="/tasks/sync", tenant_id=TENANT, payload={"page": "p1"}, name=name)
    fields.update(overrides)
    return TaskRequest(**fields)


class Target:
    """An httpx transport standing in for the functions: answers from a script, records requests."""

    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.on_request = None

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        if self.on_request:
            self.on_request(req)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"ok": answer < 300})


def make_dispatcher(queue, clock, target: Target, **kwargs) -> LocalDispatcher:
    http = httpx.Client(transport=httpx.MockTransport(target))
    return LocalDispatcher(queue, URLS, clock=clock, http=http, **kwargs)


def test_a_due_task_is_posted_as_json_with_cloud_tasks_headers_and_marked_done(queue, clock):
    queue.enqueue(request(payload={"page": "p1", "full": True}))
    target = Target(200)

    counts = make_dispatcher(queue, clock, target).run_once()

    assert (counts.delivered, counts.retried, counts.failed) == (1, 0, 0)
    [sent] = target.requests
    assert sent.method == "POST"
    assert str(sent.url) == "http://sync.local:8083/tasks/sync"
    assert json.loads(sent.content) == {"page": "p1", "full": True}
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-cloudtasks-queuename"] == "sync"
    assert sent.headers["x-cloudtasks-taskname"] == "sync-1"
    assert sent.headers["x-cloudtasks-taskretrycount"] == "0"
    assert sent.headers["x-cloudtasks-taskexecutioncount"] == "0"
    assert float(sent.headers["x-cloudtasks-tasketa"]) == clock.now.timestamp()
    assert sent.headers["x-planner-tenant-id"] == TENANT
    assert "x-cloudtasks-taskpreviousresponse" not in sent.headers
    assert queue.get("sync", "sync-1").status == "done"


def test_a_future_task_waits_for_its_schedule_time(queue, clock):
    queue.enqueue(request(schedule_time=clock.now + timedelta(minutes=10)))
    target = Target()
    dispatcher = make_dispatcher(queue, clock, target)

    assert dispatcher.run_once().attempted == 0
    clock.advance(timedelta(minutes=10))
    assert dispatcher.run_once().delivered == 1
    assert len(target.requests) == 1


def test_failures_are_retried_with_exponential_backoff_and_counted_in_headers(queue, clock):
    queue.enqueue(request())
    target = Target(500, 503, httpx.ConnectError("refused"), 200)
    dispatcher = make_dispatcher(
        queue, clock, target, min_backoff=timedelta(seconds=1), max_backoff=timedelta(seconds=60)
    )

    waits = []
    for _ in range(3):
        start = clock.now
        assert dispatcher.run_once().retried == 1
        # Not due again until its backoff has passed.
        assert dispatcher.run_once().attempted == 0
        waits.append(queue.get("sync", "sync-1").schedule_time - start)
        clock.now = queue.get("sync", "sync-1").schedule_time
    assert dispatcher.run_once().delivered == 1

    assert waits == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    retry_counts = [r.headers["x-cloudtasks-taskretrycount"] for r in target.requests]
    execution_counts = [r.headers["x-cloudtasks-taskexecutioncount"] for r in target.requests]
    previous = [r.headers.get("x-cloudtasks-taskpreviousresponse") for r in target.requests]
    assert retry_counts == ["0", "1", "2", "3"]
    # 503 answers and connection errors do not count as executions, as on Cloud Tasks.
    assert execution_counts == ["0", "1", "1", "1"]
    assert previous == [None, "500", "503", None]
    assert queue.get("sync", "sync-1").status == "done"


def test_backoff_doubles_up_to_the_cap(queue, clock):
    dispatcher = make_dispatcher(queue, clock, Target(), min_backoff=timedelta(seconds=1), max_backoff=timedelta(seconds=10))

    assert [dispatcher.backoff(n).total_seconds() for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_a_task_is_given_up_after_max_attempts_and_logged(queue, clock, caplog):
    queue.enqueue(request())
    target = Target(500, 500, 500, 500)
    dispatcher = make_dispatcher(queue, clock, target, max_attempts=3, min_backoff=timedelta(seconds=5))

    outcomes = []
    with caplog.at_level(logging.ERROR, logger="shared.taskqueue.dispatcher"):
        for _ in range(4):
            counts = dispatcher.run_once()
            outcomes.append((counts.retried, counts.failed))
            clock.advance(timedelta(minutes=5))

    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]
    assert len(target.requests) == 3
    stored = queue.get("sync", "sync-1")
    assert (stored.status, stored.attempts, stored.last_status) == ("failed", 3, 500)
    assert any("sync-1" in r.getMessage() and "3 attempts" in r.getMessage() for r in caplog.records)


def test_a_task_for_an_unknown_function_fails_at_once(queue, clock):
    queue.enqueue(request(function="nowhere"))
    target = Target()

    counts = make_dispatcher(queue, clock, target).run_once()

    assert counts.failed == 1 and target.requests == []
    assert queue.get("sync", "sync-1").status == "failed"


def test_one_run_delivers_each_due_task_once_even_with_zero_backoff(queue, clock):
    queue.enqueue(request("a"))
    queue.enqueue(request("b", function="agent", path="/tasks/plan"))
    target = Target(500, 200)
    dispatcher = make_dispatcher(queue, clock, target, min_backoff=timedelta(0), max_backoff=timedelta(0))

    counts = dispatcher.run_once()

    assert (counts.delivered, counts.retried) == (1, 1)
    assert [str(r.url) for r in target.requests] == ["http://sync.local:8083/tasks/sync", "http://agent.local:8082/tasks/plan"]
    assert dispatcher.run_once().delivered == 1  # "a" again, on the next run


def test_two_dispatchers_never_deliver_the_same_attempt(queue, clock, tmp_path):
    from shared.taskqueue.local import SqliteTaskQueue

    queue.enqueue(request())
    other_target = Target()
    other = make_dispatcher(SqliteTaskQueue(queue.path, clock=clock), clock, other_target)
    nested = []
    target = Target(200)
    # While the first dispatcher is mid-delivery, the second one runs and must find nothing.
    target.on_request = lambda _req: nested.append(other.run_once())

    counts = make_dispatcher(queue, clock, target).run_once()

    assert counts.delivered == 1
    assert nested[0].attempted == 0 and other_target.requests == []


def test_a_dispatcher_whose_lease_ran_out_does_not_overwrite_the_outcome(queue, clock):
    queue.enqueue(request())
    lease = timedelta(minutes=2)
    second_target = Target(200)
    second = make_dispatcher(queue, clock, second_target, lease=lease)
    first_target = Target(500)

    def stall_past_the_lease(_req):
        clock.advance(lease)
        assert second.run_once().delivered == 1

    first_target.on_request = stall_past_the_lease
    counts = make_dispatcher(queue, clock, first_target, lease=lease).run_once()

    assert counts.lost == 1 and counts.retried == 0
    stored = queue.get("sync", "sync-1")
    assert (stored.status, stored.attempts, stored.last_status) == ("done", 2, 200)


def test_run_forever_dispatches_until_stopped(queue, clock):
    queue.enqueue(request())
    stop = threading.Event()
    target = Target(200)
    target.on_request = lambda _req: stop.set()

    make_dispatcher(queue, clock, target).run_forever(stop, poll_interval=0.01)

    assert len(target.requests) == 1
    assert queue.get("sync", "sync-1").status == "done"


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]] = []
    status = 204

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers.items()), body))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    handler = type("Handler", (_Recorder,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_delivery_to_a_real_local_http_server(queue, clock, local_server):
    server, handler = local_server
    url = f"http://127.0.0.1:{server.server_address[1]}"
    queue.enqueue(request(payload={"tenant": TENANT, "pages": ["a", "b"]}))
    dispatcher = LocalDispatcher(queue, {"sync": url}, clock=clock)

    try:
        counts = dispatcher.run_once()
    finally:
        dispatcher.close()

    assert counts.delivered == 1
    [(path, headers, body)] = handler.received
    assert path == "/tasks/sync"
    assert json.loads(body) == {"tenant": TENANT, "pages": ["a", "b"]}
    assert headers["Content-Type"] == "application/json"
    assert headers["X-CloudTasks-TaskName"] == "sync-1"
    assert headers["X-CloudTasks-QueueName"] == "sync"
    assert headers["X-CloudTasks-TaskRetryCount"] == "0"
    assert queue.get("sync", "sync-1").status == "done"
