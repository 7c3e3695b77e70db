"""Test doubles of the secrets port that model its cache, and a store wrapper that forces a race.

``CachingSecrets`` behaves like a cached Secret Manager: ``get(name)`` returns the value seen when
the name was first (or last force-) fetched, ``get(name, refresh=True)`` reads the backend, so
tests can rotate a secret "in Secret Manager" while an instance still holds the old value.
"""

from __future__ import annotations

import threading
from typing import Any

from shared.secrets.base import SecretNotFound


class CachingSecrets:
    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.backend: dict[str, str] = dict(values or {})
        self._cache: dict[str, str] = {}
        self.refreshes = 0

    def get(self, name: str, *, refresh: bool = False) -> str:
        if refresh:
            self.refreshes += 1
        if refresh or name not in self._cache:
            if name not in self.backend:
                raise SecretNotFound(f"The secret {name!r} is not configured.")
            self._cache[name] = self.backend[name]
        return self._cache[name]


class RacingStore:
    """Wraps a real document store; every ``get`` of ``path`` waits until ``parties`` callers have
    read it, so all of them see the document absent before any of them creates it."""

    def __init__(self, inner: Any, *, path: str, parties: int) -> None:
        self._inner = inner
        self._path = path
        self._barrier = threading.Barrier(parties, timeout=10)
        self._first_round = True
        self.creates = 0
        self._lock = threading.Lock()

    def get(self, path: str, *, tenant_id: str) -> Any:
        value = self._inner.get(path, tenant_id=tenant_id)
        if path == self._path and self._first_round:
            try:
                self._barrier.wait()
            finally:
                self._first_round = False
        return value

    def create(self, path: str, data: dict[str, Any], *, tenant_id: str) -> None:
        with self._lock:
            self.creates += 1
        self._inner.create(path, data, tenant_id=tenant_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
