"""Every command a deployment prints is accepted by the real gcloud's argument parser.

The Google Cloud CLI on this machine cannot reach Google, and is given an empty configuration (no
account), so each command stops right after parsing with "no active account" — or earlier, with
exit code 2, when a flag or value is wrong. One command per shape (command words + flag names) is
checked. Proxies point at a closed local port, so nothing leaves the machine.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.deploy.cli import main
from tests.deploy.conftest import PROJECT, REGION, copy_repository_subset

pytestmark = pytest.mark.slow
VERBS = {"describe", "create", "update", "list", "deploy", "enable", "add-iam-policy-binding",
         "add-invoker-policy-binding"}


def _commands(stdout: str) -> list[list[str]]:
    found = []
    for line in stdout.splitlines():
        probe = re.match(r"# (?:describe|check), not run .*?: (gcloud .*)$", line)
        if line.startswith("gcloud ") or probe:
            found.append(shlex.split(probe.group(1) if probe else line))
    shapes = {}
    for argv in found:
        words = [a for a in argv if not a.startswith("-")]
        verb = next(i for i, word in enumerate(words) if word in VERBS)
        path = tuple(words[:verb + 1] + (["http"] if words[verb + 1:verb + 2] == ["http"] else []))
        flags = tuple(sorted(a.split("=")[0] for a in argv if a.startswith("--")))
        shapes.setdefault((path, flags), argv)
    return list(shapes.values())


def test_real_gcloud_parses_every_command(tmp_path, model_dir, monkeypatch):
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("the Google Cloud CLI is not installed here (it is not a test dependency)")
    tree = copy_repository_subset(tmp_path / "repo")
    monkeypatch.setenv("PLANNER_EMBEDDING_MODEL_DIR", str(model_dir))
    out = io.StringIO()
    assert main(["plan", "--project", PROJECT, "--region", REGION, "--release", "syntax-1",
                 "--alert-channel", f"projects/{PROJECT}/notificationChannels/123"], root=tree, out=out) == 0
    commands = _commands(out.getvalue())
    assert len(commands) > 20
    config = tmp_path / "gcloud-config"
    config.mkdir()
    closed = "http://127.0.0.1:9"
    env = dict(os.environ, CLOUDSDK_CONFIG=str(config), CLOUDSDK_CORE_DISABLE_PROMPTS="1",
               CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK="1", CLOUDSDK_CORE_DISABLE_USAGE_REPORTING="true",
               HTTPS_PROXY=closed, HTTP_PROXY=closed, NO_PROXY="")

    def parse(argv: list[str]) -> tuple[list[str], subprocess.CompletedProcess[str]]:
        return argv, subprocess.run([gcloud, *argv[1:]], cwd=tree, env=env, capture_output=True, text=True,
                                    timeout=120)

    rejected = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for argv, done in pool.map(parse, commands):
            parsed = "active account" in done.stderr or (argv[1:3] == ["auth", "list"] and done.returncode == 0)
            if not parsed:
                rejected.append(f"{shlex.join(argv)}\n    -> exit {done.returncode}: {done.stderr.strip()[-400:]}")
    assert not rejected, "gcloud rejected:\n" + "\n".join(rejected)
