"""Opaque page cursors for usage logs: base64url of a small versioned JSON object.

A cursor only says "continue after this log id" within the caller's own tenant, so it needs no
signature: a forged one can only page through data the caller may read anyway. It is still
validated strictly, and a malformed one is a 400 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from shared.usage.errors import InvalidUsageQuery

_VERSION = 1
_LOG_ID = re.compile(r"^[0-9]{20}-[0-9a-f]{12}$")
_MAX_LENGTH = 200


def is_log_id(value: object) -> bool:
    return isinstance(value, str) and bool(_LOG_ID.fullmatch(value))


def encode_cursor(after_log_id: str) -> str:
    raw = json.dumps({"v": _VERSION, "after": after_log_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The log id a cursor continues after; :class:`InvalidUsageQuery` (field ``cursor``) otherwise."""
    invalid = InvalidUsageQuery("The cursor is invalid; start again from the first page.", field="cursor")
    if not isinstance(cursor, str) or not cursor or len(cursor) > _MAX_LENGTH:
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION or not is_log_id(payload.get("after")):
        raise invalid
    return payload["after"]
