"""Errors of the blob store port.

    BlobError (Unavailable, 503)          the backend failed after retries
    ├── BlobNotFound (NotFound, 404)      no object at that key (or generation)
    └── GenerationMismatch (Conflict, 409) an if_generation_match precondition did not hold
"""

from __future__ import annotations

from shared.errors import Conflict, NotFound, Unavailable


class BlobError(Unavailable):
    code = "blob_store_unavailable"
    default_message = "The blob store is unavailable; try again."


class BlobNotFound(NotFound):
    code = "blob_not_found"
    default_message = "The object does not exist."


class GenerationMismatch(Conflict):
    code = "generation_mismatch"
    default_message = "The object changed since it was read."
