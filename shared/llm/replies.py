"""Deterministic answers for the offline adapter: confirmations of tool results, and help.

After the agent has run the tool calls, :func:`confirm` writes one sentence (or a short list) per
call from the call and its result, e.g. ``Moved “Dentist” to Fri 4 Dec 2026.``

Tool results are read as the agent writes them, leniently: JSON when it parses, otherwise text.
From a JSON object these members are used when present (a ``task`` member is read the same way):
``error`` (the call failed: reported, nothing else), ``title``/``name``, ``due``,
``scheduled_start``, ``priority``, ``status``, ``estimate_minutes``, ``summary``/``message`` (a
ready-made sentence), ``date``, ``blocks``/``items`` (plan entries with ``start``, ``end`` and
``title``), ``left_out``/``unplanned`` (entries with ``title`` and ``reason``) and ``tasks``/
``results`` (search hits). A JSON list is read as search hits or plan entries. Dates are shown on
the user's clock as ``Fri 4 Dec 2026`` / ``Fri 4 Dec 2026, 15:00``; what the result says wins over
what was asked (the tool may have adjusted it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from shared.llm.base import ToolCall

_MAX_LISTED = 10

_FAILED_VERB = {
    "create_task": "create",
    "update_task": "update",
    "complete_task": "complete",
    "show_plan": "show the plan",
    "replan_day": "replan the day",
    "search_tasks": "search",
}

EXAMPLES: Mapping[str, Sequence[str]] = {
    "create_task": ('create "Write report" due Friday', "add task buy milk tomorrow high priority 30 min"),
    "update_task": ("move the dentist task to Friday", "move Dentist to tomorrow 3pm", "make taxes high priority"),
    "complete_task": ("complete Write report", "mark buy milk done"),
    "show_plan": ("what's my plan today",),
    "replan_day": ("replan my day",),
    "search_tasks": ("find dentist",),
}


def help_text(available: Iterable[str], *, reason: str = "") -> str:
    """What the offline assistant understands, limited to the tools the agent offers."""
    offered = [name for name in EXAMPLES if name in set(available)]
    lines = [reason] if reason else []
    if not offered:
        lines.append("I'm running without a language model and no planner tools are available right now.")
        return "\n".join(lines)
    lines.append("I'm running without a language model, so I understand requests like these:")
    lines.extend(f"- {example}" for name in offered for example in EXAMPLES[name])
    return "\n".join(lines)


def format_when(value: Any, tz: tzinfo) -> str | None:
    """``2026-12-04`` → ``Fri 4 Dec 2026``; a timestamp → ``Fri 4 Dec 2026, 15:00`` on ``tz``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value or " " in value.strip():
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if instant.tzinfo is not None:
                instant = instant.astimezone(tz)
            return f"{_day(instant.date())}, {instant:%H:%M}"
        return _day(date.fromisoformat(value))
    except ValueError:
        return value  # not ISO: show what the tool said


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _time(value: Any, tz: tzinfo) -> str:
    if not isinstance(value, str):
        return "?"
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if instant.tzinfo is not None:
        instant = instant.astimezone(tz)
    return f"{instant:%H:%M}"


def _load(content: str | None) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content


def _task(result: Any) -> Mapping[str, Any]:
    if isinstance(result, Mapping):
        inner = result.get("task")
        return inner if isinstance(inner, Mapping) else result
    return {}


def _title(call: ToolCall, result: Any) -> str:
    task = _task(result)
    for value in (task.get("title"), task.get("name"), call.arguments.get("title"), call.arguments.get("task")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    task_id = call.arguments.get("task_id")
    return str(task_id) if task_id else "the task"


def _pick(call: ToolCall, result: Any, key: str) -> Any:
    task = _task(result)
    return task.get(key) if task.get(key) not in (None, "") else call.arguments.get(key)


def _ready_sentence(result: Any) -> str | None:
    if isinstance(result, Mapping):
        for key in ("summary", "message"):
            if isinstance(result.get(key), str) and result[key].strip():
                return result[key].strip()
    return None


def _entries(result: Any, *keys: str, bare_list: bool = True) -> list[Mapping[str, Any]] | None:
    """The entries under the first of ``keys``, or ``result`` itself if it is a list and ``bare_list``."""
    items = result if isinstance(result, list) and bare_list else None
    if isinstance(result, Mapping):
        for key in keys:
            if isinstance(result.get(key), list):
                items = result[key]
                break
    if items is None:
        return None
    return [item for item in items if isinstance(item, Mapping)]


def _plan(result: Any, call: ToolCall, tz: tzinfo, *, heading: str) -> str:
    blocks = _entries(result, "blocks", "items", "plan") or []
    day = format_when(result.get("date") if isinstance(result, Mapping) else None, tz) or format_when(
        call.arguments.get("date"), tz
    )
    title = f"{heading} for {day}" if day else heading
    if not blocks:
        lines = [f"{title}: nothing is planned."]
    else:
        lines = [f"{title}:"]
        for block in blocks[:_MAX_LISTED]:
            name = block.get("title") or block.get("name") or "(untitled)"
            lines.append(f"- {_time(block.get('start'), tz)}–{_time(block.get('end'), tz)} {name}")
        if len(blocks) > _MAX_LISTED:
            lines.append(f"- … and {len(blocks) - _MAX_LISTED} more")
    left_out = _entries(result, "left_out", "unplanned", bare_list=False) or []
    if left_out:
        lines.append("Not planned:")
        for item in left_out[:_MAX_LISTED]:
            reason = f" ({item['reason']})" if isinstance(item.get("reason"), str) and item["reason"] else ""
            lines.append(f"- {item.get('title') or item.get('name') or '(untitled)'}{reason}")
    return "\n".join(lines)


def _search(result: Any, call: ToolCall, tz: tzinfo) -> str:
    hits = _entries(result, "tasks", "results", "items")
    if hits is None:
        return _ready_sentence(result) or (result if isinstance(result, str) else "Search done.")
    query = call.arguments.get("query")
    if not hits:
        return f"No tasks match “{query}”." if query else "No tasks found."
    shown = []
    for hit in hits[:_MAX_LISTED]:
        label = f"“{hit.get('title') or hit.get('name') or '(untitled)'}”"
        due = format_when(hit.get("due"), tz)
        shown.append(f"{label} (due {due})" if due else label)
    more = f" and {len(hits) - _MAX_LISTED} more" if len(hits) > _MAX_LISTED else ""
    noun = "task" if len(hits) == 1 else "tasks"
    return f"Found {len(hits)} {noun}: {', '.join(shown)}{more}."


def _update(call: ToolCall, result: Any, tz: tzinfo) -> str:
    title = _title(call, result)
    asked = call.arguments
    if "scheduled_start" in asked or "due" in asked:
        key = "scheduled_start" if "scheduled_start" in asked else "due"
        when = format_when(_pick(call, result, key), tz)
        if when:
            return f"Moved “{title}” to {when}."
    changes = []
    for key, label in (("priority", "priority"), ("status", "status"), ("estimate_minutes", "estimate")):
        if key in asked:
            value = _pick(call, result, key)
            if key == "estimate_minutes":
                value = f"{value} min"
            elif key == "status" and isinstance(value, str):
                value = value.replace("_", " ")
            changes.append(f"{label} {value}")
    return f"Updated “{title}”: {', '.join(changes)}." if changes else f"Updated “{title}”."


def confirm_one(call: ToolCall, content: str | None, tz: tzinfo) -> str:
    """One confirmation for ``call`` given its tool result ``content``."""
    result = _load(content)
    if isinstance(result, Mapping) and result.get("error"):
        verb = _FAILED_VERB.get(call.name, f"run {call.name}")
        target = f" “{_title(call, result)}”" if call.name in ("create_task", "update_task", "complete_task") else ""
        return f"I couldn't {verb}{target}: {result['error']}"
    if call.name == "create_task":
        title = _title(call, result)
        due = format_when(_pick(call, result, "due"), tz)
        return f"Created “{title}”, due {due}." if due else f"Created “{title}”."
    if call.name == "update_task":
        return _update(call, result, tz)
    if call.name == "complete_task":
        return f"Marked “{_title(call, result)}” as done."
    if isinstance(result, str):
        return result  # the tool answered in text: nothing to interpret
    ready = _ready_sentence(result)
    if call.name == "show_plan":
        return ready if ready and _entries(result, "blocks", "items", "plan") is None else _plan(
            result, call, tz, heading="Your plan"
        )
    if call.name == "replan_day":
        if _entries(result, "blocks", "items", "plan") is None:
            return ready or "Replanned the rest of your day."
        return _plan(result, call, tz, heading="Replanned your day")
    if call.name == "search_tasks":
        return _search(result, call, tz)
    return ready or f"Done: {call.name}."


def confirm(results: Sequence[tuple[ToolCall, str | None]], tz: tzinfo) -> str:
    """The answer after tool calls: one confirmation per call, in order."""
    return "\n".join(confirm_one(call, content, tz) for call, content in results)
