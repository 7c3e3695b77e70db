"""The blob store port: objects under a per-tenant prefix, with generation preconditions.

Every object of a tenant lives under ``tenants/{tenant_id}/``; callers pass keys relative to that
prefix and ``tenant_id`` as a required keyword-only argument. Keys are validated: no empty segment,
no ``.``/``..``, no backslash or control character, no leading slash, so no key can escape its
tenant's prefix on either adapter.

Generations follow GCS: every write of a key gives it a new, larger generation. Preconditions:
``if_generation_match=0`` means "only if the object does not exist"; a positive value means "only
if the live object has exactly this generation". A failed precondition raises
:class:`GenerationMismatch` and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from shared.errors import InvalidRequest
from shared.ids import validate_tenant_id

_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=+@-]{0,199}$")
MAX_KEY_LENGTH = 900


def tenant_prefix(tenant_id: str) -> str:
    return f"tenants/{validate_tenant_id(tenant_id)}/"


def validate_key(key: str, *, allow_empty: bool = False, field: str = "key") -> str:
    """Return a relative object key (or prefix) if it is safe; raise InvalidRequest otherwise."""
    if not isinstance(key, str):
        raise InvalidRequest(f"The {field} is invalid.", field=field)
    if key == "" and allow_empty:
        return key
    trimmed = key[:-1] if allow_empty and key.endswith("/") else key
    if not trimmed or len(trimmed) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"The {field} is invalid.", field=field)
    for segment in trimmed.split("/"):
        if segment in ("", ".", "..") or not _KEY_SEGMENT.fullmatch(segment):
            raise InvalidRequest(f"The {field} is invalid.", field=field)
    return key


def validate_generation_match(value: object) -> int | None:
    """An ``if_generation_match`` argument: None, 0 (must not exist) or a positive generation."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequest("The if_generation_match is invalid.", field="if_generation_match")
    return value


def validate_payload(data: object) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidRequest("The data must be bytes.", field="data")
    return bytes(data)


@dataclass(frozen=True)
class BlobInfo:
    key: str  # relative to the tenant prefix
    generation: int
    size: int


@dataclass(frozen=True)
class Blob:
    key: str
    data: bytes
    generation: int


@runtime_checkable
class BlobStore(Protocol):
    def read(self, key: str, *, tenant_id: str) -> Blob:
        """The live object; BlobNotFound if absent."""
    def write(self, key: str, data: bytes, *, tenant_id: str, if_generation_match: int | None = None,
              content_type: str = "application/octet-stream") -> int:
        """Store ``data``; return the new generation."""
    def delete(self, key: str, *, tenant_id: str, if_generation_match: int | None = None) -> None:
        """Delete the object; BlobNotFound if absent; GenerationMismatch if the precondition fails."""
    def stat(self, key: str, *, tenant_id: str) -> BlobInfo | None: ...
    def list(self, prefix: str = "", *, tenant_id: str) -> list[BlobInfo]:
        """Objects whose relative key starts with ``prefix``, sorted by key."""
    def delete_prefix(self, prefix: str = "", *, tenant_id: str) -> int:
        """Delete every object under ``prefix`` (the whole tenant when empty); return how many."""
