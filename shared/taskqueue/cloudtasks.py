"""The Cloud Tasks adapter of the task queue port (the ``gcp`` profile).

Each :class:`~shared.taskqueue.base.TaskRequest` becomes an HTTP task: POST of the JSON payload to
``function_urls[function] + path`` with ``Content-Type: application/json`` and the tenant header,
named ``projects/P/locations/L/queues/Q/tasks/NAME`` when the request is named (Cloud Tasks then
refuses the name while it exists and for about an hour after, which is our dedup), scheduled at
``schedule_time``, and signed with an OIDC token of the configured service account whose audience
is the target URL (the target checks it with ``shared.auth.oidc``).

Errors: ALREADY_EXISTS becomes :class:`TaskAlreadyExists`; anything else the API or the network
raises becomes :class:`TaskQueueError`. Named tasks are retried on transient errors (a retry after a
lost answer may then report TaskAlreadyExists: the task does exist); anonymous ones are not, since
a blind retry could create the task twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2

from shared.taskqueue.base import TaskRequest
from shared.taskqueue.errors import TaskAlreadyExists, TaskQueueError
from shared.taskqueue.base import TENANT_HEADER

if TYPE_CHECKING:
    from shared.config import Settings

logger = logging.getLogger(__name__)

# Transient answers of the API for which a named (idempotent) create is retried.
NAMED_TASK_RETRY = gretry.Retry(
    predicate=gretry.if_exception_type(
        gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.TooManyRequests
    ),
    initial=0.2,
    maximum=5.0,
    multiplier=2.0,
    timeout=30.0,
)
DEFAULT_TIMEOUT = 20.0


class CloudTasksQueue:
    """A :class:`~shared.taskqueue.base.TaskQueue` on Google Cloud Tasks."""

    def __init__(
        self,
        client: tasks_v2.CloudTasksClient,
        *,
        project: str,
        location: str,
        function_urls: Mapping[str, str],
        service_account_email: str | None,
        queue_prefix: str = "",
        named_retry: gretry.Retry | None = NAMED_TASK_RETRY,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not project or not location:
            raise ValueError("Cloud Tasks needs a project and a location")
        self._client = client
        self.project = project
        self.location = location
        self.function_urls = {name: url.rstrip("/") for name, url in function_urls.items()}
        self.service_account_email = service_account_email or None
        self.queue_prefix = queue_prefix
        self._named_retry = named_retry
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: "Settings", *, client: tasks_v2.CloudTasksClient | None = None) -> "CloudTasksQueue":
        """The adapter for the ``gcp`` profile (default credentials and gRPC unless ``client``)."""
        return cls(
            client or tasks_v2.CloudTasksClient(),
            project=settings.gcp_project,
            location=settings.tasks_location,
            function_urls=settings.function_urls,
            service_account_email=settings.tasks_service_account or None,
        )

    def target_url(self, request: TaskRequest) -> str:
        """The URL the task is POSTed to (also the OIDC audience)."""
        try:
            return self.function_urls[request.function] + request.path
        except KeyError:
            raise ValueError(f"no URL configured for function {request.function!r}") from None

    def build_task(self, request: TaskRequest) -> tuple[str, tasks_v2.Task]:
        """The queue path and the Task proto for ``request`` (no API call)."""
        queue_id = self.queue_prefix + request.queue
        parent = self._client.queue_path(self.project, self.location, queue_id)
        url = self.target_url(request)
        http_request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=url,
            headers={"Content-Type": "application/json", TENANT_HEADER: request.tenant_id},
            body=json.dumps(request.payload, separators=(",", ":")).encode(),
        )
        if self.service_account_email:
            http_request.oidc_token = tasks_v2.OidcToken(service_account_email=self.service_account_email, audience=url)
        task: dict[str, Any] = {"http_request": http_request}
        if request.name:
            task["name"] = self._client.task_path(self.project, self.location, queue_id, request.name)
        if request.schedule_time is not None:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromDatetime(request.schedule_time)
            task["schedule_time"] = stamp
        return parent, tasks_v2.Task(**task)

    def enqueue(self, request: TaskRequest) -> str:
        """Create the task; return its full name. TaskAlreadyExists if the name was used."""
        parent, task = self.build_task(request)
        retry = self._named_retry if request.name else None
        try:
            created = self._client.create_task(parent=parent, task=task, retry=retry, timeout=self._timeout)
        except gexc.AlreadyExists:
            raise TaskAlreadyExists(f"A task named {request.name!r} was already enqueued on queue {request.queue!r}.") from None
        except gexc.Aborted as exc:
            raise self._unavailable(request, exc) from exc
        except gexc.Conflict:
            # The REST transport reports ALREADY_EXISTS as a bare 409 Conflict.
            raise TaskAlreadyExists(f"A task named {request.name!r} was already enqueued on queue {request.queue!r}.") from None
        except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
            raise self._unavailable(request, exc) from exc
        logger.info("enqueued task %s on queue %s for %s", created.name.rsplit("/", 1)[-1], request.queue, request.function)
        return created.name

    def _unavailable(self, request: TaskRequest, exc: Exception) -> TaskQueueError:
        if isinstance(exc, gexc.PermissionDenied):
            message = (
                f"Cloud Tasks refused to create a task on queue {request.queue!r}: the runtime service account"
                " needs roles/cloudtasks.enqueuer (and roles/iam.serviceAccountUser on the task service account)."
            )
        elif isinstance(exc, gexc.NotFound):
            message = f"Cloud Tasks queue {request.queue!r} does not exist in {self.location}."
        else:
            message = f"Cloud Tasks could not create a task on queue {request.queue!r}; try again."
        # The API's message may quote the request; log the class and status only.
        logger.warning("create_task on queue %s failed: %s", request.queue, type(exc).__name__)
        return TaskQueueError(message)
