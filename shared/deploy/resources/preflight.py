"""Before anything changes: an active gcloud account, and a project that account can read (whose
number the plan needs: function URLs are https://NAME-PROJECT_NUMBER.REGION.run.app)."""

from __future__ import annotations

from shared.deploy.commands import Check, Command, Gate, Gcloud, Probe
from shared.deploy.context import DeployContext
from shared.deploy.errors import DeployPermissionDenied, NotAuthenticated


def project_number_command(ctx: DeployContext) -> Command:
    return Gcloud(ctx.project)("projects", "describe", ctx.project, "--format=value(projectNumber)")


def items(ctx: DeployContext) -> list[Gate]:
    account = Gate(
        title="gcloud account",
        checks=(Check("account", Probe(Command(("gcloud", "auth", "list", "--filter=status:ACTIVE",
                                                 "--format=value(account)")), test=lambda out: bool(out.strip()))),),
        fail=lambda _: NotAuthenticated("gcloud has no active account: run `gcloud auth login`."),
    )
    project = Gate(
        title=f"project {ctx.project}",
        checks=(Check("project", Probe(project_number_command(ctx), test=lambda out: out.strip().isdigit())),),
        fail=lambda _: DeployPermissionDenied(
            f"Project {ctx.project} cannot be read with the active account: check the id (--project) and that "
            "the account has a role on it (Owner, or the roles listed in the README)."),
        hint="the account needs a role on the project (Owner, or the roles listed in the README)",
    )
    return [account, project]
