"""The Cloud Tasks adapter: the exact Task it creates, dedup and error mapping at the gRPC
boundary (a fake CloudTasks service behind the real client and transport), and delivery through
the gcloud-tasks-emulator."""

from __future__ import annotations

import json
import threading
from concurrent import futures
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from google.protobuf import timestamp_pb2

from shared.config import Settings
from shared.taskqueue import TaskAlreadyExists, TaskQueue, TaskQueueError, TaskRequest, task_name_for
from shared.taskqueue.cloudtasks import NAMED_TASK_RETRY, CloudTasksQueue

PROJECT = "planner-prod"
LOCATION = "europe-west1"
SERVICE_ACCOUNT = "tasks-invoker@planner-prod.iam.gserviceaccount.com"
URLS = {"sync": "https://sync-abc123-ew.a.run.app/", "agent": "https://agent-abc123-ew.a.run.app"}
TENANT = "tenant-abc"
FAST_RETRY = NAMED_TASK_RETRY.with_delay(initial=0.001, maximum=0.001)


class FakeCloudTasks:
    """CreateTask as the real service answers it: ALREADY_EXISTS for a name it has seen, a
    server-made name for anonymous tasks, and scripted failures."""

    def __init__(self) -> None:
        self.requests: list[tasks_v2.CreateTaskRequest] = []
        self.names: set[str] = set()
        self.failures: list[grpc.StatusCode] = []
        self._counter = 0

    def create_task(self, request: tasks_v2.CreateTaskRequest, context: grpc.ServicerContext) -> tasks_v2.Task:
        self.requests.append(request)
        if self.failures:
            context.abort(self.failures.pop(0), "scripted failure")
        task = tasks_v2.Task(request.task)
        if task.name:
            if task.name in self.names:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, "Requested entity already exists")
            self.names.add(task.name)
        else:
            self._counter += 1
            task.name = f"{request.parent}/tasks/{7361912345 + self._counter}"
        task.create_time = datetime.now(timezone.utc)
        return task


@pytest.fixture
def fake_service():
    fake = FakeCloudTasks()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.method_handlers_generic_handler(
        "google.cloud.tasks.v2.CloudTasks",
        {
            "CreateTask": grpc.unary_unary_rpc_method_handler(
                fake.create_task,
                request_deserializer=tasks_v2.CreateTaskRequest.deserialize,
                response_serializer=tasks_v2.Task.serialize,
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    try:
        yield fake, client
    finally:
        channel.close()
        server.stop(grace=None)


def adapter(client, **overrides) -> CloudTasksQueue:
    options = dict(
        project=PROJECT,
        location=LOCATION,
        function_urls=URLS,
        service_account_email=SERVICE_ACCOUNT,
        queue_prefix="planner-",
        named_retry=FAST_RETRY,
    )
    options.update(overrides)
    return CloudTasksQueue(client, **options)


def request(name: str | None = None, **overrides) -> TaskRequest:
    fields = dict(queue="sync", function="sync", path="/tasks/sync", tenant_id=TENANT, payload={"page": "p1"}, name=name)
    fields.update(overrides)
    return TaskRequest(**fields)


def test_it_implements_the_port(fake_service):
    assert isinstance(adapter(fake_service[1]), TaskQueue)


def test_a_named_scheduled_task_is_the_exact_http_task_with_an_oidc_token(fake_service):
    fake, client = fake_service
    name = task_name_for("plan", tenant_id=TENANT, key="2026-11-28")
    when = datetime(2026, 11, 28, 6, 30, 15, 250000, tzinfo=timezone.utc)

    full = adapter(client).enqueue(
        request(name, function="agent", path="/tasks/plan", queue="planning", payload={"date": "2026-11-28", "n": 1}, schedule_time=when)
    )

    queue_path = f"projects/{PROJECT}/locations/{LOCATION}/queues/planner-planning"
    assert full == f"{queue_path}/tasks/{name}"
    [sent] = fake.requests
    assert sent.parent == queue_path
    target = "https://agent-abc123-ew.a.run.app/tasks/plan"
    expected = tasks_v2.Task(
        name=f"{queue_path}/tasks/{name}",
        http_request=tasks_v2.HttpRequest(
            url=target,
            http_method=tasks_v2.HttpMethod.POST,
            headers={"Content-Type": "application/json", "X-Planner-Tenant-Id": TENANT},
            body=b'{"date":"2026-11-28","n":1}',
            oidc_token=tasks_v2.OidcToken(service_account_email=SERVICE_ACCOUNT, audience=target),
        ),
        schedule_time=timestamp_pb2.Timestamp(seconds=int(when.timestamp()), nanos=250_000_000),
    )
    assert tasks_v2.Task.pb(sent.task) == tasks_v2.Task.pb(expected)


def test_without_a_service_account_no_oidc_token_is_attached(fake_service):
    fake, client = fake_service

    adapter(client, service_account_email=None, queue_prefix="").enqueue(request("sync-1"))

    [sent] = fake.requests
    assert sent.parent.endswith("/queues/sync")
    assert not tasks_v2.HttpRequest.pb(sent.task.http_request).HasField("oidc_token")
    assert sent.task.http_request.url == "https://sync-abc123-ew.a.run.app/tasks/sync"
    assert not tasks_v2.Task.pb(sent.task).HasField("schedule_time")


def test_an_anonymous_task_gets_the_server_made_name(fake_service):
    fake, client = fake_service

    first = adapter(client).enqueue(request())
    second = adapter(client).enqueue(request())

    assert [r.task.name for r in fake.requests] == ["", ""]
    assert first != second and first.startswith(f"projects/{PROJECT}/locations/{LOCATION}/queues/planner-sync/tasks/")


def test_a_duplicate_name_raises_task_already_exists(fake_service):
    fake, client = fake_service
    queue = adapter(client)
    queue.enqueue(request("sync-1"))

    with pytest.raises(TaskAlreadyExists) as caught:
        queue.enqueue(request("sync-1", payload={"again": True}))

    assert caught.value.status == 409 and "sync-1" in caught.value.message
    assert len(fake.requests) == 2


def test_a_named_task_is_retried_on_a_transient_error(fake_service):
    fake, client = fake_service
    fake.failures = [grpc.StatusCode.UNAVAILABLE]

    full = adapter(client).enqueue(request("sync-1"))

    assert full.endswith("/tasks/sync-1")
    assert len(fake.requests) == 2


def test_an_anonymous_task_is_not_retried_and_maps_to_task_queue_error(fake_service):
    fake, client = fake_service
    fake.failures = [grpc.StatusCode.UNAVAILABLE]

    with pytest.raises(TaskQueueError) as caught:
        adapter(client).enqueue(request())

    assert caught.value.status == 503 and "'sync'" in caught.value.message
    assert len(fake.requests) == 1


def test_permission_denied_names_the_missing_role(fake_service):
    fake, client = fake_service
    fake.failures = [grpc.StatusCode.PERMISSION_DENIED]

    with pytest.raises(TaskQueueError) as caught:
        adapter(client).enqueue(request("sync-1"))

    assert "roles/cloudtasks.enqueuer" in caught.value.message
    assert "scripted failure" not in caught.value.message


def test_an_unknown_function_is_refused_before_any_call(fake_service):
    fake, client = fake_service

    with pytest.raises(ValueError, match="nowhere"):
        adapter(client).enqueue(request(function="nowhere"))
    assert fake.requests == []


def test_from_settings_wires_project_location_urls_and_service_account(fake_service):
    fake, client = fake_service
    settings = Settings(
        gcp_project=PROJECT, tasks_location=LOCATION, tasks_service_account=SERVICE_ACCOUNT, function_urls=URLS
    )

    CloudTasksQueue.from_settings(settings, client=client).enqueue(request("sync-1"))

    [sent] = fake.requests
    assert sent.task.name == f"projects/{PROJECT}/locations/{LOCATION}/queues/sync/tasks/sync-1"
    assert sent.task.http_request.oidc_token.service_account_email == SERVICE_ACCOUNT


# --- delivery through the emulator ------------------------------------------------------------


class _Target(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], bytes]]
    arrived: threading.Event
    expected = 1

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if len(type(self).received) >= type(self).expected:
            type(self).arrived.set()

    def log_message(self, *args):
        pass


@pytest.fixture
def target_server():
    handler = type("Target", (_Target,), {"received": [], "arrived": threading.Event(), "expected": 2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.emulator
def test_the_emulator_delivers_named_and_anonymous_tasks(tasks_emulator, target_server):
    url, handler = target_server
    channel = grpc.insecure_channel(tasks_emulator.address)
    client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    try:
        client.create_queue(
            parent=client.common_location_path(PROJECT, LOCATION),
            queue=tasks_v2.Queue(name=client.queue_path(PROJECT, LOCATION, "planner-sync")),
        )
        queue = adapter(client, function_urls={"sync": url})

        named = queue.enqueue(request("sync-tenant-abc-1", payload={"page": "p1", "full": True}))
        anonymous = queue.enqueue(request(None, payload={"page": "p2"}))

        assert handler.arrived.wait(timeout=60), "the emulator did not deliver both tasks within 60 s"
    finally:
        channel.close()

    assert named == f"projects/{PROJECT}/locations/{LOCATION}/queues/planner-sync/tasks/sync-tenant-abc-1"
    by_body = {json.loads(body)["page"]: (path, headers) for path, headers, body in handler.received}
    assert set(by_body) == {"p1", "p2"}
    path, headers = by_body["p1"]
    assert path == "/tasks/sync"
    assert headers["content-type"] == "application/json"
    assert headers["x-planner-tenant-id"] == TENANT
    assert headers["x-cloudtasks-taskname"] == "sync-tenant-abc-1"
    assert headers["x-cloudtasks-queuename"].endswith("planner-sync")
    assert headers["x-cloudtasks-taskretrycount"] == "0"
    assert by_body["p2"][1]["x-cloudtasks-taskname"] == anonymous.rsplit("/", 1)[1]
    assert [json.loads(body) for _, _, body in handler.received if b"p1" in body] == [{"page": "p1", "full": True}]
