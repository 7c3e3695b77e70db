"""Data source query filters and sorts, and cursor pagination, evaluated like Notion does.

Supported filters: ``and`` / ``or`` compounds; timestamp filters on ``created_time`` and
``last_edited_time``; property filters on title, rich_text, number, checkbox, select, status,
multi_select and date (and created/last edited time properties). A filter whose type key does not
match the property's type is a 400 ``validation_error``, as on api.notion.com.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from shared.notion.sandbox.shapes import SandboxError, plain_text, validation

MAX_PAGE_SIZE = 100

_DATE_CONDITIONS = {"equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty"}
_TEXT_CONDITIONS = {"equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with", "is_empty", "is_not_empty"}
_NUMBER_CONDITIONS = {"equals", "does_not_equal", "greater_than", "less_than", "greater_than_or_equal_to", "less_than_or_equal_to", "is_empty", "is_not_empty"}
_OPTION_CONDITIONS = {"equals", "does_not_equal", "is_empty", "is_not_empty"}
_MULTI_CONDITIONS = {"contains", "does_not_contain", "is_empty", "is_not_empty"}
_CHECKBOX_CONDITIONS = {"equals", "does_not_equal"}


def _when(text: Any, where: str) -> tuple[datetime, bool]:
    """``(instant, date_only)`` of a filter or page date string."""
    if not isinstance(text, str):
        raise validation(f"body failed validation: {where} should be a valid ISO 8601 date string.")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=timezone.utc), True
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise validation(f"body failed validation: {where} should be a valid ISO 8601 date string.") from None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)), False


def _compare_dates(actual: str | None, condition: str, wanted: Any, where: str) -> bool:
    if condition == "is_empty":
        return actual is None
    if condition == "is_not_empty":
        return actual is not None
    if actual is None:
        return False
    value, _ = _when(actual, "date")
    target, date_only = _when(wanted, where)
    if date_only:  # compare calendar days
        value_day, target_day = value.date(), target.date()
        return {
            "equals": value_day == target_day,
            "before": value_day < target_day,
            "after": value_day > target_day,
            "on_or_before": value_day <= target_day,
            "on_or_after": value_day >= target_day,
        }[condition]
    return {
        "equals": value == target,
        "before": value < target,
        "after": value > target,
        "on_or_before": value <= target,
        "on_or_after": value >= target,
    }[condition]


def _single_condition(spec: Any, allowed: set[str], where: str) -> tuple[str, Any]:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise validation(f"body failed validation: {where} should have exactly one condition.")
    (condition, value), = spec.items()
    if condition not in allowed:
        raise validation(f"body failed validation: {where}.{condition} is not a supported condition.")
    return condition, value


def _match_text(actual: str, condition: str, wanted: Any) -> bool:
    if condition == "is_empty":
        return actual == ""
    if condition == "is_not_empty":
        return actual != ""
    wanted = str(wanted)
    lowered, target = actual.lower(), wanted.lower()
    return {
        "equals": actual == wanted,
        "does_not_equal": actual != wanted,
        "contains": target in lowered,
        "does_not_contain": target not in lowered,
        "starts_with": lowered.startswith(target),
        "ends_with": lowered.endswith(target),
    }[condition]


def _match_number(actual: float | None, condition: str, wanted: Any) -> bool:
    if condition == "is_empty":
        return actual is None
    if condition == "is_not_empty":
        return actual is not None
    if actual is None:
        return False
    return {
        "equals": actual == wanted,
        "does_not_equal": actual != wanted,
        "greater_than": actual > wanted,
        "less_than": actual < wanted,
        "greater_than_or_equal_to": actual >= wanted,
        "less_than_or_equal_to": actual <= wanted,
    }[condition]


def _property_matches(page: dict[str, Any], schema: dict[str, Any], spec: dict[str, Any], where: str) -> bool:
    name = spec.get("property")
    prop_schema = schema.get(name) or next((p for p in schema.values() if p["id"] == name), None)
    if prop_schema is None:
        raise validation(f"Could not find property with name or id: {name}")
    kind = prop_schema["type"]
    keys = [k for k in spec if k not in ("property", "type")]
    if len(keys) != 1:
        raise validation(f"body failed validation: {where} should have exactly one property type key.")
    filter_kind = keys[0]
    if filter_kind != kind and not (filter_kind == "date" and kind in ("created_time", "last_edited_time")):
        raise validation(f"body failed validation: database property {kind} does not match filter {filter_kind}.")
    value = page["properties"][prop_schema["name"]][kind]
    where = f"{where}.{filter_kind}"
    if kind in ("title", "rich_text"):
        condition, wanted = _single_condition(spec[filter_kind], _TEXT_CONDITIONS, where)
        return _match_text(plain_text(value), condition, wanted)
    if kind == "number":
        condition, wanted = _single_condition(spec[filter_kind], _NUMBER_CONDITIONS, where)
        return _match_number(value, condition, wanted)
    if kind == "checkbox":
        condition, wanted = _single_condition(spec[filter_kind], _CHECKBOX_CONDITIONS, where)
        return (value == wanted) if condition == "equals" else (value != wanted)
    if kind in ("select", "status"):
        condition, wanted = _single_condition(spec[filter_kind], _OPTION_CONDITIONS, where)
        name_ = value["name"] if value else None
        return {
            "equals": name_ == wanted,
            "does_not_equal": name_ != wanted,
            "is_empty": name_ is None,
            "is_not_empty": name_ is not None,
        }[condition]
    if kind == "multi_select":
        condition, wanted = _single_condition(spec[filter_kind], _MULTI_CONDITIONS, where)
        names = [o["name"] for o in value]
        return {
            "contains": wanted in names,
            "does_not_contain": wanted not in names,
            "is_empty": not names,
            "is_not_empty": bool(names),
        }[condition]
    if kind in ("date", "created_time", "last_edited_time"):
        condition, wanted = _single_condition(spec[filter_kind], _DATE_CONDITIONS, where)
        actual = value.get("start") if isinstance(value, dict) else value
        return _compare_dates(actual, condition, wanted, where)
    raise validation(f"body failed validation: filtering on {kind} properties is not supported by the sandbox.")


def matches(page: dict[str, Any], schema: dict[str, Any], spec: Any, where: str = "body.filter") -> bool:
    """Whether ``page`` passes the filter ``spec``."""
    if not isinstance(spec, dict):
        raise validation(f"body failed validation: {where} should be an object.")
    for compound in ("and", "or"):
        if compound in spec:
            parts = spec[compound]
            if not isinstance(parts, list):
                raise validation(f"body failed validation: {where}.{compound} should be an array.")
            results = (matches(page, schema, part, f"{where}.{compound}[{i}]") for i, part in enumerate(parts))
            return all(results) if compound == "and" else any(results)
    if "timestamp" in spec:
        stamp = spec["timestamp"]
        if stamp not in ("created_time", "last_edited_time"):
            raise validation(f"body failed validation: {where}.timestamp should be created_time or last_edited_time.")
        condition, wanted = _single_condition(spec.get(stamp), _DATE_CONDITIONS, f"{where}.{stamp}")
        return _compare_dates(page[stamp], condition, wanted, f"{where}.{stamp}.{condition}")
    if "property" in spec:
        return _property_matches(page, schema, spec, where)
    raise validation(f"body failed validation: {where} should be a property, timestamp or compound filter.")


def _sort_value(page: dict[str, Any], schema: dict[str, Any], sort: dict[str, Any]) -> Any:
    if "timestamp" in sort:
        return page[sort["timestamp"]]
    prop = schema[sort["property"]]
    value = page["properties"][prop["name"]][prop["type"]]
    kind = prop["type"]
    if kind in ("title", "rich_text"):
        return plain_text(value).lower() or None
    if kind in ("select", "status"):
        # Notion sorts options by their order in the schema, not alphabetically.
        names = [o["name"] for o in prop[kind]["options"]]
        return names.index(value["name"]) if value and value["name"] in names else None
    if kind == "date":
        return _when(value["start"], "date")[0] if value else None
    if kind == "multi_select":
        return ",".join(o["name"] for o in value) or None
    return value


def sort_pages(pages: list[dict[str, Any]], schema: dict[str, Any], sorts: Any) -> list[dict[str, Any]]:
    """``pages`` ordered by ``sorts`` (empty values last in either direction)."""
    if sorts is None:
        return pages
    if not isinstance(sorts, list):
        raise validation("body failed validation: body.sorts should be an array.")
    for index, sort in enumerate(sorts):
        if not isinstance(sort, dict) or not ({"property", "timestamp"} & sort.keys()):
            raise validation(f"body failed validation: body.sorts[{index}] should have a property or a timestamp.")
        if sort.get("direction", "ascending") not in ("ascending", "descending"):
            raise validation(f"body failed validation: body.sorts[{index}].direction should be ascending or descending.")
        if "property" in sort and sort["property"] not in schema:
            raise validation(f"Could not find sort property with name or id: {sort['property']}")
    ordered = list(pages)
    for sort in reversed(sorts):  # stable sorts, least significant first
        descending = sort.get("direction", "ascending") == "descending"
        present = [p for p in ordered if _sort_value(p, schema, sort) is not None]
        empty = [p for p in ordered if _sort_value(p, schema, sort) is None]
        present.sort(key=lambda p: _sort_value(p, schema, sort), reverse=descending)
        ordered = present + empty
    return ordered


def page_size(value: Any) -> int:
    if value is None:
        return MAX_PAGE_SIZE
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_PAGE_SIZE:
        raise validation(f"body failed validation: body.page_size should be a number between 1 and {MAX_PAGE_SIZE}, instead was `{value!r}`.")
    return value


def paginate(items: list[Any], start_cursor: Any, size: Any, key: Callable[[Any], str] = lambda item: item["id"]) -> tuple[list[Any], str | None]:
    """One page of ``items`` and the next cursor (the id of the next item, as Notion does)."""
    size = page_size(size)
    start = 0
    if start_cursor is not None:
        ids = [key(item) for item in items]
        if start_cursor not in ids:
            raise SandboxError(400, "validation_error", "body failed validation: start_cursor should be a valid cursor.")
        start = ids.index(start_cursor)
    chunk = items[start : start + size]
    following = items[start + size : start + size + 1]
    return chunk, (key(following[0]) if following else None)
