"""Cloud Scheduler jobs: HTTP POSTs to a function with an OIDC token whose audience is that
function's URL (describe, then create or update)."""

from __future__ import annotations

from shared.deploy.commands import Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra, JobSpec


def _settings(infra: Infra, ctx: DeployContext, job: JobSpec) -> list[str]:
    base = ctx.function_url(job.function)
    return [
        f"--location={ctx.region}",
        f"--schedule={job.schedule}",
        f"--time-zone={infra.time_zone}",
        f"--uri={base}{job.path}",
        "--http-method=post",
        "--message-body={}",
        f"--oidc-service-account-email={ctx.service_account(infra.scheduler_service_account)}",
        f"--oidc-token-audience={base}",
        f"--attempt-deadline={job.attempt_deadline}",
        f"--max-retry-attempts={job.max_retry_attempts}",
        f"--description={job.description}",
    ]


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    header = "Content-Type=application/json"
    return [
        Step(title=f"scheduler job {job.name}",
             probe=Probe(gcloud("scheduler", "jobs", "describe", job.name, f"--location={ctx.region}",
                                "--format=value(name)")),
             absent=(gcloud("scheduler", "jobs", "create", "http", job.name, *_settings(infra, ctx, job),
                            f"--headers={header}"),),
             present=(gcloud("scheduler", "jobs", "update", "http", job.name, *_settings(infra, ctx, job),
                             f"--update-headers={header}"),),
             hint="managing jobs needs roles/cloudscheduler.admin and roles/iam.serviceAccountUser on the invoker")
        for job in infra.jobs
    ]
