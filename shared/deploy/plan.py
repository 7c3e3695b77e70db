"""infra/ → the ordered plan of a deployment.

Order matters: the account and project are checked before anything changes; APIs come first;
service accounts exist before anything is granted to them; queues, bucket and secrets exist before
their IAM bindings; every required secret has a value before a function deploys (a function whose
mounted secret is empty would not start); functions exist before their invoker bindings and before
the scheduler jobs that call them; log-based metrics exist before the alert policies that use them.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.deploy.bundle import Bundle
from shared.deploy.commands import Plan
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra
from shared.deploy.resources import (
    accounts,
    apis,
    firestore,
    functions,
    iam,
    monitoring,
    preflight,
    queues,
    scheduler,
    secrets,
    storage,
)


def build_plan(infra: Infra, ctx: DeployContext, bundles: Mapping[str, Bundle], *, force: bool = False,
               with_preflight: bool = True) -> Plan:
    """Every item of a deployment of ``bundles`` (the functions to deploy) to ``ctx``. A real run
    runs the preflight checks first on their own (they read the project number the URLs need) and
    builds the rest without them."""
    items = [
        *(preflight.items(ctx) if with_preflight else ()),
        *apis.items(infra, ctx),
        *accounts.items(infra, ctx),
        *firestore.items(infra, ctx),
        *storage.items(infra, ctx),
        *secrets.items(infra, ctx),
        *queues.items(infra, ctx),
        *iam.items(infra, ctx),
        secrets.values_gate(infra, ctx),
        *functions.items(infra, ctx, bundles, force=force),
        *iam.invoker_items(infra, ctx),
        *scheduler.items(infra, ctx),
        *monitoring.metric_items(infra, ctx),
        *monitoring.policy_items(infra, ctx),
    ]
    urls = ctx.function_urls()
    notes = [
        f"project {ctx.project}, region {ctx.region}, release {ctx.release}, environment {ctx.environment}, "
        f"bucket gs://{ctx.bucket}",
        *(f"function {name}: {urls[name]}" for name in bundles),
    ]
    if "${PROJECT_NUMBER}" in ctx.url_template and not ctx.project_number:
        notes.append("the URLs hold PROJECT_NUMBER: a dry run does not read it (pass --project-number)")
    if "oauth" in urls:
        notes.append(f"Notion OAuth redirect URI: {urls['oauth']}/oauth/callback")
    if "sync" in urls:
        notes.append(f"Notion webhook URL: {urls['sync']}/webhooks/notion")
    return Plan(items=tuple(items), notes=tuple(notes))
