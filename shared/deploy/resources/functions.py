"""Cloud Functions (2nd gen): one ``gcloud functions deploy`` per function, skipped when unchanged.

``gcloud functions deploy`` creates or updates by itself; it is still skipped when nothing changed,
because every deploy builds a new image and revision. The deploy carries a label
``planner_deploy=<hash>`` of everything deployed (bundle digest, env file, every flag), and the
probe reads it back: same hash, no deploy (``--force`` redeploys anyway, e.g. to pick up a new
version of an env-mounted secret, which instances read when they start).

Environment variables go through an env file (``PLANNER_FUNCTION_URLS`` is JSON, which
``--set-env-vars`` cannot carry); secrets are mounted with ``--set-secrets NAME=secret:latest``
(an optional secret only when it has a value).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from shared.deploy.bundle import Bundle
from shared.deploy.commands import Deferred, Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import FunctionSpec, Infra
from shared.deploy.resources.secrets import value_fact

LABEL = "planner_deploy"


def env_file(name: str) -> str:
    return f"build/deploy/env/{name}.yaml"


def render_env(infra: Infra, ctx: DeployContext, spec: FunctionSpec) -> dict[str, str]:
    """The function's environment variables with every placeholder filled."""
    return {key: ctx.expand(value, f"functions.json: functions.{spec.name}.env.{key}")
            for key, value in sorted(spec.env.items())}


def _secret_flag(infra: Infra, spec: FunctionSpec, facts: Mapping[str, bool]) -> str | None:
    mounts = [f"{infra.secrets[name].env}={name}:latest" for name in spec.secrets
              if not infra.secrets[name].optional or facts.get(value_fact(name), True)]
    return "--set-secrets=" + ",".join(mounts) if mounts else None


def _step(infra: Infra, ctx: DeployContext, spec: FunctionSpec, bundle: Bundle, facts: Mapping[str, bool],
          force: bool) -> Step:
    gcloud = Gcloud(ctx.project)
    # JSON is YAML: gcloud reads the env file with a YAML parser, and JSON quotes every value safely.
    env = json.dumps(render_env(infra, ctx, spec), indent=2, sort_keys=True) + "\n"
    flags = [
        "--gen2", f"--region={ctx.region}", f"--runtime={infra.runtime}", f"--source=build/bundles/{spec.name}",
        f"--entry-point={spec.entry_point}", "--trigger-http", "--allow-unauthenticated",
        f"--service-account={ctx.service_account(spec.service_account)}",
        f"--memory={spec.memory}", f"--cpu={spec.cpu}", f"--timeout={spec.timeout}",
        f"--min-instances={spec.min_instances}", f"--max-instances={spec.max_instances}",
        f"--concurrency={spec.concurrency}", f"--env-vars-file={env_file(spec.name)}",
    ]
    secrets = _secret_flag(infra, spec, facts)
    flags.append(secrets if secrets else "--clear-secrets")
    fingerprint = hashlib.sha256("\0".join([bundle.digest, env, *flags]).encode()).hexdigest()[:20]
    deploy = gcloud("functions", "deploy", spec.name, *flags, f"--update-labels={LABEL}={fingerprint}")
    probe = None if force else Probe(
        gcloud("functions", "describe", spec.name, f"--region={ctx.region}", f"--format=value(labels.{LABEL})"),
        test=lambda out: out.strip() == fingerprint)
    return Step(title=f"function {spec.name}", probe=probe, absent=(deploy,), present=(),
                files=((env_file(spec.name), env),),
                hint="deploying functions needs roles/cloudfunctions.developer and roles/iam.serviceAccountUser "
                     "on the function's service account")


def items(infra: Infra, ctx: DeployContext, bundles: Mapping[str, Bundle], *, force: bool = False) -> list[Deferred]:
    return [
        Deferred(title=f"function {name}",
                 build=lambda facts, spec=spec: _step(infra, ctx, spec, bundles[spec.name], facts, force))
        for name, spec in infra.functions.items() if name in bundles
    ]
