"""Least-privilege grants (``add-iam-policy-binding`` is idempotent: an existing binding is a no-op).

Project: datastore.user. Bucket: storage.objectAdmin on the one bucket. Queues: cloudtasks.enqueuer
on the queues a function fills. Service accounts: iam.serviceAccountUser on the invoker for the
functions that create OIDC tasks as it. Secrets: secretAccessor secret by secret, derived from what
each function mounts or reads. Function invokers come after the functions exist (see functions.py).
"""

from __future__ import annotations

from shared.deploy.commands import Gcloud, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra

_QUIET = "--format=none"  # the commands print the whole policy otherwise
_HINT = "granting roles needs roles/resourcemanager.projectIamAdmin (or roles/iam.securityAdmin)"


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    iam = infra.iam
    steps = [
        Step(title=f"project role {role} for {member}",
             absent=(gcloud("projects", "add-iam-policy-binding", ctx.project, f"--member={ctx.member(member)}",
                            f"--role={role}", "--condition=None", _QUIET, retry=True),), hint=_HINT)
        for member, role in iam.project_roles
    ]
    steps += [
        Step(title=f"bucket role {role} for {member}",
             absent=(gcloud("storage", "buckets", "add-iam-policy-binding", f"gs://{ctx.bucket}",
                            f"--member={ctx.member(member)}", f"--role={role}", _QUIET, retry=True),), hint=_HINT)
        for member, role in iam.bucket_roles
    ]
    steps += [
        Step(title=f"queue {queue} role {role} for {member}",
             absent=(gcloud("tasks", "queues", "add-iam-policy-binding", queue, f"--location={ctx.region}",
                            f"--member={ctx.member(member)}", f"--role={role}", _QUIET, retry=True),), hint=_HINT)
        for queue, member, role in iam.queue_roles
    ]
    steps += [
        Step(title=f"{role} on {account} for {member}",
             absent=(gcloud("iam", "service-accounts", "add-iam-policy-binding", ctx.service_account(account),
                            f"--member={ctx.member(member)}", f"--role={role}", _QUIET, retry=True),), hint=_HINT)
        for account, member, role in iam.service_account_roles
    ]
    steps += [
        Step(title=f"secret {secret} readable by {account}",
             absent=(gcloud("secrets", "add-iam-policy-binding", secret, f"--member={ctx.member(account)}",
                            "--role=roles/secretmanager.secretAccessor", _QUIET, retry=True),), hint=_HINT)
        for secret, account in infra.secret_accessors()
    ]
    return steps


def invoker_items(infra: Infra, ctx: DeployContext) -> list[Step]:
    """run.invoker on the functions that Cloud Tasks / Scheduler call, for the invoker account."""
    gcloud = Gcloud(ctx.project)
    return [
        Step(title=f"{member} may invoke {function}",
             absent=(gcloud("functions", "add-invoker-policy-binding", function, f"--region={ctx.region}",
                            f"--member={ctx.member(member)}", _QUIET, retry=True),), hint=_HINT)
        for function, member in infra.iam.function_invokers
    ]
