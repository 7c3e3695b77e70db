"""Envelope encryption of tenant secrets (Notion access and refresh tokens) with AES-256-GCM.

Each tenant has one random 256-bit data key (DEK), created on first use and stored in the tenant's
documents at ``keys/data`` only wrapped under a key-encryption key (KEK) from the secret
``token-kek`` (see :mod:`shared.crypto.keyring`). A value is sealed under the DEK with associated
data binding tenant id, purpose and DEK id, so a ciphertext copied to another tenant or another
field does not open. Deleting ``keys/data`` (:meth:`TokenCipher.destroy_tenant_key`) makes every
ciphertext of the tenant unreadable, wherever copies of it survive.

The envelope (a JSON-storable dict)::

    {"v": 1, "alg": "A256GCM", "dek_id": "<hex>", "nonce": "<b64>", "ciphertext": "<b64>"}

It records the DEK id but not the KEK id: the KEK only wraps the DEK, so the KEK id is recorded on
``keys/data`` and rotating the KEK (:meth:`TokenCipher.rewrap_tenant_key`) rewrites one document
per tenant, never the ciphertexts.

Unwrapped DEKs are kept in memory for ``cache_seconds`` (default 60 s, at most ``cache_size``
tenants): a key destroyed by another instance may keep working on this one for that long.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto import datakey
from shared.crypto.cache import ExpiringCache
from shared.crypto.errors import CryptoError, DecryptionError, KeyUnavailable
from shared.crypto.keyring import Keyring, parse_keyring
from shared.ids import validate_tenant_id
from shared.secrets.base import SecretStore
from shared.store.base import DocumentStore, Transaction
from shared.store.errors import AlreadyExists

logger = logging.getLogger(__name__)

KEK_SECRET = "token-kek"
ENVELOPE_VERSION = 1
ALG = "A256GCM"
_PURPOSE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_CREATE_ATTEMPTS = 3


@dataclass(frozen=True)
class _DataKey:
    dek_id: str
    key: bytes = field(repr=False)


class TokenCipher:
    """Encrypts and decrypts per-tenant secrets; the only I/O is through ``store`` and ``secrets``."""

    def __init__(
        self,
        store: DocumentStore,
        secrets: SecretStore,
        *,
        kek_secret: str = KEK_SECRET,
        cache_seconds: float = 60.0,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._kek_secret = kek_secret
        self._deks: ExpiringCache[_DataKey] = ExpiringCache(ttl=cache_seconds, max_size=cache_size, clock=clock)

    # --- public API -------------------------------------------------------------------------
    def encrypt(self, plaintext: str, *, tenant_id: str, purpose: str) -> dict[str, Any]:
        """Seal ``plaintext`` for ``tenant_id`` and ``purpose`` (e.g. ``"notion.access_token"``)."""
        validate_tenant_id(tenant_id)
        _validate_purpose(purpose)
        if not isinstance(plaintext, str):
            raise CryptoError("Only text values can be encrypted.")
        dek = self._current_key(tenant_id)
        nonce = os.urandom(datakey.NONCE_BYTES)
        sealed = AESGCM(dek.key).encrypt(nonce, plaintext.encode("utf-8"), _aad(tenant_id, purpose, dek.dek_id))
        return {
            "v": ENVELOPE_VERSION,
            "alg": ALG,
            "dek_id": dek.dek_id,
            "nonce": _b64(nonce),
            "ciphertext": _b64(sealed),
        }

    def decrypt(self, envelope: dict[str, Any], *, tenant_id: str, purpose: str) -> str:
        """Open an envelope made by :meth:`encrypt` for the same tenant and purpose, else raise
        :class:`DecryptionError` (or :class:`KeyUnavailable` if the KEK cannot be had)."""
        validate_tenant_id(tenant_id)
        _validate_purpose(purpose)
        dek_id, nonce, sealed = _parse_envelope(envelope)
        dek = self._key_by_id(tenant_id, dek_id)
        try:
            plain = AESGCM(dek.key).decrypt(nonce, sealed, _aad(tenant_id, purpose, dek_id))
        except InvalidTag:
            raise DecryptionError("The encrypted value does not match this tenant, purpose or key.") from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:  # cannot happen for our own envelopes; don't leak bytes
            raise DecryptionError() from None

    def destroy_tenant_key(self, *, tenant_id: str) -> None:
        """Delete the tenant's data key: every ciphertext of the tenant becomes unreadable."""
        validate_tenant_id(tenant_id)
        self._store.delete(datakey.DATA_KEY_PATH, tenant_id=tenant_id)
        self._deks.pop(tenant_id)
        logger.info("destroyed the data key of a tenant", extra={"tenant_id": tenant_id})

    def rewrap_tenant_key(self, *, tenant_id: str) -> bool:
        """Re-seal the tenant's data key under the primary KEK (after a KEK rotation), so the old
        KEK can leave the keyring. Returns whether the record changed. Ciphertexts are untouched."""
        validate_tenant_id(tenant_id)
        keyring = self._keyring(refresh=True)

        def rewrap(txn: Transaction) -> bool:
            data = txn.get(datakey.DATA_KEY_PATH)
            if data is None:
                return False
            record = datakey.WrappedDataKey.from_document(data)
            if record.kek_id == keyring.primary:
                return False
            dek = datakey.unwrap(record, keyring=keyring, tenant_id=tenant_id)
            if dek is None:
                raise KeyUnavailable(f"No key of the secret {self._kek_secret!r} unwraps the tenant's data key.")
            fresh = datakey.wrap(dek, dek_id=record.dek_id, keyring=keyring, tenant_id=tenant_id)
            txn.set(datakey.DATA_KEY_PATH, fresh.to_document())
            return True

        changed = self._store.transaction(rewrap, tenant_id=tenant_id)
        if changed:
            logger.info("rewrapped a tenant data key under the primary KEK", extra={"tenant_id": tenant_id, "kek_id": keyring.primary})
        return changed

    # --- data keys --------------------------------------------------------------------------
    def _current_key(self, tenant_id: str) -> _DataKey:
        cached = self._deks.get(tenant_id)
        if cached is not None:
            return cached
        for _ in range(_CREATE_ATTEMPTS):
            data = self._store.get(datakey.DATA_KEY_PATH, tenant_id=tenant_id)
            if data is not None:
                return self._open_record(data, tenant_id=tenant_id)
            dek_id, key = datakey.new_data_key()
            record = datakey.wrap(key, dek_id=dek_id, keyring=self._keyring(), tenant_id=tenant_id)
            try:
                # create(): two first uses racing must not both write a key; the loser re-reads.
                self._store.create(datakey.DATA_KEY_PATH, record.to_document(), tenant_id=tenant_id)
            except AlreadyExists:
                continue
            logger.info("created a data key for a tenant", extra={"tenant_id": tenant_id})
            dek = _DataKey(dek_id=dek_id, key=key)
            self._deks.put(tenant_id, dek)
            return dek
        raise KeyUnavailable("The tenant's data key could not be created; try again.")

    def _key_by_id(self, tenant_id: str, dek_id: str) -> _DataKey:
        cached = self._deks.get(tenant_id)
        if cached is not None and cached.dek_id == dek_id:
            return cached
        # A miss, or the cache holds another DEK: the store is the authority.
        data = self._store.get(datakey.DATA_KEY_PATH, tenant_id=tenant_id)
        if data is None:
            raise DecryptionError("The data key of this value no longer exists.")
        dek = self._open_record(data, tenant_id=tenant_id)
        if dek.dek_id != dek_id:
            raise DecryptionError("The data key of this value no longer exists.")
        return dek

    def _open_record(self, data: dict[str, Any], *, tenant_id: str) -> _DataKey:
        record = datakey.WrappedDataKey.from_document(data)
        for refresh in (False, True):
            # A KEK this instance does not know yet (or a changed one) means the keyring rotated
            # since the secret was cached: fetch it once more before giving up.
            key = datakey.unwrap(record, keyring=self._keyring(refresh=refresh), tenant_id=tenant_id)
            if key is not None:
                dek = _DataKey(dek_id=record.dek_id, key=key)
                self._deks.put(tenant_id, dek)
                return dek
        logger.error("no KEK unwraps a tenant data key", extra={"tenant_id": tenant_id, "kek_id": record.kek_id})
        raise KeyUnavailable(f"No key of the secret {self._kek_secret!r} unwraps the tenant's data key.")

    def _keyring(self, *, refresh: bool = False) -> Keyring:
        value = self._secrets.get(self._kek_secret, refresh=refresh)
        return parse_keyring(value, secret_name=self._kek_secret, key_length=datakey.DEK_BYTES)


def _validate_purpose(purpose: object) -> None:
    if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
        raise CryptoError("The encryption purpose is invalid.")


def _aad(tenant_id: str, purpose: str, dek_id: str) -> bytes:
    # A JSON array is an unambiguous encoding of the bound fields.
    return json.dumps(["planner/token/v1", tenant_id, purpose, dek_id], separators=(",", ":")).encode()


def _parse_envelope(envelope: object) -> tuple[str, bytes, bytes]:
    if not isinstance(envelope, dict):
        raise DecryptionError("The encrypted value is malformed.")
    if envelope.get("v") != ENVELOPE_VERSION or envelope.get("alg") != ALG:
        raise DecryptionError("The encrypted value has an unsupported version.")
    dek_id = envelope.get("dek_id")
    if not isinstance(dek_id, str) or not dek_id:
        raise DecryptionError("The encrypted value is malformed.")
    try:
        nonce = base64.b64decode(envelope["nonce"], validate=True)
        sealed = base64.b64decode(envelope["ciphertext"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise DecryptionError("The encrypted value is malformed.") from None
    if len(nonce) != datakey.NONCE_BYTES or len(sealed) < 16:
        raise DecryptionError("The encrypted value is malformed.")
    return dek_id, nonce, sealed


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
