"""Each bundle, copied into an empty folder, imports and answers GET /healthz under
functions-framework in the gcp profile, with the environment deploy.sh gives it.

Every bundle runs in a fresh virtualenv *without* system site packages that gets ONLY the bundle's
requirements.txt from PyPI (three installs in parallel; about two minutes in all with pip's cache),
so a missing requirement fails here. oauth and usage must not have chromadb or ortools installed;
agent, sync and web have them but load chromadb only on first use.

Nothing is contacted but 127.0.0.1: proxies and the metadata server point at a closed local port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from shared.deploy.bundle import build_bundle
from shared.deploy.context import DeployContext
from shared.deploy.infra import load_infra
from shared.deploy.requirements import normalize
from shared.deploy.resources.functions import render_env
from tests.deploy.conftest import ROOT
from tests.support.requires import unavailable

pytestmark = pytest.mark.slow

INFRA = load_infra(ROOT / "infra")
CTX = DeployContext(project="planner-test-1", region="europe-west1", release="bundle-test", project_number="123456789012",
                    bucket_template=INFRA.bucket.name, url_template=INFRA.url_template,
                    function_names=tuple(INFRA.functions))
PRESENT = [name for name in INFRA.functions if (ROOT / "functions" / name / "requirements.txt").is_file()
           and (ROOT / "functions" / name / "main.py").is_file()]
ADAPTER_MODULES = {"documents": "shared.store.firestore", "secrets": "shared.secrets.secretmanager",
                   "blobs": "shared.blobs.gcs", "tasks": "shared.taskqueue.cloudtasks"}
HEAVY = {"chromadb", "ortools"}
CLOSED = "127.0.0.1:9"  # nothing listens: any stray call fails fast, locally


def _names(lines) -> set[str]:
    return {normalize(line.split(";")[0].split("[")[0].split("~")[0].split("=")[0].split(">")[0].split("<")[0].strip())
            for line in lines}


def _is_light(name: str) -> bool:
    lines = (ROOT / "functions" / name / "requirements.txt").read_text().splitlines()
    return not HEAVY & _names(line for line in lines if line.strip() and not line.startswith("#"))


LIGHT = [name for name in PRESENT if _is_light(name)]
HEAVY_FUNCTIONS = [name for name in PRESENT if name not in LIGHT]


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> dict[str, Path]:
    """Each bundle built, then copied into its own empty folder (as the upload would be unpacked)."""
    base = tmp_path_factory.mktemp("bundles")
    model = base / "model-files"
    model.mkdir()
    (model / "model.onnx").write_bytes(b"stand-in: the health check never loads the model")
    (model / "tokenizer.json").write_text("{}")
    folders = {}
    for name in PRESENT:
        bundle = build_bundle(ROOT, name, base / "build", embedding_model=INFRA.functions[name].embedding_model,
                              environ={"PLANNER_EMBEDDING_MODEL_DIR": str(model)})
        target = base / "unpacked" / name
        shutil.copytree(bundle.path, target)
        folders[name] = target
    return folders


def _install(venv: Path, requirements: Path) -> subprocess.CompletedProcess[str]:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    return subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "-r", str(requirements)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def venvs(unpacked, tmp_path_factory) -> dict[str, Path]:
    """A fresh virtualenv per function with only its bundle's requirements (in parallel; pip's
    cache makes the heavy ones, with chromadb and ortools, take about a minute each)."""
    base = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = {name: pool.submit(_install, base / name, unpacked[name] / "requirements.txt") for name in PRESENT}
        done = {name: future.result() for name, future in results.items()}
    for name, result in done.items():
        if result.returncode != 0:
            if "Could not find a version" in result.stderr or "NewConnectionError" in result.stderr:
                unavailable(f"PyPI is not reachable to install the {name} bundle's requirements")
            pytest.fail(f"pip could not install the {name} bundle's requirements:\n{result.stderr[-2000:]}")
    return {name: base / name for name in PRESENT}


def _environment(name: str, bundle: Path, home: Path) -> dict[str, str]:
    """What deploy.sh gives the function (its env file, its mounted secrets), made local-only."""
    spec = INFRA.functions[name]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           **render_env(INFRA, CTX, spec)}
    for secret in spec.secrets:
        if not INFRA.secrets[secret].optional:
            env[INFRA.secrets[secret].env] = f"bundle-test-{secret}-0123456789abcdef"
    if spec.embedding_model:
        env["PLANNER_EMBEDDING_MODEL_DIR"] = str(bundle / "model")  # /workspace/model on Cloud Functions
    env.update(NO_GCE_CHECK="True", GCE_METADATA_HOST=CLOSED, GCE_METADATA_IP=CLOSED,
               HTTPS_PROXY=f"http://{CLOSED}", HTTP_PROXY=f"http://{CLOSED}", NO_PROXY="127.0.0.1,localhost")
    return env


PROBE = """
import importlib, importlib.util, json, os, sys
sys.path.insert(0, os.getcwd())
import shared
import main
for module in sys.argv[1:]:
    importlib.import_module(module)
print(json.dumps({
    "shared": shared.__file__,
    "chromadb_loaded": "chromadb" in sys.modules,
    "installed": sorted(n for n in ("chromadb", "ortools", "onnxruntime") if importlib.util.find_spec(n)),
}))
"""


def _probe(python: Path, name: str, bundle: Path, home: Path) -> dict:
    modules = [ADAPTER_MODULES[a] for a in INFRA.functions[name].adapters]
    done = subprocess.run([str(python), "-I", "-c", PROBE, *modules], cwd=bundle, capture_output=True, text=True,
                          env=_environment(name, bundle, home), timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(bin_dir: Path, name: str, bundle: Path, home: Path, log: Path) -> dict:
    port = _free_port()
    command = [str(bin_dir / "functions-framework"), "--target", INFRA.functions[name].entry_point,
               "--source", "main.py", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=bundle, env=_environment(name, bundle, home), stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a bound for a hung start, not a speed assertion
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                return {**response.json(), "http_status": response.status_code}
            except httpx.HTTPError:
                time.sleep(0.2)
        pytest.fail(f"{name} did not answer /healthz:\n{log.read_text()[-3000:]}")
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("name", LIGHT)
def test_light_bundle_runs_on_only_its_own_requirements(name, unpacked, venvs, tmp_path):
    bundle, venv = unpacked[name], venvs[name]
    probe = _probe(venv / "bin" / "python", name, bundle, tmp_path)
    assert probe["shared"].startswith(str(bundle))
    assert probe["installed"] == [] and not probe["chromadb_loaded"]
    assert not any(part.startswith(("chromadb", "ortools")) for part in os.listdir(_site_packages(venv)))
    health = _health(venv / "bin", name, bundle, tmp_path, tmp_path / "function.log")
    assert health["http_status"] == 200 and health["status"] == "ok"
    assert health["function"] == name and health["profile"] == "gcp" and health["release"] == "bundle-test"


@pytest.mark.parametrize("name", HEAVY_FUNCTIONS)
def test_heavy_bundle_runs_on_only_its_own_requirements(name, unpacked, venvs, tmp_path):
    bundle, venv = unpacked[name], venvs[name]
    shipped = _names(line for line in (bundle / "requirements.txt").read_text().splitlines()
                     if line and not line.startswith("#"))
    assert "functions-framework" in shipped and "chromadb" in shipped
    probe = _probe(venv / "bin" / "python", name, bundle, tmp_path)
    assert probe["shared"].startswith(str(bundle)), "the repository's shared/ leaked into the bundle's run"
    assert "chromadb" in probe["installed"] and not probe["chromadb_loaded"]  # loaded on first use only
    health = _health(venv / "bin", name, bundle, tmp_path, tmp_path / "function.log")
    assert health["http_status"] == 200 and health["status"] == "ok" and health["function"] == name and health["profile"] == "gcp"


def _site_packages(venv: Path) -> Path:
    (found,) = list((venv / "lib").glob("python3*/site-packages"))
    return found
