"""Chroma's side of the memory: our embedding function and a client that is really closed.

Imports ``chromadb``; only code that needs vectors imports this module.

* :class:`PlannerEmbeddingFunction` makes Chroma collections embed with the process's
  :class:`~shared.memory.embeddings.Embedder`, never with Chroma's default (which downloads).
* :func:`open_client` / :func:`close_client`: Chroma caches one "system" per path, so reopening a
  path whose files were replaced returns stale data. Every snapshot gets a fresh folder, and a
  client is closed (its system stopped, its SQLite and index files released) before the folder is
  uploaded, reused or deleted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import chromadb  # noqa: E402  (telemetry must be off before import)
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space  # noqa: E402
from chromadb.config import Settings  # noqa: E402
from chromadb.errors import InvalidArgumentError  # noqa: E402
from chromadb.utils.embedding_functions import register_embedding_function  # noqa: E402

from shared.memory.embeddings import Embedder, get_embedder  # noqa: E402

logger = logging.getLogger(__name__)

COLLECTION = "memory"
# What Chroma raises for a malformed request (a bad ``where`` filter): not a ValueError.
CHROMA_INVALID_ARGUMENT = (InvalidArgumentError, ValueError, TypeError)


@register_embedding_function
class PlannerEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by an :class:`Embedder` (the shared one by default)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        return self._embedder or get_embedder()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        return "planner_minilm_l6_v2"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "PlannerEmbeddingFunction":
        return PlannerEmbeddingFunction()

    def max_tokens(self) -> int:
        return 256


def open_client(path: Path) -> Any:
    """A persistent Chroma client on ``path`` (telemetry off, reset disabled)."""
    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False,
                                                                       allow_reset=False))


def close_client(client: Any) -> None:
    """Stop the client's system so the folder's files are complete and no cache refers to them."""
    try:
        client.close()
    except Exception:  # closing must not mask the caller's own error
        logger.exception("closing the Chroma client failed")


def memory_collection(client: Any, embedding_function: PlannerEmbeddingFunction) -> Any:
    """The tenant's one collection (created on first use, cosine space)."""
    return client.get_or_create_collection(
        COLLECTION, embedding_function=embedding_function, configuration={"hnsw": {"space": "cosine"}})
