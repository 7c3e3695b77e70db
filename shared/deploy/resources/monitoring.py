"""Log-based metrics (describe, then create or update from a config file) and alert policies
(found by display name in one list, then created or updated from a policy file).

Files are written with placeholders filled; alert policies get the notification channels given on
the command line (``--alert-channel``), so re-running deploy keeps them.
"""

from __future__ import annotations

import json

from shared.deploy.commands import Command, Gcloud, Probe, Step
from shared.deploy.context import DeployContext
from shared.deploy.infra import Infra


def metric_file(name: str) -> str:
    return f"build/deploy/metrics/{name}.json"


def policy_file(stem: str) -> str:
    return f"build/deploy/alerts/{stem}.json"


def _policy_name(listing: str, display_name: str) -> str | None:
    try:
        found = json.loads(listing or "[]")
    except ValueError:
        return None
    for policy in found if isinstance(found, list) else []:
        if isinstance(policy, dict) and policy.get("displayName") == display_name:
            return str(policy.get("name"))
    return None


def metric_items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    steps = []
    for name, body in infra.metrics.items():
        path = metric_file(name)
        content = json.dumps(ctx.expand(body, f"alerts/metrics/{name}.json"), indent=2, sort_keys=True) + "\n"
        steps.append(Step(
            title=f"log metric {name}",
            probe=Probe(gcloud("logging", "metrics", "describe", name, "--format=value(name)")),
            absent=(gcloud("logging", "metrics", "create", name, f"--config-from-file={path}"),),
            present=(gcloud("logging", "metrics", "update", name, f"--config-from-file={path}"),),
            files=((path, content),),
            hint="log-based metrics need roles/logging.configWriter",
        ))
    return steps


def policy_items(infra: Infra, ctx: DeployContext) -> list[Step]:
    gcloud = Gcloud(ctx.project)
    listing = gcloud("alpha", "monitoring", "policies", "list", "--format=json")
    steps = []
    for stem, body in infra.policies.items():
        path = policy_file(stem)
        policy = {key: value for key, value in ctx.expand(body, f"alerts/{stem}.json").items() if not key.startswith("_")}
        policy["notificationChannels"] = list(ctx.alert_channels)
        policy.setdefault("userLabels", {})["app"] = "planner"
        display = policy["displayName"]

        def update(out: str, path: str = path, display: str = display) -> tuple[Command, ...]:
            return (gcloud("alpha", "monitoring", "policies", "update", str(_policy_name(out, display)),
                           f"--policy-from-file={path}"),)

        steps.append(Step(
            title=f"alert policy {display!r}",
            probe=Probe(listing, test=lambda out, display=display: _policy_name(out, display) is not None),
            absent=(gcloud("alpha", "monitoring", "policies", "create", f"--policy-from-file={path}"),),
            present=update,
            files=((path, json.dumps(policy, indent=2, sort_keys=True) + "\n"),),
            hint="alert policies need roles/monitoring.alertPolicyEditor",
        ))
    return steps
