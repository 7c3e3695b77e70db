from __future__ import annotations

import pytest

from shared.crypto.cache import ExpiringCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_ttl():
    clock = Clock()
    cache: ExpiringCache[str] = ExpiringCache(ttl=60, max_size=10, clock=clock)
    cache.put("a", "x")
    clock.now += 59.9
    assert cache.get("a") == "x"
    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_size_is_bounded_least_recently_used_first():
    cache: ExpiringCache[int] = ExpiringCache(ttl=60, max_size=2, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert len(cache) == 2


def test_pop_clear_and_zero_ttl_disables():
    cache: ExpiringCache[int] = ExpiringCache(ttl=60, max_size=2, clock=Clock())
    cache.put("a", 1)
    cache.pop("a")
    cache.pop("missing")
    assert cache.get("a") is None
    cache.put("b", 2)
    cache.clear()
    assert len(cache) == 0
    off: ExpiringCache[int] = ExpiringCache(ttl=0, max_size=2, clock=Clock())
    off.put("a", 1)
    assert off.get("a") is None
    with pytest.raises(ValueError):
        ExpiringCache(ttl=1, max_size=0)
