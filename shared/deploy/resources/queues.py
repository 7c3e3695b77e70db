"""Cloud Tasks queues: rate limits and retry policy (describe, then create or update)."""

from __future__ import annotations

from shared.deploy.commands import Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra, QueueSpec


def _settings(queue: QueueSpec) -> list[str]:
    return [
        f"--max-dispatches-per-second={queue.max_dispatches_per_second:g}",
        f"--max-concurrent-dispatches={queue.max_concurrent_dispatches}",
        f"--max-attempts={queue.max_attempts}",
        f"--min-backoff={queue.min_backoff}",
        f"--max-backoff={queue.max_backoff}",
        f"--max-doublings={queue.max_doublings}",
    ]


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    location = f"--location={ctx.region}"
    return [
        Step(title=f"queue {queue.name}",
             probe=Probe(gcloud("tasks", "queues", "describe", queue.name, location, "--format=value(name)")),
             absent=(gcloud("tasks", "queues", "create", queue.name, location, *_settings(queue)),),
             present=(gcloud("tasks", "queues", "update", queue.name, location, *_settings(queue)),),
             hint="managing queues needs roles/cloudtasks.queueAdmin")
        for queue in infra.queues.values()
    ]
