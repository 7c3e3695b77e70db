"""Wrapping a tenant's data key (DEK) under a key-encryption key (KEK), and the stored record.

The record lives in the tenant's documents and never holds the DEK in the clear: it holds the DEK
sealed with AES-256-GCM under one KEK of the keyring, the id of that KEK (so the keyring can rotate
and old records still open), and the DEK's own id (which every ciphertext records, so a ciphertext
made under a destroyed DEK is recognised as such even after a new DEK was created).
"""

from __future__ import annotations

import base64
import binascii
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto.errors import KeyUnavailable
from shared.crypto.keyring import Keyring

DATA_KEY_PATH = "keys/data"
RECORD_VERSION = 1
DEK_BYTES = 32
NONCE_BYTES = 12  # the GCM standard nonce; random per message (at most a few per DEK lifetime)


@dataclass(frozen=True)
class WrappedDataKey:
    """The stored form of a tenant's data key."""

    dek_id: str
    kek_id: str
    nonce: bytes = field(repr=False)
    wrapped: bytes = field(repr=False)

    def to_document(self, *, now: datetime | None = None) -> dict[str, Any]:
        return {
            "version": RECORD_VERSION,
            "alg": "A256GCM",
            "dek_id": self.dek_id,
            "kek_id": self.kek_id,
            "nonce": _b64(self.nonce),
            "wrapped": _b64(self.wrapped),
            "wrapped_at": now or datetime.now(timezone.utc),
        }

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> "WrappedDataKey":
        try:
            if data.get("version") != RECORD_VERSION:
                raise ValueError("version")
            dek_id, kek_id = data["dek_id"], data["kek_id"]
            if not isinstance(dek_id, str) or not isinstance(kek_id, str):
                raise ValueError("ids")
            return cls(dek_id=dek_id, kek_id=kek_id, nonce=_unb64(data["nonce"]), wrapped=_unb64(data["wrapped"]))
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise KeyUnavailable("The tenant's stored data key record is malformed.") from None


def new_data_key() -> tuple[str, bytes]:
    """A fresh random DEK and its id."""
    return uuid.uuid4().hex, AESGCM.generate_key(bit_length=8 * DEK_BYTES)


def wrap(dek: bytes, *, dek_id: str, keyring: Keyring, tenant_id: str) -> WrappedDataKey:
    """Seal ``dek`` under the keyring's primary KEK, bound to the tenant and the DEK id."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keyring.primary_key).encrypt(nonce, dek, _wrap_aad(tenant_id, dek_id))
    return WrappedDataKey(dek_id=dek_id, kek_id=keyring.primary, nonce=nonce, wrapped=sealed)


def unwrap(record: WrappedDataKey, *, keyring: Keyring, tenant_id: str) -> bytes | None:
    """The DEK, or ``None`` if the keyring lacks the recorded KEK or that KEK does not open it
    (the caller may then refresh the keyring once: the KEK may have rotated)."""
    kek = keyring.get(record.kek_id)
    if kek is None:
        return None
    try:
        dek = AESGCM(kek).decrypt(record.nonce, record.wrapped, _wrap_aad(tenant_id, record.dek_id))
    except InvalidTag:
        return None
    return dek if len(dek) == DEK_BYTES else None


def _wrap_aad(tenant_id: str, dek_id: str) -> bytes:
    # NUL cannot occur in a validated tenant id or a uuid hex, so the encoding is unambiguous.
    return b"planner/dek/v1\x00" + tenant_id.encode() + b"\x00" + dek_id.encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not a string")
    return base64.b64decode(text, validate=True)
