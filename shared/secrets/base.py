"""The secrets port: named secrets, cached with an expiry, with a forced refresh.

Secret names are short identifiers (``token-kek``, ``session-keys``). ``get(name)`` returns the
latest version's value, cached for ``secret_cache_seconds``; ``get(name, refresh=True)`` bypasses
the cache (after a decryption failure that may mean the key rotated). Values never appear in logs
or errors: errors name the secret, not its value.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shared.errors import Unavailable


class SecretNotFound(Unavailable):
    code = "secret_missing"
    default_message = "A required secret is not configured."


@runtime_checkable
class SecretStore(Protocol):
    def get(self, name: str, *, refresh: bool = False) -> str: ...
