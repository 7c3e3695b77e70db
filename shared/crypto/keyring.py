"""Keyrings: named symmetric keys with one primary, parsed from a secret's value.

A keyring secret holds either JSON ``{"primary": "<kid>", "keys": {"<kid>": "<base64 key>", ...}}``
or a single base64 key (which becomes the keyring ``{"default": key}``). New material is always
made with the primary key; older keys stay in the ring so values they protect still open, and are
removed once everything was moved to the primary (see ``TokenCipher.rewrap_tenant_key``).

Rotating from a single-key secret: publish ``{"primary": "k2", "keys": {"default": "<old>",
"k2": "<new>"}}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets as _random
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from shared.crypto.errors import KeyUnavailable

DEFAULT_KID = "default"
_KID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


@dataclass(frozen=True)
class Keyring:
    """Named keys (``kid -> bytes``) and the id of the primary one."""

    primary: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.primary not in self.keys:
            raise KeyUnavailable("The keyring's primary key is not among its keys.")
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @property
    def primary_key(self) -> bytes:
        return self.keys[self.primary]

    def get(self, kid: str) -> bytes | None:
        return self.keys.get(kid)

    def __repr__(self) -> str:  # never show key bytes
        return f"Keyring(primary={self.primary!r}, kids={sorted(self.keys)!r})"


def parse_keyring(value: str, *, secret_name: str, key_length: int | None = None, min_length: int = 32) -> Keyring:
    """Parse a keyring secret. ``key_length`` demands an exact size (AES-256: 32 bytes), otherwise
    every key must have at least ``min_length`` bytes. Raises :class:`KeyUnavailable` naming the
    secret (never its value) when the value is malformed."""
    text = (value or "").strip()
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except ValueError:
            raise KeyUnavailable(f"The secret {secret_name!r} is not valid JSON.") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("keys"), dict) or not isinstance(raw.get("primary"), str):
            raise KeyUnavailable(f"The secret {secret_name!r} must hold {{\"primary\": kid, \"keys\": {{kid: base64}}}}.")
        encoded = raw["keys"]
        primary = raw["primary"]
    else:
        encoded = {DEFAULT_KID: text}
        primary = DEFAULT_KID
    keys: dict[str, bytes] = {}
    for kid, b64 in encoded.items():
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise KeyUnavailable(f"The secret {secret_name!r} has an invalid key id.")
        key = _decode_key(b64, secret_name=secret_name, kid=kid)
        if key_length is not None and len(key) != key_length:
            raise KeyUnavailable(f"Key {kid!r} of the secret {secret_name!r} must be {key_length} bytes.")
        if key_length is None and len(key) < min_length:
            raise KeyUnavailable(f"Key {kid!r} of the secret {secret_name!r} must be at least {min_length} bytes.")
        keys[kid] = key
    if primary not in keys:
        raise KeyUnavailable(f"The primary key of the secret {secret_name!r} is not among its keys.")
    return Keyring(primary=primary, keys=keys)


def _decode_key(b64: object, *, secret_name: str, kid: str) -> bytes:
    if not isinstance(b64, str) or not b64.strip():
        raise KeyUnavailable(f"Key {kid!r} of the secret {secret_name!r} is empty.")
    text = b64.strip()
    try:
        # Accept both alphabets; pad as needed (operators paste keys from various tools).
        text = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyUnavailable(f"Key {kid!r} of the secret {secret_name!r} is not base64.") from None


def generate_key(length: int = 32) -> str:
    """A fresh random key, base64-encoded, for provisioning a keyring secret."""
    return base64.b64encode(_random.token_bytes(length)).decode("ascii")


def keyring_json(primary: str, keys: Mapping[str, str]) -> str:
    """The JSON value of a keyring secret (``keys`` maps kid to base64)."""
    return json.dumps({"primary": primary, "keys": dict(keys)}, sort_keys=True)
