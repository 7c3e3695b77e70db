"""Validation of tenant-relative document paths, collection paths and field paths.

Every adapter funnels caller input through here before it touches storage, so a path can never
leave ``users/{tenant_id}``: paths are relative, split on "/", and each segment must pass
:func:`shared.ids.validate_segment` (no empty segments, no "." or "..", no leading "/"). A document
path has an even number of segments ("" is the tenant's root document); a collection path has an
odd number. Errors name the argument, never echo it.
"""

from __future__ import annotations

import re

from shared.errors import InvalidRequest
from shared.ids import validate_segment, validate_tenant_id

# Field paths (filters, ordering, named queries): dot-separated identifiers. Stricter than
# Firestore (no back-quoted names) so they can be embedded in SQLite JSON paths safely.
_FIELD_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_MAX_SEGMENTS = 100  # Firestore's nesting limit


def tenant(tenant_id: object) -> str:
    """The validated tenant id (raises ``InvalidTenantId``)."""
    return validate_tenant_id(tenant_id)


def _segments(path: object, *, field: str) -> tuple[str, ...]:
    if not isinstance(path, str):
        raise InvalidRequest(f"The {field} must be a string.", field=field)
    if path == "":
        return ()
    parts = tuple(path.split("/"))
    if len(parts) > _MAX_SEGMENTS:
        raise InvalidRequest(f"The {field} is too deep.", field=field)
    for part in parts:
        validate_segment(part, field=field)
    return parts


def document(path: object, *, field: str = "path") -> tuple[str, ...]:
    """Segments of a document path relative to the tenant ("" = root, else an even count)."""
    parts = _segments(path, field=field)
    if len(parts) % 2:
        raise InvalidRequest(f"The {field} must name a document (collection/id).", field=field)
    return parts


def collection(path: object, *, field: str = "collection") -> tuple[str, ...]:
    """Segments of a collection path relative to the tenant (an odd, non-zero count)."""
    parts = _segments(path, field=field)
    if len(parts) % 2 == 0:
        raise InvalidRequest(f"The {field} must name a collection.", field=field)
    return parts


def parent(parts: tuple[str, ...]) -> str | None:
    """The collection path that holds a document (None for the tenant's root document)."""
    return "/".join(parts[:-1]) if parts else None


def field_path(field: object, *, name: str = "field") -> tuple[str, ...]:
    """Segments of a dotted field path (``a.b`` addresses ``{"a": {"b": ...}}``)."""
    if not isinstance(field, str) or not field:
        raise InvalidRequest(f"The {name} is invalid.", field=name)
    parts = tuple(field.split("."))
    if not all(_FIELD_SEGMENT.fullmatch(part) for part in parts) or any(
        part.startswith("__") and part.endswith("__") for part in parts
    ):
        raise InvalidRequest(f"The {name} is invalid.", field=name)
    return parts
