"""Secret Manager secrets: created empty when missing (values are never passed, read or printed),
then a gate that every required secret has an enabled version before any function deploys."""

from __future__ import annotations

from shared.deploy.commands import Check, Gate, Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.errors import SecretValuesMissing
from shared.deploy.infra import Infra


def value_fact(secret: str) -> str:
    return f"secret-value:{secret}"


def add_value_hint(secret: str, project: str) -> str:
    return f"printf '%s' \"$VALUE\" | gcloud secrets versions add {secret} --data-file=- --project={project}"


def items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    return [
        Step(title=f"secret {name}", probe=Probe(gcloud("secrets", "describe", name, "--format=value(name)")),
             absent=(gcloud("secrets", "create", name, "--replication-policy=automatic", "--labels=app=planner"),),
             hint="creating secrets needs roles/secretmanager.admin")
        for name in infra.secrets
    ]


def values_gate(infra: Infra, ctx: DeployContext) -> Gate:
    gcloud = Gcloud(ctx.project)
    checks = tuple(
        Check(value_fact(name),
              Probe(gcloud("secrets", "versions", "list", name, "--filter=state:enabled", "--limit=1",
                           "--format=value(name)"), test=lambda out: bool(out.strip())),
              soft=spec.optional)
        for name, spec in infra.secrets.items()
    )

    def fail(facts: list[str]) -> SecretValuesMissing:
        names = [fact.split(":", 1)[1] for fact in facts]
        lines = "\n".join(f"  {name}: {infra.secrets[name].description}\n    {add_value_hint(name, ctx.project)}"
                          + (f"\n    (generate one: {infra.secrets[name].generate})" if infra.secrets[name].generate else "")
                          for name in names)
        return SecretValuesMissing(
            "These secrets exist but have no value yet, so the functions were not deployed. Add each value "
            f"(VALUE in your shell, never on the command line), then run deploy.sh again:\n{lines}", secrets=names)

    return Gate(title="secret values", checks=checks, fail=fail,
                hint="reading secret versions needs roles/secretmanager.viewer")
