"""Enabling the Google Cloud APIs (idempotent by itself)."""

from __future__ import annotations

from shared.deploy.commands import Gcloud, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    return [Step(title="APIs", absent=(gcloud("services", "enable", *infra.apis),),
                 hint="enabling APIs needs roles/serviceusage.serviceUsageAdmin (Owner has it) and billing on the project")]
