"""The document store port (tenant-scoped) and its adapters: Firestore and SQLite."""

from shared.store.base import (
    EXPIRES_AT,
    Document,
    DocumentStore,
    Filter,
    Transaction,
)
from shared.store.errors import AlreadyExists, ContentionError, PreconditionFailed, StoreError

__all__ = [
    "EXPIRES_AT",
    "AlreadyExists",
    "ContentionError",
    "Document",
    "DocumentStore",
    "Filter",
    "PreconditionFailed",
    "StoreError",
    "Transaction",
]
