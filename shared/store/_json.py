"""The SQLite adapter's JSON encoding of document bodies.

JSON has no timestamps and no NaN/Infinity, so those are tagged:

* a ``datetime`` becomes ``{"__dt__": "YYYY-MM-DDTHH:MM:SS.ffffffZ"}`` — UTC, fixed width, so the
  strings sort like the instants they name (range queries and indexes compare them as text), and
  it decodes to an aware UTC ``datetime``;
* a non-finite float becomes ``{"__f__": "nan" | "inf" | "-inf"}`` (SQLite's JSON functions
  reject bare ``NaN``).

Field names of the ``__x__`` form are refused on write (see ``_values``), so tags are unambiguous.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

DT_TAG = "__dt__"
FLOAT_TAG = "__f__"


def format_time(value: datetime) -> str:
    """Fixed-width UTC text of an aware datetime (sorts chronologically)."""
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=timezone.utc)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {DT_TAG: format_time(value)}
    if isinstance(value, float) and not math.isfinite(value):
        return {FLOAT_TAG: "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, Mapping):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return value


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if DT_TAG in obj and isinstance(obj[DT_TAG], str):
            return parse_time(obj[DT_TAG])
        if FLOAT_TAG in obj and isinstance(obj[FLOAT_TAG], str):
            return float(obj[FLOAT_TAG])
    return obj


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(_encode(data), allow_nan=False, separators=(",", ":"), ensure_ascii=False)


def loads(text: str) -> dict[str, Any]:
    return json.loads(text, object_hook=_decode_object)
