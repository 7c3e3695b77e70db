"""``python -m shared.deploy plan|apply|bundle`` (what ``deploy.sh gcp`` calls).

    plan    --project P --region R [options]   print every command of a deployment, run none
    apply   --project P --region R [options]   deploy: create what is missing, update what changed
    bundle  [FUNCTION ...] [--out DIR]         only build the function bundles

Options: ``--release`` (Sentry release and PLANNER_RELEASE; default ``git describe``),
``--project-number`` (only useful in a dry run: a real run reads it; function URLs need it),
``--environment`` (default production), ``--alert-channel`` (a Monitoring notification channel
resource name, repeatable), ``--force`` (redeploy functions even when unchanged).
Exit codes: see :mod:`shared.deploy.errors` (2 for a bad command line).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from shared.deploy.bundle import Bundle, build_bundle
from shared.deploy.commands import Plan
from shared.deploy.context import DeployContext
from shared.deploy.errors import DeployError, ToolMissing
from shared.deploy.infra import Infra, load_infra
from shared.deploy.plan import build_plan
from shared.deploy.resources import preflight
from shared.deploy.runner import Runner, subprocess_executor

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = "build/bundles"


def _git_release(root: Path) -> str:
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=root, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unversioned"
    release = done.stdout.strip()
    return release if done.returncode == 0 and release else "unversioned"


def context_for(infra: Infra, args: argparse.Namespace, root: Path) -> DeployContext:
    return DeployContext(
        project=args.project, region=args.region, release=args.release or _git_release(root),
        environment=args.environment, bucket_template=infra.bucket.name,
        firestore_database=infra.firestore.database, url_template=infra.url_template,
        function_names=tuple(infra.functions), alert_channels=tuple(args.alert_channel or ()),
        project_number=args.project_number or "",
    )


def build_bundles(infra: Infra, root: Path, functions: list[str] | None = None, out: Path | None = None,
                  stream: TextIO = sys.stdout) -> dict[str, Bundle]:
    names = functions or list(infra.functions)
    unknown = [name for name in names if name not in infra.functions]
    if unknown:
        raise DeployError(f"Unknown function(s) {', '.join(unknown)}; infra/functions.json defines "
                          f"{', '.join(infra.functions)}.")
    out = out or root / BUNDLES
    bundles = {}
    for name in names:
        bundle = build_bundle(root, name, out, embedding_model=infra.functions[name].embedding_model,
                              environ=os.environ)
        stream.write(f"# bundle {name}: {os.path.relpath(bundle.path, root)} ({len(bundle.requirements)} requirements, "
                     f"digest {bundle.digest[:12]})\n")
        bundles[name] = bundle
    return bundles


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shared.deploy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("plan", "print every command, run none"), ("apply", "deploy to Google Cloud")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--project", required=True, help="Google Cloud project id")
        sub.add_argument("--region", required=True, help="region of the functions, queues, jobs and bucket")
        sub.add_argument("--release", help="release name (default: git describe)")
        sub.add_argument("--environment", default="production", help="environment name (Sentry, logs)")
        sub.add_argument("--alert-channel", action="append", metavar="CHANNEL",
                         help="projects/P/notificationChannels/ID to notify (repeatable)")
        sub.add_argument("--force", action="store_true", help="redeploy functions even when unchanged")
        sub.add_argument("--project-number", help="the project's number (a real run reads it; a dry run shows "
                                                  "PROJECT_NUMBER in URLs without it)")
    bundle = commands.add_parser("bundle", help="build the function bundles only")
    bundle.add_argument("functions", nargs="*", help="functions to bundle (default: all)")
    bundle.add_argument("--out", type=Path, help=f"output folder (default: {BUNDLES})")
    return parser


def main(argv: list[str] | None = None, *, root: Path = ROOT, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    try:
        infra = load_infra(root / "infra")
        if args.command == "bundle":
            build_bundles(infra, root, args.functions, args.out, out)
            return 0
        ctx = context_for(infra, args, root)
        dry_run = args.command == "plan"
        if not dry_run and shutil.which("gcloud") is None:
            raise ToolMissing("gcloud is not installed or not on PATH: install the Google Cloud CLI "
                              "(https://cloud.google.com/sdk/docs/install), or use --dry-run to only print the commands.")
        bundles = build_bundles(infra, root, stream=out)
        runner = Runner(execute=None if dry_run else subprocess_executor(root, out), root=root, out=out,
                        dry_run=dry_run)
        if not dry_run:
            runner.run(Plan(tuple(preflight.items(ctx))), final=False)
            number = runner.output(preflight.project_number_command(ctx)).strip()
            ctx = dataclasses.replace(ctx, project_number=number)
        runner.run(build_plan(infra, ctx, bundles, force=args.force, with_preflight=dry_run))
        return 0
    except DeployError as error:
        out.flush()
        sys.stderr.write(f"deploy: {error.message}\n")
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("deploy: interrupted\n")
        return 130
