"""A small, thread-safe, bounded cache whose entries expire after a fixed time.

Used to keep unwrapped data keys in memory briefly: long enough to spare a store read and an
unwrap per token operation, short enough that a key destroyed by another instance stops working
here soon after.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """At most ``max_size`` entries (least recently used evicted first), each valid ``ttl`` seconds
    measured on ``clock`` (monotonic by default; tests inject their own)."""

    def __init__(self, *, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1 or ttl < 0:
            raise ValueError("max_size must be >= 1 and ttl >= 0")
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self._ttl == 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
