"""Build an fp32 ONNX graph of all-MiniLM-L6-v2 (a 6-layer BERT) from its official safetensors.

Setup-time only (``python -m shared.memory.fetch_model`` calls it): it needs the ``onnx`` and
``safetensors`` packages, which the functions do not ship. The graph has exactly the inputs and
output of the file Chroma downloads for its default embedding function::

    input_ids, attention_mask, token_type_ids : int64 [batch, sequence]
    last_hidden_state                         : float32 [batch, sequence, 384]

so pooling and normalisation stay outside the model (see :mod:`shared.memory.embeddings`). The
operations follow Hugging Face's ``BertModel`` in eval mode: embeddings (word + position + token
type) and LayerNorm, then per layer self-attention with an additive mask, residual + LayerNorm,
an erf GELU feed-forward, residual + LayerNorm.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17  # LayerNormalization is a standard op from 17 on; onnxruntime supports it natively.
_MASK_MIN = float(np.finfo(np.float32).min)  # what transformers adds at masked positions


class _Graph:
    """Accumulates nodes and initializers with unique names."""

    def __init__(self, helper, numpy_helper) -> None:
        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(self.numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], **attrs))
        return out


def _f32(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)


def build_model(weights: dict[str, np.ndarray], config: dict[str, Any]):
    """Return an ``onnx.ModelProto`` for the BERT described by ``config`` with ``weights``."""
    from onnx import TensorProto, helper, numpy_helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    g = _Graph(helper, numpy_helper)

    def linear(x: str, prefix: str) -> str:
        # torch Linear stores weight as [out, in]; MatMul wants [in, out].
        w = g.const(f"{prefix}.weight_t", _f32(weights[f"{prefix}.weight"].T))
        b = g.const(f"{prefix}.bias", _f32(weights[f"{prefix}.bias"]))
        return g.op("Add", [g.op("MatMul", [x, w]), b])

    def layer_norm(x: str, prefix: str) -> str:
        w = g.const(f"{prefix}.weight", _f32(weights[f"{prefix}.weight"]))
        b = g.const(f"{prefix}.bias", _f32(weights[f"{prefix}.bias"]))
        return g.op("LayerNormalization", [x, w, b], axis=-1, epsilon=eps)

    # Embeddings.
    word = g.op("Gather", [g.const("word_embeddings", _f32(weights["embeddings.word_embeddings.weight"])), "input_ids"])
    token_type = g.op("Gather", [g.const("token_type_embeddings", _f32(weights["embeddings.token_type_embeddings.weight"])),
                                 "token_type_ids"])
    seq_len = g.op("Gather", [g.op("Shape", ["input_ids"]), g.const("one_scalar", np.array(1, dtype=np.int64))])
    positions = g.op("Range", [g.const("zero_i64", np.array(0, dtype=np.int64)), seq_len,
                               g.const("one_i64", np.array(1, dtype=np.int64))])
    position = g.op("Gather", [g.const("position_embeddings", _f32(weights["embeddings.position_embeddings.weight"])), positions])
    x = layer_norm(g.op("Add", [g.op("Add", [word, token_type]), position]), "embeddings.LayerNorm")

    # Additive attention mask [batch, 1, 1, sequence]: 0 where attended, float32 min where padded.
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.const("one_f32", np.array(1.0, dtype=np.float32)), mask])
    bias = g.op("Mul", [inverted, g.const("mask_min", np.array(_MASK_MIN, dtype=np.float32))])
    bias = g.op("Unsqueeze", [bias, g.const("mask_axes", np.array([1, 2], dtype=np.int64))])

    split_heads = g.const("split_heads_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = g.const("merge_heads_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("attention_scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    half = g.const("half", np.array(0.5, dtype=np.float32))
    one = "one_f32"
    inv_sqrt2 = g.const("inv_sqrt2", np.array(1.0 / math.sqrt(2.0), dtype=np.float32))

    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}"
        q = g.op("Transpose", [g.op("Reshape", [linear(x, f"{p}.attention.self.query"), split_heads])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [linear(x, f"{p}.attention.self.key"), split_heads])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [linear(x, f"{p}.attention.self.value"), split_heads])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        x = layer_norm(g.op("Add", [linear(context, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")
        gelu = g.op("Mul", [g.op("Mul", [inner, half]), g.op("Add", [g.op("Erf", [g.op("Mul", [inner, inv_sqrt2])]), one])])
        x = layer_norm(g.op("Add", [linear(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dims)
         for name in ("input_ids", "attention_mask", "token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*dims, hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="shared.memory.onnx_export")
    model.ir_version = 8  # readable by every onnxruntime since 1.10
    return model


def export(model_dir: Path, output: Path) -> Path:
    """Read ``config.json`` and ``model.safetensors`` from ``model_dir``; write the ONNX file."""
    import onnx
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    model = build_model(load_file(str(model_dir / "model.safetensors")), config)
    onnx.checker.check_model(model)
    output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(output))
    return output
