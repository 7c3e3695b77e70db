"""Notion's webhook signature: ``X-Notion-Signature: sha256=<hex HMAC-SHA256(raw body, token)>``.

The HMAC is computed over the **raw** request bytes (a re-serialised JSON would not match) with the
subscription's verification token as key, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Notion-Signature"
_PREFIX = "sha256="


def sign(body: bytes, verification_token: str) -> str:
    """The ``X-Notion-Signature`` value Notion sends for ``body``."""
    return _PREFIX + hmac.new(verification_token.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, header: str | None, verification_token: str) -> bool:
    """True if ``header`` is the signature of ``body`` under ``verification_token``."""
    if not header or not verification_token:
        return False
    provided = header.strip()
    if provided[: len(_PREFIX)].lower() != _PREFIX:
        return False
    # Hex is case-insensitive; normalise before the constant-time comparison.
    provided = _PREFIX + provided[len(_PREFIX):].lower()
    return hmac.compare_digest(sign(body, verification_token).encode(), provided.encode("ascii", "replace"))
