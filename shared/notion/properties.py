"""Reading and writing Notion page property values (pure data, no I/O).

A page's ``properties`` maps each property name to a value object ``{"id", "type", <type>: ...}``
(see developers.notion.com, "Page properties"). The readers here accept the types that can
sensibly carry a value (a formula or rollup producing a number counts as a number, a select as a
one-element list of options...) and raise :class:`UnexpectedType` for anything else, so the
mapping can fall back to a default and record a warning instead of failing the whole sync.
The writers build the request shapes for ``pages.create`` / ``pages.update``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RICH_TEXT_LIMIT = 2000  # characters per rich text object


class UnexpectedType(ValueError):
    """A property holds a type (or a value) the reader cannot interpret."""

    def __init__(self, actual: str) -> None:
        self.actual = actual
        super().__init__(actual)


@dataclass(frozen=True)
class DateValue:
    """A Notion date: ``start`` (a ``date`` when it has no time) and an optional ``end``."""

    start: date | datetime
    end: date | datetime | None = None


def _unwrap(prop: Mapping[str, Any]) -> tuple[str, Any]:
    """``(type, value)`` of a property value, looking through formulas and rollups."""
    if not isinstance(prop, Mapping):
        raise UnexpectedType(type(prop).__name__)
    kind = prop.get("type")
    value = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("formula", "rollup") and isinstance(value, Mapping):
        inner = value.get("type")
        if isinstance(inner, str) and inner != "array":
            return ("formula_" + inner if kind == "formula" else "rollup_" + inner), value.get(inner)
    return str(kind), value


def plain_text(rich: Any) -> str:
    """The text of a rich text array (``plain_text``, or ``text.content`` in request shapes)."""
    if not isinstance(rich, list):
        return ""
    parts = []
    for item in rich:
        if isinstance(item, Mapping):
            text = item.get("plain_text")
            if text is None and isinstance(item.get("text"), Mapping):
                text = item["text"].get("content")
            parts.append(text if isinstance(text, str) else "")
    return "".join(parts)


def read_text(prop: Mapping[str, Any]) -> str | None:
    """Text of a title, rich_text, select, status, url, email, phone or string formula."""
    kind, value = _unwrap(prop)
    if kind in ("title", "rich_text"):
        return plain_text(value)
    if kind in ("select", "status"):
        return value.get("name") if isinstance(value, Mapping) else None
    if kind in ("url", "email", "phone_number", "formula_string"):
        return value if isinstance(value, str) or value is None else str(value)
    if kind in ("number", "formula_number", "rollup_number") and isinstance(value, (int, float)):
        return format(value, "g")
    raise UnexpectedType(kind)


def read_option(prop: Mapping[str, Any]) -> str | None:
    """The option name of a select or status (or the text of a string formula / rich text)."""
    kind, value = _unwrap(prop)
    if kind in ("select", "status"):
        return value.get("name") if isinstance(value, Mapping) else None
    if kind in ("formula_string", "rich_text", "title"):
        text = read_text(prop)
        return text or None
    raise UnexpectedType(kind)


def read_options(prop: Mapping[str, Any]) -> list[str]:
    """Option names of a multi_select (a select gives one; rich text is split on commas)."""
    kind, value = _unwrap(prop)
    if kind == "multi_select":
        return [o["name"] for o in value or [] if isinstance(o, Mapping) and isinstance(o.get("name"), str)]
    if kind in ("select", "status"):
        name = value.get("name") if isinstance(value, Mapping) else None
        return [name] if name else []
    if kind in ("rich_text", "formula_string"):
        text = plain_text(value) if kind == "rich_text" else (value or "")
        return [part.strip() for part in text.split(",") if part.strip()]
    raise UnexpectedType(kind)


def read_number(prop: Mapping[str, Any]) -> float | None:
    """A number, or a formula / rollup producing one."""
    kind, value = _unwrap(prop)
    if kind in ("number", "formula_number", "rollup_number"):
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
    raise UnexpectedType(kind)


def read_checkbox(prop: Mapping[str, Any]) -> bool:
    """A checkbox, or a boolean formula."""
    kind, value = _unwrap(prop)
    if kind in ("checkbox", "formula_boolean") and isinstance(value, bool):
        return value
    if kind == "formula_boolean" and value is None:
        return False
    raise UnexpectedType(kind)


def parse_notion_datetime(text: str, time_zone: str | None = None) -> date | datetime:
    """A Notion date string: ``YYYY-MM-DD`` is a ``date``; anything with a time is an aware ``datetime``.

    A time without an offset is read in ``time_zone`` (Notion's ``date.time_zone``), else UTC.
    """
    if len(text) == 10:
        return date.fromisoformat(text)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        zone: Any = timezone.utc
        if time_zone:
            try:
                zone = ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        value = value.replace(tzinfo=zone)
    return value


def read_date(prop: Mapping[str, Any]) -> DateValue | None:
    """A date (or a date formula / rollup); ``None`` when empty."""
    kind, value = _unwrap(prop)
    if kind not in ("date", "formula_date", "rollup_date"):
        raise UnexpectedType(kind)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("start"), str):
        raise UnexpectedType(kind)
    try:
        zone = value.get("time_zone")
        start = parse_notion_datetime(value["start"], zone)
        end = parse_notion_datetime(value["end"], zone) if isinstance(value.get("end"), str) else None
    except ValueError:
        raise UnexpectedType(kind) from None
    return DateValue(start, end)


# --- writers (request shapes) ---------------------------------------------------------------------


def rich_text(content: str) -> list[dict[str, Any]]:
    """``content`` as a rich text array, split into Notion's 2,000-character pieces."""
    return [
        {"type": "text", "text": {"content": content[i : i + RICH_TEXT_LIMIT]}}
        for i in range(0, len(content), RICH_TEXT_LIMIT)
    ]


def format_notion_date(value: date | datetime) -> str:
    """``YYYY-MM-DD`` for a date; ISO 8601 with an offset for a datetime (naive means UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat()
    return value.isoformat()


def write_value(kind: str, value: Any) -> dict[str, Any]:
    """The request value of one property of type ``kind`` (``None`` clears it)."""
    if kind in ("title", "rich_text"):
        return {kind: rich_text(value or "")}
    if kind in ("select", "status"):
        return {kind: {"name": value} if value else None}
    if kind == "multi_select":
        names: Iterable[str] = value or ()
        return {"multi_select": [{"name": name} for name in names]}
    if kind == "number":
        return {"number": value}
    if kind == "checkbox":
        return {"checkbox": bool(value)}
    if kind == "date":
        if value is None:
            return {"date": None}
        if isinstance(value, DateValue):
            end = format_notion_date(value.end) if value.end is not None else None
            return {"date": {"start": format_notion_date(value.start), "end": end}}
        return {"date": {"start": format_notion_date(value)}}
    raise UnexpectedType(kind)
