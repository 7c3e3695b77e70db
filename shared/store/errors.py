"""Errors of the document store port.

    StoreError (Unavailable, 503)      the backend failed after retries
    ├── AlreadyExists (Conflict, 409)  create() of a document that exists (and has not expired)
    ├── PreconditionFailed (409)       an update_time precondition did not hold
    └── ContentionError (503)          a transaction kept losing races and gave up
"""

from __future__ import annotations

from shared.errors import Conflict, Unavailable


class StoreError(Unavailable):
    code = "store_unavailable"
    default_message = "The data store is unavailable; try again."


class AlreadyExists(Conflict):
    code = "already_exists"
    default_message = "The document already exists."


class PreconditionFailed(Conflict):
    code = "precondition_failed"
    default_message = "The document changed since it was read."


class ContentionError(StoreError):
    code = "contention"
    default_message = "The data store is busy; try again."
