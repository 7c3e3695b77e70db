"""Embedding throughput: dynamic padding (ours) against Chroma's fixed 256-token padding.

Same model files, same texts (task-like titles and notes of varied length), same process:

* baseline: Chroma's own ``ONNXMiniLM_L6_V2`` pointed at our model folder (no download), which
  pads every text to 256 tokens;
* our :class:`~shared.memory.embeddings.Embedder` forced to pad to 256 (isolates the padding);
* our :class:`~shared.memory.embeddings.Embedder` as used: length-sorted batches padded to the
  longest text of each batch.

Also prints the largest difference between Chroma's vectors and ours (padding must not change them).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench._runner import measure, report

WORDS = ("plan review draft budget call client report design sprint meeting invoice travel hire "
         "roadmap slides email follow-up doctor groceries gym offsite launch docs bug fix deploy "
         "quarterly weekly team finance marketing notes agenda research interview onboarding").split()


def texts(count: int = 64, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize()
        notes = " ".join(rng.choice(WORDS) for _ in range(rng.choice((0, 0, 10, 25, 60))))
        result.append(f"{title}. {notes}".strip())
    return result


def _chroma_embedder(model_dir: Path, files) -> object:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    # Chroma reads DOWNLOAD_PATH/onnx/{model.onnx,tokenizer.json}; it downloads unless four more
    # files exist too, which it never reads: empty placeholders keep it offline.
    folder = model_dir / "onnx"
    folder.mkdir(parents=True)
    for name, source in (("model.onnx", files.model), ("tokenizer.json", files.tokenizer)):
        (folder / name).symlink_to(source)
    for name in ("config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"):
        (folder / name).touch()
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = model_dir
    return ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])


def run(repeat: int = 3) -> list[dict]:
    from shared.memory.embeddings import Embedder
    from shared.memory.model_files import locate_model

    files = locate_model()
    sample = texts()
    ours = Embedder(files)
    fixed = Embedder(files, pad_to=256)
    with tempfile.TemporaryDirectory() as tmp:
        chroma = _chroma_embedder(Path(tmp), files)
        chroma_vectors = np.asarray(chroma(sample))  # also loads the model: not timed
        ours_vectors = ours.embed(sample)
        fixed.embed(sample[:1])
        baseline = measure("chroma ONNXMiniLM_L6_V2 (pad 256)", lambda: chroma(sample), repeat=repeat)
        padded = measure("Embedder, pad 256", lambda: fixed.embed(sample), repeat=repeat)
        dynamic = measure("Embedder, dynamic padding", lambda: ours.embed(sample), repeat=repeat)
    rows = report(f"Embedding {len(sample)} texts ({files.model_id})", baseline, [padded, dynamic], unit="s")
    for row in rows:
        row["texts_per_s"] = len(sample) / row["median_s"]
        print(f"{row['name']:<40} {row['texts_per_s']:>10.1f} texts/s")
    deviation = float(np.abs(chroma_vectors - ours_vectors).max())
    print(f"max |chroma - ours| over {len(sample)} vectors: {deviation:.2e}")
    print(f"speed-up of dynamic padding over chroma: {baseline.median / dynamic.median:.1f}x")
    return rows


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
