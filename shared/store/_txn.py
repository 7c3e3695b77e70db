"""Bookkeeping both adapters' transactions share: Firestore's reads-before-writes rule.

Firestore refuses a read after a write inside a transaction; the SQLite adapter enforces the same
rule so code that passes locally also runs on Firestore. ``create`` inside a transaction reads the
document first (to treat an expired one as absent), so it counts as a read unless the same path was
already read.
"""

from __future__ import annotations

from shared.errors import AppError


class TransactionMisuse(AppError):
    """A transaction callable broke the reads-before-writes rule (a programming error, 500)."""

    code = "transaction_misuse"
    default_message = "A transaction read a document after writing."


class ReadTracker:
    """Remembers which paths a transaction read (and whether they were live) and if it wrote."""

    def __init__(self) -> None:
        self._live: dict[str, bool] = {}
        self._wrote = False

    def before_read(self) -> None:
        if self._wrote:
            raise TransactionMisuse()

    def record_read(self, path: str, live: bool) -> None:
        self._live[path] = live

    def known(self, path: str) -> bool | None:
        """Whether ``path`` was read and found live (None if it was not read)."""
        return self._live.get(path)

    def record_write(self, path: str, live: bool) -> None:
        self._wrote = True
        self._live[path] = live
