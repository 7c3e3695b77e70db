"""One deployable source folder per function: ``build/bundles/<fn>/``.

A bundle is what ``gcloud functions deploy --source`` uploads:

    main.py, ...          everything in functions/<fn>/ (its own files) but its requirements.txt
    shared/               the common library, without shared/localstack (the local stack),
                          shared/deploy (this tool) and shared/notion/sandbox (the fake Notion)
    requirements.txt      only this function's requirements (see shared.deploy.requirements)
    model/                the embedding model files, for functions that embed (agent, sync):
                          model.onnx + tokenizer.json (+ model.json), found like the code finds
                          them (shared.memory.model_files.locate_model), so nothing downloads
                          at run time; point PLANNER_EMBEDDING_MODEL_DIR at it
    .gcloudignore         keeps caches out of the upload

Caches (``__pycache__``, ``*.pyc``) are never copied. The bundle's digest (sha256 over every
relative path and content, in order) changes exactly when what would be deployed changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.deploy.errors import BundleError
from shared.deploy.requirements import resolve

logger = logging.getLogger(__name__)

EXCLUDED_FROM_SHARED = ("localstack", "deploy", "notion/sandbox")
MODEL_DIR = "model"
_IGNORED_NAMES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".DS_Store"}
_IGNORED_SUFFIXES = (".pyc", ".pyo")
GCLOUDIGNORE = "# written by shared.deploy: upload everything but caches\n__pycache__/\n*.pyc\n.gcloudignore\n"


@dataclass(frozen=True)
class Bundle:
    function: str
    path: Path
    requirements: tuple[str, ...]
    digest: str


def _ignored(name: str) -> bool:
    return name in _IGNORED_NAMES or name.endswith(_IGNORED_SUFFIXES)


def _copy_tree(source: Path, target: Path, skip: set[Path] = frozenset()) -> None:
    for entry in sorted(source.iterdir()):
        if _ignored(entry.name) or entry.resolve() in skip:
            continue
        destination = target / entry.name
        if entry.is_dir():
            destination.mkdir()
            _copy_tree(entry, destination, skip)
        elif entry.is_file():
            shutil.copyfile(entry, destination)


def _link_or_copy(source: Path, target: Path) -> None:
    # Model files are large and never modified: a hard link saves the copy when it can be made.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _copy_model(function: str, target: Path, environ: Mapping[str, str] | None) -> None:
    from shared.memory.errors import EmbeddingModelUnavailable
    from shared.memory.model_files import INFO_FILE, locate_model

    try:
        files = locate_model(environ)
    except EmbeddingModelUnavailable as exc:
        raise BundleError(f"The {function} bundle needs the embedding model: {exc.message}") from None
    folder = target / MODEL_DIR
    folder.mkdir()
    _link_or_copy(files.model, folder / "model.onnx")
    _link_or_copy(files.tokenizer, folder / "tokenizer.json")
    info = files.model.parent / INFO_FILE
    if info.is_file():
        shutil.copyfile(info, folder / INFO_FILE)


def digest(path: Path) -> str:
    """sha256 over the folder's relative file paths and contents, in sorted order."""
    total = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        total.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                total.update(block)
        total.update(b"\0")
    return total.hexdigest()


def build_bundle(repo: Path, function: str, out_root: Path, *, embedding_model: bool = False,
                 environ: Mapping[str, str] | None = None) -> Bundle:
    """(Re)build ``out_root/<function>/`` from ``repo``; return it with its requirements and digest."""
    repo, out_root = Path(repo).resolve(), Path(out_root).resolve()
    source = repo / "functions" / function
    if not (source / "main.py").is_file():
        raise BundleError(f"functions/{function}/main.py does not exist: the function named in infra/functions.json "
                          "has no code.")
    if not (source / "requirements.txt").is_file():
        raise BundleError(f"functions/{function}/requirements.txt does not exist: list that function's requirements "
                          "(package names; versions come from requirements.txt).")
    if (source / "shared").exists() or (source / MODEL_DIR).exists():
        raise BundleError(f"functions/{function}/ must not contain 'shared' or '{MODEL_DIR}': the bundle adds them.")
    requirements = resolve(source / "requirements.txt", repo / "requirements.txt")

    target = out_root / function
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _copy_tree(source, target, skip={(source / "requirements.txt").resolve()})
    (target / "shared").mkdir()
    _copy_tree(repo / "shared", target / "shared",
               skip={(repo / "shared" / excluded).resolve() for excluded in EXCLUDED_FROM_SHARED})
    header = (f"# {function}: generated by shared.deploy from functions/{function}/requirements.txt, "
              "versions from requirements.txt\n")
    (target / "requirements.txt").write_text(header + "\n".join(requirements) + "\n", encoding="utf-8")
    (target / ".gcloudignore").write_text(GCLOUDIGNORE, encoding="utf-8")
    if embedding_model:
        _copy_model(function, target, environ)
    bundle = Bundle(function, target, tuple(requirements), digest(target))
    logger.info("bundle %s built (%s)", function, bundle.digest[:12])
    return bundle
