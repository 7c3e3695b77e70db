"""What the memory stores and returns: documents, hits, and the metadata rules Chroma needs.

Chroma metadata values are ``str``, ``int``, ``float`` or ``bool``. :func:`clean_metadata` turns
richer values into those: lists, tuples and sets become comma-separated strings (so a ``where``
``$contains`` can still match a tag), dates and datetimes ISO-8601 strings, Decimals and enums
their string/value, nested dicts JSON; ``None`` is dropped (Chroma cannot store null). Anything
else, a non-finite float, or a key Chroma reserves raises :class:`InvalidMemoryDocument` naming the
field.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from shared.memory.errors import InvalidMemoryDocument

MAX_ID_LENGTH = 512
MAX_TEXT_LENGTH = 100_000  # characters; the model reads the first 256 tokens anyway
MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class MemoryDocument:
    """A document to remember: a stable id (e.g. the Notion page id), its text, flat metadata."""

    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MemoryHit:
    """A search result; ``score`` is the cosine similarity to the query (1.0 = same direction)."""

    id: str
    text: str
    metadata: dict[str, MetadataValue]
    score: float


def check_id(value: object, *, field: str = "id") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise InvalidMemoryDocument(f"The {field} must be a non-empty printable string of at most "
                                    f"{MAX_ID_LENGTH} characters.", field=field)
    return value


def _scalar(value: Any, name: str) -> MetadataValue | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMemoryDocument(f"The metadata field {name} must be a finite number.", field=name)
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise InvalidMemoryDocument(f"The metadata field {name} has an unsupported type.", field=name)


def _metadata_value(value: Any, name: str) -> MetadataValue | None:
    if isinstance(value, list | tuple | set | frozenset):
        items = [_scalar(item, name) for item in value]
        parts = [str(item).lower() if isinstance(item, bool) else str(item) for item in items if item is not None]
        # Sets have no order; sort them so the same set always gives the same string.
        return ",".join(sorted(parts) if isinstance(value, set | frozenset) else parts)
    if isinstance(value, Mapping):
        try:
            return json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError) as exc:
            raise InvalidMemoryDocument(f"The metadata field {name} cannot be stored.", field=name) from exc
    return _scalar(value, name)


def clean_metadata(metadata: Mapping[str, Any] | None, *, field: str = "metadata") -> dict[str, MetadataValue]:
    """Return ``metadata`` as Chroma can store it (see the module docstring)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidMemoryDocument(f"The {field} must be a mapping.", field=field)
    cleaned: dict[str, MetadataValue] = {}
    for key, value in metadata.items():
        # Chroma rejects "" and "#..." and silently drops "chroma:..." keys.
        if not isinstance(key, str) or not key or key.startswith(("#", "chroma:")) or len(key) > 256:
            raise InvalidMemoryDocument(f"A key of {field} is invalid.", field=field)
        converted = _metadata_value(value, f"{field}.{key}")
        if converted is not None:
            cleaned[key] = converted
    return cleaned


def check_documents(documents: Sequence[MemoryDocument]) -> list[MemoryDocument]:
    """Validate documents and return them with cleaned metadata."""
    if isinstance(documents, MemoryDocument | str) or not isinstance(documents, Sequence):
        raise InvalidMemoryDocument("The documents must be a list.", field="documents")
    checked = []
    for index, document in enumerate(documents):
        where = f"documents[{index}]"
        if not isinstance(document, MemoryDocument):
            raise InvalidMemoryDocument(f"{where} must be a MemoryDocument.", field=where)
        check_id(document.id, field=f"{where}.id")
        if not isinstance(document.text, str) or len(document.text) > MAX_TEXT_LENGTH:
            raise InvalidMemoryDocument(f"{where}.text must be a string of at most {MAX_TEXT_LENGTH} characters.",
                                        field=f"{where}.text")
        checked.append(MemoryDocument(document.id, document.text,
                                      clean_metadata(document.metadata, field=f"{where}.metadata")))
    return checked
