"""Locating the model files: the environment variable is authoritative, nothing is downloaded."""

from __future__ import annotations

import json

import pytest

from shared.memory.errors import EmbeddingModelUnavailable
from shared.memory.model_files import ENV_VAR, FP32_MODEL_ID, INT8_MODEL_ID, locate_model


def _folder(path, *, info=None):
    path.mkdir(parents=True)
    (path / "model.onnx").write_bytes(b"onnx")
    (path / "tokenizer.json").write_text("{}")
    if info is not None:
        (path / "model.json").write_text(json.dumps(info))
    return path


def test_env_folder_wins_and_names_its_model(tmp_path):
    folder = _folder(tmp_path / "m", info={"model_id": INT8_MODEL_ID})
    files = locate_model({ENV_VAR: str(folder)})
    assert (files.model, files.tokenizer, files.model_id) == (folder / "model.onnx", folder / "tokenizer.json", INT8_MODEL_ID)


def test_chroma_download_layout_is_accepted(tmp_path):
    _folder(tmp_path / "all-MiniLM-L6-v2" / "onnx")
    files = locate_model({ENV_VAR: str(tmp_path / "all-MiniLM-L6-v2")})
    assert files.model.parent.name == "onnx"
    assert files.model_id == FP32_MODEL_ID


def test_incomplete_env_folder_raises_without_leaking_the_path(tmp_path):
    folder = tmp_path / "secret-location"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"x")
    with pytest.raises(EmbeddingModelUnavailable) as error:
        locate_model({ENV_VAR: str(folder)})
    assert "secret-location" not in error.value.message
    assert error.value.status == 503
