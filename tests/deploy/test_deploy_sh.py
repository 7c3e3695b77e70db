"""deploy.sh gcp against a stand-in gcloud on PATH: the exact command list of a first deploy, an
idempotent second run, a dry run that executes nothing, and clear errors with distinct exit codes."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import (
    PROJECT,
    REGION,
    RELEASE,
    FakeGcloud,
    copy_repository_subset,
    make_fake_gcloud,
    run_deploy,
    secret_names,
)

SNAPSHOT = Path(__file__).parent / "fixtures" / "first_deploy.txt"
ARGS = ("--project", PROJECT, "--region", REGION, "--release", RELEASE)
READ_ONLY = ("describe", "list")


def _snapshot_lines() -> list[str]:
    return [line for line in SNAPSHOT.read_text().splitlines() if line and not line.startswith("#")]


def _verb(command: str) -> str:
    words = [w for w in shlex.split(command)[1:] if not w.startswith("--")]
    for verb in ("describe", "list", "create", "update", "deploy", "enable", "add-iam-policy-binding",
                 "add-invoker-policy-binding", "add"):
        if verb in words:
            return verb
    raise AssertionError(f"no known verb in {command}")


def _project_with_secret_values(fake: FakeGcloud) -> None:
    """The README's order: the secrets were created with their values before the first deploy."""
    resources = {f"secret:{name}": True for name in secret_names()}
    fake.set_state(account="deployer@example.com", projects=[PROJECT], resources=resources,
                   secret_values=secret_names())


@dataclass(frozen=True)
class Deployed:
    tree: Path
    model: Path
    state: dict
    commands: list[str]
    stdout: str


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Deployed:
    """One first deploy (shared by the tests that start from a deployed project)."""
    base = tmp_path_factory.mktemp("first-deploy")
    tree = copy_repository_subset(base / "repo")
    model = base / "model"
    model.mkdir()
    (model / "model.onnx").write_bytes(b"onnx stand-in")
    (model / "tokenizer.json").write_text("{}")
    fake = make_fake_gcloud(base)
    _project_with_secret_values(fake)
    done = run_deploy(tree, fake, *ARGS, model=model)
    assert done.returncode == 0, done.stderr
    return Deployed(tree, model, fake.state(), fake.commands(), done.stdout)


def test_first_deploy_issues_exactly_the_snapshot_commands(deployed):
    if os.environ.get("UPDATE_DEPLOY_SNAPSHOT") == "1":
        SNAPSHOT.write_text("# The gcloud commands of a first deploy (tests/deploy/test_deploy_sh.py), secrets already\n"
                            "# holding values; the deploy label's hash is normalised. Regenerate with\n"
                            "# UPDATE_DEPLOY_SNAPSHOT=1 and review the diff.\n" + "\n".join(deployed.commands) + "\n")
    assert deployed.commands == _snapshot_lines()
    assert f"{len(secret_names())} unchanged" in deployed.stdout  # the secrets that already existed


def test_second_run_creates_nothing_and_skips_unchanged_functions(deployed, tmp_path):
    fake = make_fake_gcloud(tmp_path)
    fake.set_state(**deployed.state)

    again = run_deploy(deployed.tree, fake, *ARGS, model=deployed.model)

    assert again.returncode == 0, again.stderr
    second = fake.commands()
    verbs = {command: _verb(command) for command in second}
    assert not [c for c, verb in verbs.items() if verb in ("create", "deploy")], "a second run created something"
    assert set(verbs.values()) <= {"describe", "list", "update", "enable", "add-iam-policy-binding",
                                   "add-invoker-policy-binding"}
    assert sum(1 for c in deployed.commands if _verb(c) in ("create", "deploy")) > 20
    assert "0 created" in again.stdout
    assert fake.state() == deployed.state  # nothing the stand-in tracks changed


def test_changed_function_settings_redeploy_only_that_function(deployed, tmp_path):
    tree = tmp_path / "repo"
    shutil.copytree(deployed.tree, tree, ignore=shutil.ignore_patterns("build"))
    functions_json = tree / "infra" / "functions.json"
    settings = json.loads(functions_json.read_text())
    settings["functions"]["usage"]["timeout"] = "90s"
    functions_json.write_text(json.dumps(settings))
    fake = make_fake_gcloud(tmp_path)
    fake.set_state(**deployed.state)

    assert run_deploy(tree, fake, *ARGS, model=deployed.model).returncode == 0

    deploys = [c for c in fake.commands() if _verb(c) == "deploy"]
    assert len(deploys) == 1 and deploys[0].startswith("gcloud functions deploy usage ") and "--timeout=90s" in deploys[0]


def test_dry_run_executes_nothing_and_prints_every_command(deploy_tree, fake_gcloud, model_dir):
    # A real run reads the project number (function URLs hold it); a dry run is told it.
    done = run_deploy(deploy_tree, fake_gcloud, *ARGS, "--dry-run", "--project-number", "123456789012", model=model_dir)

    assert done.returncode == 0, done.stderr
    assert fake_gcloud.calls() == []
    printed = [line for line in done.stdout.splitlines() if line.startswith("gcloud ")]
    assert "assumed absent" in done.stdout
    # Every mutating command of a real first deploy is printed (the deploy hash aside), and every
    # probe is shown as a comment.
    shown = {line.split(" --update-labels=")[0] for line in printed}
    for command in _snapshot_lines():
        if _verb(command) not in READ_ONLY:
            assert command.split(" --update-labels=")[0] in shown, command
    assert sum(1 for line in printed if line.startswith("gcloud secrets create ")) == len(secret_names())
    assert "# describe, not run (dry run: assumed absent): gcloud tasks queues describe sync" in done.stdout


def test_empty_project_creates_secrets_then_stops_until_they_have_values(deploy_tree, fake_gcloud, model_dir):
    done = run_deploy(deploy_tree, fake_gcloud, *ARGS, model=model_dir)

    assert done.returncode == 6
    assert "have no value yet" in done.stderr and "gcloud secrets versions add csrf-secret --data-file=-" in done.stderr
    commands = fake_gcloud.commands()
    assert sum(1 for c in commands if c.startswith("gcloud secrets create ")) == len(secret_names())
    assert not any(_verb(c) == "deploy" for c in commands), "functions deployed without their secrets"

    # The operator adds the values (as the message says), then runs deploy.sh again.
    state = fake_gcloud.state()
    state["secret_values"] = [name for name in secret_names() if name != "sentry-dsn"]  # sentry is optional
    fake_gcloud.set_state(**state)
    fake_gcloud.clear_log()
    again = run_deploy(deploy_tree, fake_gcloud, *ARGS, model=model_dir)

    assert again.returncode == 0, again.stderr
    commands = fake_gcloud.commands()
    assert not any(c.startswith("gcloud secrets create ") for c in commands)
    deploys = [c for c in commands if _verb(c) == "deploy"]
    assert len(deploys) == len({c.split()[3] for c in deploys}) >= 4
    assert all("PLANNER_SENTRY_DSN" not in c for c in deploys), "an optional secret without a value was mounted"


def test_missing_gcloud_is_reported_with_exit_code_3(deploy_tree, tmp_path):
    bin_dir = tmp_path / "bare-bin"
    bin_dir.mkdir()
    for tool in ("dirname", "sed"):
        target = next(Path(p) / tool for p in os.environ["PATH"].split(os.pathsep) if (Path(p) / tool).exists())
        (bin_dir / tool).symlink_to(target)
    done = run_deploy(deploy_tree, None, *ARGS, path=str(bin_dir))
    assert done.returncode == 3
    assert "gcloud (the Google Cloud CLI) is not installed" in done.stderr


def test_missing_project_is_a_usage_error(deploy_tree, fake_gcloud):
    done = run_deploy(deploy_tree, fake_gcloud, "--region", REGION)
    assert done.returncode == 2 and "--project is required" in done.stderr
    assert fake_gcloud.calls() == []


def test_no_active_account_stops_before_any_change(deploy_tree, fake_gcloud, model_dir):
    fake_gcloud.set_state(projects=[PROJECT])
    done = run_deploy(deploy_tree, fake_gcloud, *ARGS, model=model_dir)
    assert done.returncode == 4 and "gcloud auth login" in done.stderr
    assert fake_gcloud.commands() == ["gcloud auth list --filter=status:ACTIVE '--format=value(account)'"]


def test_unreadable_project_is_a_permission_error(deploy_tree, fake_gcloud, model_dir):
    fake_gcloud.set_state(account="deployer@example.com", projects=[])
    done = run_deploy(deploy_tree, fake_gcloud, *ARGS, model=model_dir)
    assert done.returncode == 5
    assert f"Permission denied running `gcloud projects describe {PROJECT}" in done.stderr
    assert "the account needs a role on the project" in done.stderr
    assert all(_verb(c) in READ_ONLY for c in fake_gcloud.commands())


def test_permission_denied_names_the_command_and_what_to_grant(deploy_tree, fake_gcloud, model_dir):
    _project_with_secret_values(fake_gcloud)
    state = fake_gcloud.state()
    state["deny"] = ["tasks queues create"]
    fake_gcloud.set_state(**state)
    done = run_deploy(deploy_tree, fake_gcloud, *ARGS, model=model_dir)
    assert done.returncode == 5
    assert "Permission denied running `gcloud tasks queues create sync" in done.stderr
    assert "roles/cloudtasks.queueAdmin" in done.stderr
    assert not any(_verb(c) == "deploy" for c in fake_gcloud.commands())
