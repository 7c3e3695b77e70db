"""Service accounts: one per function plus the task/scheduler invoker (describe, then create)."""

from __future__ import annotations

from shared.deploy.commands import Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    return [
        Step(title=f"service account {name}",
             probe=Probe(gcloud("iam", "service-accounts", "describe", ctx.service_account(name))),
             absent=(gcloud("iam", "service-accounts", "create", name, f"--display-name={display}"),),
             hint="creating service accounts needs roles/iam.serviceAccountAdmin")
        for name, display in infra.iam.service_accounts.items()
    ]
