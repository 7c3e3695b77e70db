"""Firestore's query semantics, evaluated in Python (used by the SQLite adapter).

Reproduced from Firestore (and checked against its emulator by the contract tests):

* values order by type first — null < bool < number < timestamp < string < array < map — then by
  value; ints and floats compare as numbers (``1 == 1.0``), strings by code point;
* a filter or an ``order_by`` on a field excludes documents that lack the field;
* range filters (<, <=, >, >=) only match values of the filter value's type;
* ``!=`` also excludes documents whose field is null;
* with inequality filters and no ``order_by``, results order by the inequality fields;
* ties break on the document id, in the direction of the last ordering.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cmp_to_key
from typing import Any

from shared.errors import InvalidRequest
from shared.store import _paths
from shared.store.base import Filter

MISSING = object()
_RANGE_OPS = frozenset({"<", "<=", ">", ">="})
_INEQUALITY_OPS = _RANGE_OPS | {"!="}
_OPS = _INEQUALITY_OPS | {"==", "in", "array-contains"}
_DIRECTIONS = ("asc", "desc")
MAX_IN_VALUES = 30  # Firestore's limit for "in"


def type_rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, (int, float)):
        return 2
    if isinstance(value, datetime):
        return 3
    if isinstance(value, str):
        return 4
    if isinstance(value, (list, tuple)):
        return 9
    if isinstance(value, Mapping):
        return 10
    raise InvalidRequest("A filter value has an unsupported type.", field="filters")


def sort_key(value: Any) -> tuple:
    """A key whose Python ordering is Firestore's value ordering."""
    rank = type_rank(value)
    if rank == 2:
        return (2, 0, 0) if isinstance(value, float) and math.isnan(value) else (2, 1, value)
    if rank in (1, 3, 4):
        return (rank, value)
    if rank == 9:
        return (9, tuple(sort_key(item) for item in value))
    if rank == 10:
        return (10, tuple((key, sort_key(value[key])) for key in sorted(value)))
    return (0,)


def get_field(data: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """The value at a field path, or ``MISSING``."""
    current: Any = data
    for part in parts:
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return current


def check_query(
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, str]],
    start_after: Sequence[Any] | None,
    limit: int | None,
) -> None:
    """Validate the query shape the same way on every adapter."""
    for item in filters:
        if not isinstance(item, Filter) or item.op not in _OPS:
            raise InvalidRequest("A filter is invalid.", field="filters")
        _paths.field_path(item.field, name="filters")
        if item.op == "in" and (not isinstance(item.value, (list, tuple)) or not 0 < len(item.value) <= MAX_IN_VALUES):
            raise InvalidRequest(f"An 'in' filter needs 1 to {MAX_IN_VALUES} values.", field="filters")
        if item.op in _RANGE_OPS and item.value is None:
            raise InvalidRequest("A range filter cannot compare with null.", field="filters")
    for spec in order_by:
        if not isinstance(spec, (tuple, list)) or len(spec) != 2 or spec[1] not in _DIRECTIONS:
            raise InvalidRequest("An order_by entry must be (field, 'asc' | 'desc').", field="order_by")
        _paths.field_path(spec[0], name="order_by")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidRequest("The limit must be a positive integer.", field="limit")
    if start_after is not None:
        if isinstance(start_after, (str, bytes)) or not isinstance(start_after, Sequence):
            raise InvalidRequest("start_after must be a list of values.", field="start_after")
        if not order_by and any(f.op in _INEQUALITY_OPS for f in filters):
            raise InvalidRequest("start_after with inequality filters needs an explicit order_by.", field="start_after")
        if not 0 < len(start_after) <= len(order_by) + 1:
            raise InvalidRequest(
                "start_after takes one value per order_by field, optionally followed by a document id.",
                field="start_after",
            )
        if len(start_after) == len(order_by) + 1 and not isinstance(start_after[-1], str):
            raise InvalidRequest("The document id in start_after must be a string.", field="start_after")


def matches(data: Mapping[str, Any], item: Filter) -> bool:
    value = get_field(data, _paths.field_path(item.field))
    if value is MISSING:
        return False
    key = sort_key(value)
    if item.op == "==":
        return key == sort_key(item.value)
    if item.op == "!=":
        return value is not None and key != sort_key(item.value)
    if item.op == "in":
        return key in {sort_key(candidate) for candidate in item.value}
    if item.op == "array-contains":
        return isinstance(value, list) and sort_key(item.value) in {sort_key(entry) for entry in value}
    target = sort_key(item.value)
    if key[0] != target[0]:
        return False
    return {"<": key < target, "<=": key <= target, ">": key > target, ">=": key >= target}[item.op]


def effective_order(filters: Sequence[Filter], order_by: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The ordering Firestore applies (explicit, else the inequality fields ascending)."""
    if order_by:
        return [(field, direction) for field, direction in order_by]
    return [(field, "asc") for field in sorted({f.field for f in filters if f.op in _INEQUALITY_OPS})]


def run(
    docs: Sequence[tuple[str, dict[str, Any]]],
    *,
    filters: Sequence[Filter],
    order_by: Sequence[tuple[str, str]],
    limit: int | None,
    start_after: Sequence[Any] | None,
) -> list[tuple[str, dict[str, Any]]]:
    """Filter, order, page and limit ``(document id, data)`` pairs."""
    orders = effective_order(filters, order_by)
    order_parts = [(_paths.field_path(field), direction) for field, direction in orders]
    tie_direction = orders[-1][1] if orders else "asc"

    rows = []
    for doc_id, data in docs:
        if not all(matches(data, item) for item in filters):
            continue
        keys = [get_field(data, parts) for parts, _ in order_parts]
        if any(key is MISSING for key in keys):
            continue
        rows.append(([sort_key(key) for key in keys], doc_id, data))

    directions = [direction for _, direction in orders] + [tie_direction]

    def position(row) -> list:
        return [*row[0], row[1]]

    def compare(left: list, right: list) -> int:
        for a, b, direction in zip(left, right, directions, strict=False):
            if a != b:
                result = -1 if a < b else 1
                return -result if direction == "desc" else result
        return 0

    rows.sort(key=cmp_to_key(lambda a, b: compare(position(a), position(b))))
    if start_after is not None:
        cursor = [sort_key(value) for value in start_after[: len(orders)]]
        if len(start_after) > len(orders):
            cursor.append(start_after[-1])
        rows = [row for row in rows if compare(position(row)[: len(cursor)], cursor) > 0]
    if limit is not None:
        rows = rows[:limit]
    return [(doc_id, data) for _, doc_id, data in rows]
