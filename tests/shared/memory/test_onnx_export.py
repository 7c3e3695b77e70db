"""The ONNX exporter against the NumPy reference, on a tiny random BERT (no 90 MB weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.shared.memory.reference_bert import hidden_states

onnx = pytest.importorskip("onnx", reason="onnx is a setup-time dependency (requirements-dev.txt)")

CONFIG = {"hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 32,
          "layer_norm_eps": 1e-12, "vocab_size": 40, "max_position_embeddings": 24, "type_vocab_size": 2}


def _random_bert(seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    h, i = CONFIG["hidden_size"], CONFIG["intermediate_size"]

    def r(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.5, shape).astype(np.float32)

    weights = {
        "embeddings.word_embeddings.weight": r(CONFIG["vocab_size"], h),
        "embeddings.position_embeddings.weight": r(CONFIG["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": r(2, h),
        "embeddings.LayerNorm.weight": 1 + r(h) / 5, "embeddings.LayerNorm.bias": r(h) / 5,
    }
    for layer in range(CONFIG["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        for name, (rows, cols) in {"attention.self.query": (h, h), "attention.self.key": (h, h),
                                   "attention.self.value": (h, h), "attention.output.dense": (h, h),
                                   "intermediate.dense": (i, h), "output.dense": (h, i)}.items():
            weights[f"{p}.{name}.weight"], weights[f"{p}.{name}.bias"] = r(rows, cols), r(rows)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            weights[f"{p}.{name}.weight"], weights[f"{p}.{name}.bias"] = 1 + r(h) / 5, r(h) / 5
    return weights


def test_exported_graph_matches_the_reference_with_padding(tmp_path):
    import onnxruntime

    from shared.memory.onnx_export import build_model

    weights = _random_bert()
    model = build_model(weights, CONFIG)
    onnx.checker.check_model(model)
    path = tmp_path / "tiny.onnx"
    onnx.save_model(model, str(path))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in session.get_outputs()] == ["last_hidden_state"]

    sequences = [[1, 5, 9, 2], [1, 7, 3, 3, 11, 30, 2], [1, 2]]
    width = max(map(len, sequences))
    ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, seq in enumerate(sequences):
        ids[row, :len(seq)], mask[row, :len(seq)] = seq, 1
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]

    assert hidden.shape == (3, width, CONFIG["hidden_size"])
    for row, seq in enumerate(sequences):
        expected = hidden_states(weights, CONFIG, seq)
        # Real tokens are unaffected by the padding after them.
        assert np.abs(hidden[row, :len(seq)] - expected).max() < 1e-4
