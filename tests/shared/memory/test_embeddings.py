"""The real all-MiniLM-L6-v2 embedder: quality, faithfulness to the reference, padding, offline."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from shared.memory.embeddings import DIMENSION, Embedder, get_embedder
from shared.memory.errors import InvalidMemoryDocument
from shared.memory.model_files import FP32_MODEL_ID
from tests.shared.memory.reference_bert import FIXTURE

PARAPHRASE = ("Write the quarterly report for finance", "Prepare the finance team's quarterly report")
UNRELATED = "Buy groceries: milk, eggs and bread"
LONG = " ".join(["Plan the offsite agenda with venue, travel, budget and workshop sessions."] * 12)


def test_vectors_are_unit_length_float32(embedder):
    vectors = embedder.embed(["one", "two words", ""])
    assert vectors.shape == (3, DIMENSION)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_texts(embedder):
    a, b, c = embedder.embed([*PARAPHRASE, UNRELATED])
    assert float(a @ b) > 0.8
    assert float(a @ c) < 0.3
    assert float(a @ b) - float(a @ c) > 0.5


def test_matches_a_float64_reference_forward_pass(embedder):
    reference = json.loads(FIXTURE.read_text())
    expected = np.array(reference["vectors"])
    actual = embedder.embed(reference["texts"]).astype(np.float64)
    cosine = (actual * expected).sum(axis=1)
    if embedder.model_id == FP32_MODEL_ID:
        assert np.abs(actual - expected).max() < 1e-5  # measured: about 1e-7
    else:  # the int8 model: close in direction, not bit-faithful
        assert cosine.min() > 0.999


def test_padding_does_not_change_a_vector(embedder):
    alone = embedder.embed([PARAPHRASE[0]])[0]
    with_long = Embedder(embedder._model_files(), batch_size=8).embed([PARAPHRASE[0], LONG])[0]
    fixed_256 = Embedder(embedder._model_files(), pad_to=256).embed([PARAPHRASE[0]])[0]
    assert np.abs(alone - with_long).max() < 1e-5
    assert np.abs(alone - fixed_256).max() < 1e-5


def test_batches_keep_input_order_and_are_deterministic(embedder):
    texts = [f"task number {i} " + "word " * (i % 7) for i in range(70)]
    small_batches = Embedder(embedder._model_files(), batch_size=4)
    first, second = embedder.embed(texts), small_batches.embed(texts)
    singles = np.stack([embedder.embed_one(text) for text in texts[:5]])
    assert np.abs(first - second).max() < 1e-5
    assert np.abs(first[:5] - singles).max() < 1e-5
    assert np.array_equal(first, embedder.embed(texts))


def test_long_texts_are_truncated_not_rejected(embedder):
    vector = embedder.embed([LONG * 10])[0]
    assert np.isfinite(vector).all()


def test_empty_input_and_bad_types(embedder):
    assert embedder.embed([]).shape == (0, DIMENSION)
    with pytest.raises(InvalidMemoryDocument) as error:
        embedder.embed(["fine", 3])  # type: ignore[list-item]
    assert error.value.field == "texts[1]"


def test_works_without_network_and_is_thread_safe(embedder, no_network):
    model = Embedder(embedder._model_files())
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(model.embed([UNRELATED]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert all(np.abs(r - results[0]).max() < 1e-6 for r in results)
    assert no_network == []  # nothing even tried to connect


def test_shared_instance_is_one_per_process():
    assert get_embedder() is get_embedder()


def test_chroma_adapter_embeds_with_our_model(embedder, tmp_path, no_network):
    from shared.memory.chroma_adapter import PlannerEmbeddingFunction, close_client, memory_collection, open_client

    function = PlannerEmbeddingFunction(embedder)
    client = open_client(tmp_path / "chroma")
    try:
        collection = memory_collection(client, function)
        collection.add(ids=["a", "b"], documents=[PARAPHRASE[0], UNRELATED])
        hits = collection.query(query_texts=[PARAPHRASE[1]], n_results=1)
        stored = collection.get(ids=["a"], include=["embeddings"])["embeddings"][0]
    finally:
        close_client(client)
    assert hits["ids"] == [["a"]]
    assert np.abs(np.asarray(stored) - embedder.embed_one(PARAPHRASE[0])).max() < 1e-6
    assert PlannerEmbeddingFunction.name() == "planner_minilm_l6_v2"
    assert no_network == []
