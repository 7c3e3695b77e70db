"""Document values: validation and the write semantics both adapters share.

Accepted values are JSON-like (str, int, float, bool, None, list/tuple, dict with str keys) plus
timezone-aware ``datetime``. Naive datetimes, ``Decimal``, bytes and other objects are refused, as
are field names Firestore reserves (``__name__``-like) — so data that works on SQLite also works on
Firestore. Errors name the offending field path, never its value.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from shared.errors import InvalidRequest
from shared.store.base import EXPIRES_AT

_RESERVED_KEY = re.compile(r"^__.*__$")
_INT64 = (-(2**63), 2**63 - 1)
_MAX_DEPTH = 20  # Firestore allows 20 levels of nested maps/arrays


def check_data(data: object, *, field: str = "data") -> dict[str, Any]:
    """Return ``data`` if it is a storable document body, else raise ``InvalidRequest``."""
    if not isinstance(data, Mapping):
        raise InvalidRequest(f"The {field} must be an object.", field=field)
    _check_map(data, field, 0)
    return dict(data)


def _check_map(value: Mapping, where: str, depth: int) -> None:
    for key, item in value.items():
        if not isinstance(key, str) or not key or _RESERVED_KEY.fullmatch(key):
            raise InvalidRequest(f"A field name in {where} is invalid.", field=where)
        _check_value(item, f"{where}.{key}", depth + 1)


def _check_value(value: object, where: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise InvalidRequest(f"The {where} is nested too deeply.", field=where)
    if value is None or isinstance(value, (str, bool, float)):
        return
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise InvalidRequest(f"The {where} is out of the 64-bit integer range.", field=where)
        return
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRequest(f"The {where} must be a timezone-aware datetime.", field=where)
        return
    if isinstance(value, Mapping):
        _check_map(value, where, depth)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, (list, tuple)):
                raise InvalidRequest(f"The {where} may not contain arrays directly (Firestore).", field=where)
            _check_value(item, where, depth + 1)
        return
    raise InvalidRequest(f"The {where} has an unsupported type ({type(value).__name__}).", field=where)


def check_increment(deltas: object, extra: object) -> tuple[dict[str, int | float], dict[str, Any]]:
    """Validate ``increment``'s arguments: the deltas, and the fields merged beside them (which
    may not name an incremented field)."""
    amounts = check_deltas(deltas)
    more = check_data(extra or {}, field="extra")
    if set(amounts) & set(more):
        raise InvalidRequest("A field cannot be both incremented and set.", field="extra")
    return amounts, more


def check_deltas(deltas: object) -> dict[str, int | float]:
    """Validate ``increment`` deltas: top-level field names mapped to numbers."""
    if not isinstance(deltas, Mapping) or not deltas:
        raise InvalidRequest("The deltas must be a non-empty object.", field="deltas")
    for key, value in deltas.items():
        if not isinstance(key, str) or not key or _RESERVED_KEY.fullmatch(key):
            raise InvalidRequest("A field name in deltas is invalid.", field="deltas")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidRequest(f"The deltas.{key} must be a number.", field=f"deltas.{key}")
    return dict(deltas)


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Firestore's ``set(merge=True)``: nested non-empty maps merge, everything else replaces."""
    result = dict(base)
    for key, value in update.items():
        current = result.get(key)
        if isinstance(value, Mapping) and value and isinstance(current, dict):
            result[key] = merge(current, value)
        else:
            result[key] = copy.deepcopy(_plain(value))
    return result


def apply_increment(base: dict[str, Any], deltas: Mapping[str, int | float]) -> dict[str, Any]:
    """Firestore's ``Increment``: add to a number; a missing or non-numeric field becomes the delta."""
    result = dict(base)
    for key, delta in deltas.items():
        current = result.get(key)
        if isinstance(current, (int, float)) and not isinstance(current, bool):
            result[key] = current + delta
        else:
            result[key] = delta
    return result


def _plain(value: Any) -> Any:
    """Tuples become lists and mappings dicts, as they read back from either backend."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, plain copy of a document body."""
    return _plain(data)


def expires_at(data: Mapping[str, Any]) -> datetime | None:
    """The document's expiry time, if it carries a datetime :data:`EXPIRES_AT`."""
    value = data.get(EXPIRES_AT)
    return value if isinstance(value, datetime) else None


def is_expired(data: Mapping[str, Any], now: datetime) -> bool:
    """True if the document carries an ``expires_at`` that is not in the future."""
    when = expires_at(data)
    return when is not None and when <= now


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
