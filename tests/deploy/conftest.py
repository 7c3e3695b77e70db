"""Fixtures of the deploy tests: a throwaway copy of the repository with stub functions, and a
stand-in ``gcloud`` on PATH (tests/deploy/fake_gcloud.py) that records every call."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = tuple(json.loads((ROOT / "infra" / "functions.json").read_text())["functions"])
PROJECT, REGION, RELEASE = "planner-test-1", "europe-west1", "test-1"
_HASH = re.compile(r"planner_deploy=[0-9a-f]{20}")

STUB_MAIN = '''"""Stub function {name} for the deploy tests."""
from shared.runtime import bootstrap
from shared.web import Router

settings = bootstrap("{name}")
router = Router("{name}")
{name} = router.as_entry_point()
'''


def pytest_configure(config):
    # pytest.ini is shared; registering here keeps `-m slow` / `-m "not slow"` warning-free.
    config.addinivalue_line("markers", "slow: builds virtualenvs or runs external CLIs (minutes); still runs in CI")


def copy_repository_subset(target: Path) -> Path:
    """deploy.sh, requirements.txt, infra/ and shared/ of the real repository, and stub functions
    (so command lists do not change when a function's code does)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "deploy.sh", target / "deploy.sh")
    shutil.copy2(ROOT / "requirements.txt", target / "requirements.txt")
    shutil.copytree(ROOT / "infra", target / "infra", ignore=ignore)
    shutil.copytree(ROOT / "shared", target / "shared", ignore=ignore)
    for name in FUNCTIONS:
        folder = target / "functions" / name
        folder.mkdir(parents=True)
        (folder / "main.py").write_text(STUB_MAIN.format(name=name))
        (folder / "requirements.txt").write_text("functions-framework\nsentry-sdk\npydantic-settings\n")
    return target


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A stand-in embedding model folder (the bundler copies files; nothing loads them here)."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"onnx stand-in")
    (folder / "tokenizer.json").write_text("{}")
    return folder


@pytest.fixture
def deploy_tree(tmp_path) -> Path:
    return copy_repository_subset(tmp_path / "repo")


@dataclass
class FakeGcloud:
    bin: Path
    state_path: Path
    log_path: Path

    def set_state(self, **state) -> None:
        self.state_path.write_text(json.dumps(state))

    def state(self) -> dict:
        return json.loads(self.state_path.read_text())

    def calls(self) -> list[list[str]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def commands(self) -> list[str]:
        """Every call as a shell line, the deploy hash normalised (it digests the bundles' code)."""
        return [_HASH.sub("planner_deploy=<hash>", shlex.join(["gcloud", *argv])) for argv in self.calls()]

    def clear_log(self) -> None:
        self.log_path.write_text("")


def make_fake_gcloud(tmp_path: Path) -> FakeGcloud:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    script = bin_dir / "gcloud"
    # -S: no site initialisation; the stand-in needs only the standard library and starts faster.
    script.write_text(f"#!{sys.executable} -S\n" + (Path(__file__).parent / "fake_gcloud.py").read_text())
    script.chmod(0o755)
    fake = FakeGcloud(bin_dir, tmp_path / "gcloud-state.json", tmp_path / "gcloud-calls.jsonl")
    fake.set_state(account="deployer@example.com", projects=[PROJECT])
    fake.log_path.write_text("")
    return fake


@pytest.fixture
def fake_gcloud(tmp_path) -> FakeGcloud:
    return make_fake_gcloud(tmp_path)


def run_deploy(tree: Path, fake: FakeGcloud | None, *args: str, model: Path | None = None,
               path: str | None = None) -> subprocess.CompletedProcess[str]:
    """``bash deploy.sh gcp ARGS`` in ``tree`` with the stand-in gcloud first on PATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PLANNER_", "CLOUDSDK_"))}
    env["PYTHON"] = sys.executable
    env["PATH"] = path if path is not None else f"{fake.bin}{os.pathsep}{os.environ['PATH']}"
    if fake is not None:
        env["FAKE_GCLOUD_STATE"], env["FAKE_GCLOUD_LOG"] = str(fake.state_path), str(fake.log_path)
    if model is not None:
        env["PLANNER_EMBEDDING_MODEL_DIR"] = str(model)
    return subprocess.run([shutil.which("bash") or "/bin/bash", str(tree / "deploy.sh"), "gcp", *args],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=180)


def secret_names() -> list[str]:
    return list(json.loads((ROOT / "infra" / "secrets.json").read_text())["secrets"])
