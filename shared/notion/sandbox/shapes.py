"""Notion's JSON shapes, built the way api.notion.com builds them (2025-09-03).

Request shapes (what a client sends) become response shapes (what Notion stores and returns):
rich text gains ``plain_text``/``annotations``/``href``, options gain ids and colours, property
schemas gain ids and names. Anything malformed raises :class:`SandboxError` with the status, code
and kind of message Notion answers with.
"""

from __future__ import annotations

import copy
import random
import re
import string
import uuid
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

ANNOTATIONS = {"bold": False, "italic": False, "strikethrough": False, "underline": False, "code": False, "color": "default"}
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
RICH_TEXT_LIMIT = 2000


class SandboxError(Exception):
    """An API error answered as Notion does: ``{"object": "error", "status", "code", "message"}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.code, self.message)


def validation(message: str) -> SandboxError:
    return SandboxError(400, "validation_error", message)


def not_found(kind: str, object_id: str) -> SandboxError:
    return SandboxError(
        404,
        "object_not_found",
        f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and databases are shared with your integration.",
    )


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"object": "error", "status": status, "code": code, "message": message, "request_id": request_id()}


def request_id() -> str:
    return str(uuid.uuid4())


def new_id() -> str:
    return str(uuid.uuid4())


def canonical_id(value: Any) -> str | None:
    """A Notion id in its dashed form, from either form; ``None`` if it is not one."""
    if not isinstance(value, str):
        return None
    compact = value.replace("-", "").lower()
    if not re.fullmatch(r"[0-9a-f]{32}", compact):
        return None
    return f"{compact[:8]}-{compact[8:12]}-{compact[12:16]}-{compact[16:20]}-{compact[20:]}"


def require_id(value: Any, field: str) -> str:
    found = canonical_id(value)
    if found is None:
        raise validation(f"path failed validation: path.{field} should be a valid uuid, instead was `{value!r}`.")
    return found


def property_id() -> str:
    """A short property id like Notion's (``%3AUPp``)."""
    raw = "".join(random.choice(string.ascii_letters + string.digits + ":;<=>?@[]{}|`~") for _ in range(4))
    return quote(raw, safe="")


def page_timestamp(moment: datetime) -> str:
    """Pages and blocks: minute precision, ``Z`` (as Notion returns them)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:00.000Z")


def database_timestamp(moment: datetime) -> str:
    """Databases: millisecond precision with an offset (as Notion returns them)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def parse_timestamp(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def user_ref(user_id: str) -> dict[str, Any]:
    return {"object": "user", "id": user_id}


def list_envelope(results: list[Any], next_cursor: str | None, kind: str) -> dict[str, Any]:
    return {
        "object": "list",
        "results": results,
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
        "type": kind,
        kind: {},
    }


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")


def notion_url(object_id: str, title: str = "") -> str:
    compact = object_id.replace("-", "")
    return f"https://app.notion.com/p/{slug(title) + '-' if slug(title) else ''}{compact}"


# --- rich text ------------------------------------------------------------------------------------


def rich_text(items: Any, where: str) -> list[dict[str, Any]]:
    """Response rich text from a request array (``[{"text": {"content": ...}}, ...]``)."""
    if not isinstance(items, list):
        raise validation(f"body failed validation: {where} should be an array, instead was `{_short(items)}`.")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise validation(f"body failed validation: {where}[{index}] should be an object.")
        kind = item.get("type", "text" if "text" in item else None)
        if kind == "text":
            text = item.get("text")
            content = text.get("content") if isinstance(text, dict) else None
            if not isinstance(content, str):
                raise validation(f"body failed validation: {where}[{index}].text.content should be a string.")
            if len(content) > RICH_TEXT_LIMIT:
                raise validation(
                    f"body failed validation: {where}[{index}].text.content.length should be ≤ `{RICH_TEXT_LIMIT}`, instead was `{len(content)}`."
                )
            link = text.get("link")
            result.append(
                {
                    "type": "text",
                    "text": {"content": content, "link": link},
                    "annotations": {**ANNOTATIONS, **(item.get("annotations") or {})},
                    "plain_text": content,
                    "href": link.get("url") if isinstance(link, dict) else None,
                }
            )
        elif kind in ("mention", "equation"):
            entry = copy.deepcopy(item)
            entry.setdefault("annotations", dict(ANNOTATIONS))
            entry.setdefault("plain_text", item.get("plain_text", ""))
            entry.setdefault("href", None)
            result.append(entry)
        else:
            raise validation(f"body failed validation: {where}[{index}].type should be text, mention or equation.")
    return result


def plain_text(items: list[dict[str, Any]]) -> str:
    return "".join(item.get("plain_text", "") for item in items)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- property schemas -------------------------------------------------------------------------------

SCHEMA_TYPES = {
    "title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files", "checkbox",
    "url", "email", "phone_number", "formula", "relation", "rollup", "created_time", "created_by",
    "last_edited_time", "last_edited_by", "unique_id",
}
READ_ONLY_TYPES = {"formula", "rollup", "created_time", "created_by", "last_edited_time", "last_edited_by", "unique_id"}


def _options(config: Any, default: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    options = config.get("options") if isinstance(config, dict) else None
    if options is None and default:
        options = [{"name": n, "color": c} for n, c in default]
    result = []
    for position, option in enumerate(options or []):
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            raise validation("body failed validation: options must be objects with a name.")
        if "," in option["name"]:
            raise validation(f"Select option names cannot contain commas: {option['name']!r}.")
        result.append(
            {
                "id": option.get("id") or property_id(),
                "name": option["name"],
                "color": option.get("color") or COLORS[position % len(COLORS)],
                "description": option.get("description"),
            }
        )
    return result


def property_schema(name: str, spec: Any, existing_id: str | None = None) -> dict[str, Any]:
    """A data source property (response shape) from a request schema such as ``{"select": {...}}``."""
    if not isinstance(spec, dict):
        raise validation(f"body failed validation: body.properties.{name} should be an object.")
    kinds = [k for k in spec if k in SCHEMA_TYPES]
    kind = spec.get("type") or (kinds[0] if len(kinds) == 1 else None)
    if kind not in SCHEMA_TYPES:
        raise validation(f"body failed validation: body.properties.{name} should define exactly one property type.")
    config = spec.get(kind) or {}
    if kind in ("select", "multi_select"):
        config = {"options": _options(config)}
    elif kind == "status":
        options = _options(config, [("Not started", "default"), ("In progress", "blue"), ("Done", "green")])
        config = {
            "options": options,
            "groups": [
                {"id": property_id(), "name": "To-do", "color": "gray", "option_ids": [o["id"] for o in options[:1]]},
                {"id": property_id(), "name": "In progress", "color": "blue", "option_ids": [o["id"] for o in options[1:-1]]},
                {"id": property_id(), "name": "Complete", "color": "green", "option_ids": [o["id"] for o in options[-1:]]},
            ],
        }
    elif kind == "number":
        config = {"format": (config or {}).get("format", "number")}
    elif kind == "unique_id":
        config = {"prefix": (config or {}).get("prefix")}
    else:
        config = copy.deepcopy(config) if isinstance(config, dict) else {}
    return {
        "id": "title" if kind == "title" else (existing_id or property_id()),
        "name": spec.get("name", name),
        "description": spec.get("description"),
        "type": kind,
        kind: config,
    }


def data_source_properties(request: Any) -> dict[str, Any]:
    """A full schema from a creation request; a data source always has one title ("Name")."""
    if request is None:
        request = {}
    if not isinstance(request, dict):
        raise validation("body failed validation: body.initial_data_source.properties should be an object.")
    schema = {name: property_schema(name, spec) for name, spec in request.items()}
    titles = [name for name, prop in schema.items() if prop["type"] == "title"]
    if len(titles) > 1:
        raise validation("body failed validation: a data source has exactly one title property.")
    if not titles:
        schema = {"Name": property_schema("Name", {"title": {}}), **schema}
    return {prop["name"]: prop for prop in schema.values()}


# --- property values --------------------------------------------------------------------------------


def empty_value(prop: dict[str, Any], page: dict[str, Any]) -> Any:
    """The value a page shows for a property nobody set."""
    kind = prop["type"]
    if kind in ("title", "rich_text", "multi_select", "people", "files", "relation"):
        return []
    if kind == "checkbox":
        return False
    if kind == "status":
        options = prop["status"]["options"]
        return {k: options[0][k] for k in ("id", "name", "color")} if options else None
    if kind == "created_time":
        return page["created_time"]
    if kind == "last_edited_time":
        return page["last_edited_time"]
    if kind in ("created_by", "last_edited_by"):
        return page[kind]
    if kind == "formula":
        return {"type": "string", "string": None}
    if kind == "rollup":
        return {"type": "array", "array": [], "function": "show_original"}
    return None


def _date_string(text: Any, where: str) -> str:
    if not isinstance(text, str):
        raise validation(f"body failed validation: {where} should be a string.")
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise validation(f"body failed validation: {where} should be a valid ISO 8601 date string, instead was `{_short(text)}`.") from None
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    offset = moment.strftime("%z")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}{offset[:3]}:{offset[3:]}"


def _option_value(prop: dict[str, Any], wanted: Any, where: str, *, create: bool) -> dict[str, Any]:
    kind = prop["type"]
    if not isinstance(wanted, dict) or not (isinstance(wanted.get("name"), str) or isinstance(wanted.get("id"), str)):
        raise validation(f"body failed validation: {where} should have a name or an id.")
    options = prop[kind]["options"]
    for option in options:
        if option["name"] == wanted.get("name") or option["id"] == wanted.get("id"):
            return {"id": option["id"], "name": option["name"], "color": option["color"]}
    if not create or not isinstance(wanted.get("name"), str):
        label = wanted.get("name") or wanted.get("id")
        raise validation(f"Invalid {kind} option. {kind.capitalize()} option \"{label}\" does not exist.")
    if "," in wanted["name"]:
        raise validation(f"Select option names cannot contain commas: {wanted['name']!r}.")
    option = {"id": property_id(), "name": wanted["name"], "color": wanted.get("color") or COLORS[len(options) % len(COLORS)], "description": None}
    options.append(option)  # Notion adds new select options to the schema on write
    return {k: option[k] for k in ("id", "name", "color")}


def property_value(name: str, prop: dict[str, Any], request: Any) -> Any:
    """The stored value of one property from its request value (may extend select options)."""
    kind = prop["type"]
    where = f"body.properties.{name}"
    if kind in READ_ONLY_TYPES:
        raise validation(f"{name} is a read-only property ({kind}) and cannot be set.")
    if kind == "title" and isinstance(request, list):
        request = {"title": request}
    if not isinstance(request, dict) or kind not in request:
        given = [k for k in request if k in SCHEMA_TYPES] if isinstance(request, dict) else []
        raise validation(f"{name} is expected to be {kind}." + (f" It was given as {given[0]}." if given else ""))
    value = request[kind]
    where = f"{where}.{kind}"
    if kind in ("title", "rich_text"):
        return rich_text(value, where)
    if kind in ("select", "status"):
        return None if value is None else _option_value(prop, value, where, create=kind == "select")
    if kind == "multi_select":
        if not isinstance(value, list):
            raise validation(f"body failed validation: {where} should be an array.")
        return [_option_value(prop, item, f"{where}[{i}]", create=True) for i, item in enumerate(value)]
    if kind == "date":
        if value is None:
            return None
        if not isinstance(value, dict) or "start" not in value:
            raise validation(f"body failed validation: {where}.start should be defined.")
        end = value.get("end")
        return {
            "start": _date_string(value["start"], f"{where}.start"),
            "end": _date_string(end, f"{where}.end") if end is not None else None,
            "time_zone": value.get("time_zone"),
        }
    if kind == "number":
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise validation(f"body failed validation: {where} should be a number or `null`, instead was `{_short(value)}`.")
        return value
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise validation(f"body failed validation: {where} should be a boolean, instead was `{_short(value)}`.")
        return value
    if kind in ("url", "email", "phone_number"):
        if value is not None and not isinstance(value, str):
            raise validation(f"body failed validation: {where} should be a string or `null`.")
        return value
    if kind in ("people", "relation", "files"):
        if not isinstance(value, list):
            raise validation(f"body failed validation: {where} should be an array.")
        return copy.deepcopy(value)
    raise validation(f"{name} cannot be set through the API.")


# --- blocks -------------------------------------------------------------------------------------------

BLOCK_TYPES = {
    "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "to_do",
    "toggle", "quote", "callout", "code", "divider", "bookmark",
}
_TEXT_BLOCKS = BLOCK_TYPES - {"divider", "bookmark"}


def block_content(request: Any, where: str) -> tuple[str, dict[str, Any], list[Any]]:
    """``(type, content, nested children)`` of a block from its request shape."""
    if not isinstance(request, dict):
        raise validation(f"body failed validation: {where} should be an object.")
    kinds = [k for k in request if k in BLOCK_TYPES]
    kind = request.get("type") or (kinds[0] if len(kinds) == 1 else None)
    if kind not in BLOCK_TYPES:
        raise validation(f"body failed validation: {where} should be a supported block, e.g. paragraph.")
    content = copy.deepcopy(request.get(kind) or {})
    children = content.pop("children", None) or request.get("children") or []
    if kind in _TEXT_BLOCKS:
        content["rich_text"] = rich_text(content.get("rich_text", []), f"{where}.{kind}.rich_text")
        content.setdefault("color", "default")
        if kind == "paragraph":
            content.setdefault("icon", None)
        if kind == "to_do":
            content["checked"] = bool(content.get("checked", False))
        if kind.startswith("heading_"):
            content.setdefault("is_toggleable", False)
        if kind == "code":
            content.setdefault("language", "plain text")
            content.setdefault("caption", [])
    return kind, content, children
