"""Build Notion *response* shapes from *request* shapes, as Notion does when it stores a page.

Used by the mapping tests to round-trip a task through the exact value shapes a page carries
(rich text objects with ``plain_text`` and ``annotations``, options with ids and colours...).
"""

from __future__ import annotations

import copy
from typing import Any

ANNOTATIONS = {"bold": False, "italic": False, "strikethrough": False, "underline": False, "code": False, "color": "default"}


def rich_text_response(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "type": "text",
            "text": {"content": item["text"]["content"], "link": None},
            "annotations": dict(ANNOTATIONS),
            "plain_text": item["text"]["content"],
            "href": None,
        }
        for item in items
    ]


def _option(name: str) -> dict[str, Any]:
    return {"id": f"opt-{abs(hash(name)) % 10_000}", "name": name, "color": "default"}


def value_response(kind: str, value: Any) -> Any:
    if kind in ("title", "rich_text"):
        return rich_text_response(value)
    if kind in ("select", "status"):
        return _option(value["name"]) if value else None
    if kind == "multi_select":
        return [_option(o["name"]) for o in value]
    if kind == "date":
        return None if value is None else {"start": value["start"], "end": value.get("end"), "time_zone": None}
    return value


def page_with(template: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """``template`` (a recorded page) carrying ``properties`` written in request shape."""
    page = copy.deepcopy(template)
    page["properties"] = {}
    for index, (name, request_value) in enumerate(properties.items()):
        (kind, value), = request_value.items()
        page["properties"][name] = {"id": "title" if kind == "title" else f"p{index}", "type": kind, kind: value_response(kind, value)}
    return page


def schema_from_template(properties: dict[str, Any]) -> dict[str, Any]:
    """A data source's ``properties`` (response shape) from a creation schema."""
    schema = {}
    for index, (name, spec) in enumerate(properties.items()):
        (kind, config), = ((k, v) for k, v in spec.items() if k not in ("name", "description"))
        schema[name] = {"id": "title" if kind == "title" else f"s{index}", "name": name, "description": None, "type": kind, kind: copy.deepcopy(config)}
    return schema
