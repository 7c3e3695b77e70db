"""Errors of the envelope-encryption package.

    CryptoError (AppError, 500)          something about keys or ciphertexts went wrong
    ├── KeyUnavailable (500)             the key-encryption key (``token-kek``) is missing or
    │                                    malformed, or no key in the keyring unwraps a data key
    └── DecryptionError (500)            a ciphertext is malformed, was tampered with, belongs to
                                         another tenant or purpose, or its data key was destroyed

Messages name the secret or the field at fault; they never contain key material, plaintext or
ciphertext.
"""

from __future__ import annotations

from shared.errors import AppError


class CryptoError(AppError):
    code = "crypto_error"
    default_message = "A cryptographic operation failed."


class KeyUnavailable(CryptoError):
    code = "key_unavailable"
    default_message = "An encryption key is unavailable."


class DecryptionError(CryptoError):
    code = "decryption_failed"
    default_message = "The encrypted value cannot be decrypted."
