"""Bundles: the function's own files plus shared/ (minus the local-only and deploy-only parts), its
own requirements only, the embedding model where the function embeds, and a content digest."""

from __future__ import annotations

import pytest

from shared.deploy.bundle import EXCLUDED_FROM_SHARED, build_bundle
from shared.deploy.errors import BundleError
from shared.deploy.infra import load_infra
from shared.deploy.requirements import normalize, resolve
from tests.deploy.conftest import ROOT, copy_repository_subset

INFRA = load_infra(ROOT / "infra")
PRESENT = [name for name in INFRA.functions if (ROOT / "functions" / name / "main.py").is_file()]
HEAVY = {"chromadb", "ortools", "onnxruntime", "torch"}


def _names(requirements) -> set[str]:
    return {normalize(line.split(";")[0].split("[")[0].split("~")[0].split("=")[0].split(">")[0].split("<")[0].strip())
            for line in requirements}


@pytest.mark.parametrize("function", PRESENT)
def test_bundle_holds_the_function_shared_and_only_its_requirements(tmp_path, model_dir, function):
    bundle = build_bundle(ROOT, function, tmp_path, embedding_model=INFRA.functions[function].embedding_model,
                          environ={"PLANNER_EMBEDDING_MODEL_DIR": str(model_dir)})
    files = {p.relative_to(bundle.path).as_posix() for p in bundle.path.rglob("*") if p.is_file()}
    assert "main.py" in files and "shared/web.py" in files and "shared/runtime.py" in files
    for excluded in EXCLUDED_FROM_SHARED:
        assert not any(f.startswith(f"shared/{excluded}/") for f in files), excluded
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)
    own = resolve(ROOT / "functions" / function / "requirements.txt", ROOT / "requirements.txt")
    shipped = [line for line in (bundle.path / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert shipped == own == list(bundle.requirements)
    if INFRA.functions[function].embedding_model:
        assert {"model/model.onnx", "model/tokenizer.json"} <= files
    else:
        assert not any(f.startswith("model/") for f in files)


@pytest.mark.parametrize("function", [f for f in ("oauth", "usage") if f in PRESENT])
def test_oauth_and_usage_do_not_ship_chromadb_or_ortools(tmp_path, function):
    bundle = build_bundle(ROOT, function, tmp_path)
    assert not HEAVY & _names(bundle.requirements)
    assert not any(part in HEAVY for p in bundle.path.rglob("*") for part in p.relative_to(bundle.path).parts)
    assert not (bundle.path / "model").exists()


def test_functions_that_ship_chromadb_also_ship_the_embedding_model():
    for name in PRESENT:
        own = resolve(ROOT / "functions" / name / "requirements.txt", ROOT / "requirements.txt")
        assert ("chromadb" in _names(own)) == INFRA.functions[name].embedding_model, name


def test_digest_is_stable_and_follows_the_content(tmp_path):
    tree = copy_repository_subset(tmp_path / "repo")
    first = build_bundle(tree, "usage", tmp_path / "a").digest
    assert build_bundle(tree, "usage", tmp_path / "b").digest == first
    (tree / "functions" / "usage" / "main.py").write_text("# changed\n")
    assert build_bundle(tree, "usage", tmp_path / "a").digest != first


def test_missing_code_or_requirements_are_named(tmp_path):
    tree = copy_repository_subset(tmp_path / "repo")
    (tree / "functions" / "usage" / "requirements.txt").unlink()
    with pytest.raises(BundleError, match="functions/usage/requirements.txt does not exist"):
        build_bundle(tree, "usage", tmp_path / "out")
    with pytest.raises(BundleError, match="functions/nobody/main.py does not exist"):
        build_bundle(tree, "nobody", tmp_path / "out")


def test_a_function_that_embeds_needs_the_model(tmp_path):
    tree = copy_repository_subset(tmp_path / "repo")
    with pytest.raises(BundleError, match="agent bundle needs the embedding model"):
        build_bundle(tree, "agent", tmp_path / "out", embedding_model=True,
                     environ={"PLANNER_EMBEDDING_MODEL_DIR": str(tmp_path / "empty")})
