"""Errors of the tenant memory (embeddings, Chroma snapshots in the blob store, the memory API).

    MemoryServiceError (Unavailable, 503)       the memory could not be read or published; retry
    ├── EmbeddingModelUnavailable (503)         the embedding model files are missing or corrupt
    ├── SnapshotCorrupt (503)                   a downloaded snapshot file failed its sha256 check
    ├── LeaseBusy (503)                         another writer holds the tenant's lease
    └── PublishContention (503)                 the publish lost the manifest race too many times
    InvalidMemoryDocument (InvalidRequest, 400) a document or query is malformed (names the field)

Messages never contain document text, file system paths or blob keys: those go to the log.
"""

from __future__ import annotations

from shared.errors import InvalidRequest, Unavailable


class MemoryServiceError(Unavailable):
    code = "memory_unavailable"
    default_message = "The memory store is unavailable; try again."


class EmbeddingModelUnavailable(MemoryServiceError):
    code = "embedding_model_unavailable"
    default_message = "The embedding model is not installed."


class SnapshotCorrupt(MemoryServiceError):
    code = "memory_snapshot_corrupt"
    default_message = "The memory snapshot could not be verified; try again."


class LeaseBusy(MemoryServiceError):
    code = "memory_lease_busy"
    default_message = "Another writer is updating this memory; try again."


class PublishContention(MemoryServiceError):
    code = "memory_publish_contention"
    default_message = "The memory changed too often while publishing; try again."


class InvalidMemoryDocument(InvalidRequest):
    code = "invalid_memory_document"
    default_message = "The memory document is invalid."
