"""The bucket: uniform access, no public access, versioning off, soft delete and lifecycle rules."""

from __future__ import annotations

import json

from shared.deploy.commands import Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra

LIFECYCLE_FILE = "build/deploy/bucket-lifecycle.json"


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    spec = infra.bucket
    url = f"gs://{ctx.bucket}"
    common = []
    if spec.uniform_access:
        common.append("--uniform-bucket-level-access")
    if spec.public_access_prevention:
        common.append("--public-access-prevention")
    if spec.soft_delete_duration is not None:
        common.append(f"--soft-delete-duration={spec.soft_delete_duration}")
    common.append(f"--lifecycle-file={LIFECYCLE_FILE}")
    location = ctx.expand(spec.location, "storage.json: location")
    update = [gcloud("storage", "buckets", "update", url, *common, "--versioning" if spec.versioning else "--no-versioning")]
    create = [gcloud("storage", "buckets", "create", url, f"--location={location}", *common)]
    if spec.versioning:  # create cannot turn it on; a fresh bucket has it off
        create.append(update[0])
    lifecycle = json.dumps(ctx.expand(spec.lifecycle, "storage.json: lifecycle"), indent=2, sort_keys=True) + "\n"
    return [Step(title=f"bucket {url}", probe=Probe(gcloud("storage", "buckets", "describe", url, "--format=value(name)")),
                 absent=tuple(create), present=tuple(update), files=((LIFECYCLE_FILE, lifecycle),),
                 hint="managing buckets needs roles/storage.admin")]
