"""Envelope encryption of tenant secrets: per-tenant data keys wrapped by a rotating KEK."""

from shared.crypto.envelope import KEK_SECRET, TokenCipher
from shared.crypto.errors import CryptoError, DecryptionError, KeyUnavailable
from shared.crypto.keyring import Keyring, generate_key, keyring_json, parse_keyring

__all__ = [
    "KEK_SECRET",
    "CryptoError",
    "DecryptionError",
    "KeyUnavailable",
    "Keyring",
    "TokenCipher",
    "generate_key",
    "keyring_json",
    "parse_keyring",
]
