"""Notion pages <-> the domain's tasks and routines.

Reading is forgiving: every user builds their Tasks database differently, so a missing property
gives the field's default, and a property of an unexpected type or an unreadable value gives the
default plus a :class:`MappingWarning`. One odd page never fails a sync: a page that cannot be
mapped at all yields ``None`` and a warning.

Writing builds the ``properties`` payload of ``pages.create`` / ``pages.update``. Given the data
source's schema (``data_source["properties"]``) it writes only properties that exist, in their
actual type (a Status may be a ``status``, a ``select`` or a ``checkbox``), choosing existing
option names ("Complete" rather than our "Done" if that is what the user has). Without a schema
it writes the types of our template (:mod:`shared.notion.templates`).

Property names are configurable per tenant (:class:`TaskPropertyMap`,
:class:`RoutinePropertyMap`); the defaults match the template.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Generic, TypeVar

from pydantic import Field, ValidationError

from shared.models import Priority, Recurrence, Routine, Task, TaskStatus
from shared.models._base import DomainModel
from shared.notion import properties as P
from shared.notion.vocabulary import (
    PRIORITY_ALIASES,
    PRIORITY_NAMES,
    STATUS_ALIASES,
    STATUS_NAMES,
    lookup,
    parse_duration_minutes,
    parse_recurrence,
    parse_time_of_day,
    recurrence_day_names,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

UNTITLED = "Untitled"


class TaskPropertyMap(DomainModel):
    """Which Notion property holds each task field (by name), plus extra option aliases."""

    title: str = "Name"
    status: str = "Status"
    priority: str = "Priority"
    due: str = "Due"
    scheduled: str = "Scheduled"
    estimate: str = "Estimate"
    tags: str = "Tags"
    notes: str = "Notes"
    splittable: str = "Splittable"
    min_chunk: str = "Min chunk"
    # A tenant's own option names, e.g. {"Someday": "todo"}; checked before the built-in aliases.
    status_aliases: dict[str, TaskStatus] = Field(default_factory=dict)
    priority_aliases: dict[str, Priority] = Field(default_factory=dict)


class RoutinePropertyMap(DomainModel):
    """Which Notion property holds each routine field (by name)."""

    title: str = "Name"
    recurrence: str = "Recurrence"  # select (Daily/Weekdays/Weekly) or multi_select of weekdays
    days: str = "Days"  # multi_select of weekdays, read when Recurrence is "Weekly"
    window_start: str = "Window start"  # rich text "HH:MM" or a date with a time
    window_end: str = "Window end"
    window: str = "Window"  # alternatively one date range property: its start and end times
    duration: str = "Duration"
    priority: str = "Priority"
    active: str = "Active"
    priority_aliases: dict[str, Priority] = Field(default_factory=dict)


DEFAULT_TASK_MAP = TaskPropertyMap()
DEFAULT_ROUTINE_MAP = RoutinePropertyMap()


@dataclass(frozen=True)
class MappingWarning:
    """Something on a page that was ignored or replaced by a default (safe to log)."""

    page_id: str
    property: str | None
    message: str

    def __str__(self) -> str:
        where = f" property {self.property!r}" if self.property else ""
        return f"page {self.page_id}{where}: {self.message}"


@dataclass
class Mapped(Generic[T]):
    """A mapping result: the value (``None`` if impossible) and what was not understood."""

    value: T | None
    warnings: list[MappingWarning] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------------


class _PageReader:
    """Reads properties of one page, turning surprises into warnings."""

    def __init__(self, page: Mapping[str, Any]) -> None:
        self.page_id = str(page.get("id") or "unknown")
        props = page.get("properties")
        self.props: Mapping[str, Any] = props if isinstance(props, Mapping) else {}
        self.warnings: list[MappingWarning] = []

    def warn(self, name: str | None, message: str) -> None:
        self.warnings.append(MappingWarning(self.page_id, name, message))

    def read(self, name: str, reader: Callable[[Mapping[str, Any]], Any], expected: str) -> Any:
        """The property's value, or ``None`` if it is missing, empty or of the wrong type."""
        prop = self.props.get(name)
        if prop is None:
            return None
        try:
            return reader(prop)
        except P.UnexpectedType as error:
            self.warn(name, f"has type {error.actual}, expected {expected}; ignored")
            return None

    def title(self, name: str) -> str:
        text = self.read(name, P.read_text, "title") if name in self.props else None
        if text is None:
            # Every data source page has exactly one title property, whatever it is called.
            for prop in self.props.values():
                if isinstance(prop, Mapping) and prop.get("type") == "title":
                    text = P.plain_text(prop.get("title"))
                    break
        text = (text or "").strip()
        return text or UNTITLED

    def minutes(self, name: str, *, low: int = 1, high: int = 24 * 60) -> int | None:
        """A duration in minutes from a number, or text such as "1h30"."""
        prop = self.props.get(name)
        if prop is None:
            return None
        value: Any
        try:
            value = P.read_number(prop)
        except P.UnexpectedType:
            text = self.read(name, P.read_text, "number (minutes)")
            if not text:
                return None
            value = parse_duration_minutes(text)
            if value is None:
                self.warn(name, "is not a duration in minutes; ignored")
                return None
        if value is None:
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.warn(name, "is not a finite number; ignored")
            return None
        minutes = round(value)
        if not low <= minutes <= high:
            self.warn(name, f"must be between {low} and {high} minutes; ignored")
            return None
        return minutes

    def priority(self, name: str, extra: Mapping[str, Priority]) -> Priority | None:
        prop = self.props.get(name)
        if prop is None:
            return None
        try:
            number = P.read_number(prop)
        except P.UnexpectedType:
            number = None
        else:
            if number is not None and int(number) in Priority._value2member_map_:
                return Priority(int(number))
        option = self.read(name, P.read_option, "select")
        if option is None:
            return None
        value = lookup(option, PRIORITY_ALIASES, extra)
        if value is None:
            self.warn(name, f"option {option!r} is not a known priority; using Medium")
        return value  # type: ignore[return-value]


def _is_trashed(page: Mapping[str, Any]) -> bool:
    return bool(page.get("in_trash") or page.get("archived"))


def _page_basics(page: Mapping[str, Any]) -> dict[str, Any]:
    basics: dict[str, Any] = {"id": str(page["id"])}
    if isinstance(page.get("url"), str):
        basics["url"] = page["url"]
    edited = page.get("last_edited_time")
    if isinstance(edited, str):
        try:
            basics["last_edited_time"] = P.parse_notion_datetime(edited)
        except ValueError:
            pass
    return basics


def _validate(model: type[T], data: dict[str, Any], reader: _PageReader) -> Mapped[T]:
    try:
        return Mapped(model.model_validate(data), reader.warnings)  # type: ignore[attr-defined]
    except ValidationError as error:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e.get("loc")})) or "page"
        reader.warn(None, f"could not be mapped ({fields} invalid); skipped")
        return Mapped(None, reader.warnings)


def _not_a_page(page: Any) -> Mapped[Any] | None:
    if not isinstance(page, Mapping) or page.get("object") not in ("page", None) or not page.get("id"):
        page_id = str(page.get("id")) if isinstance(page, Mapping) and page.get("id") else "unknown"
        return Mapped(None, [MappingWarning(page_id, None, "is not a page object; skipped")])
    return None


def page_to_task(page: Mapping[str, Any], *, property_map: TaskPropertyMap = DEFAULT_TASK_MAP) -> Mapped[Task]:
    """The task a Notion page describes (trashed or not: see :func:`pages_to_tasks`)."""
    if (invalid := _not_a_page(page)) is not None:
        return invalid
    m = property_map
    r = _PageReader(page)
    data = _page_basics(page)
    data["title"] = r.title(m.title)

    status = _read_status(r, m)
    if status is not None:
        data["status"] = status
    if (priority := r.priority(m.priority, m.priority_aliases)) is not None:
        data["priority"] = priority

    due = r.read(m.due, P.read_date, "date")
    if due is not None:
        data["due"] = due.end or due.start  # a range is due by its end
    scheduled = r.read(m.scheduled, P.read_date, "date")
    if scheduled is not None:
        if isinstance(scheduled.start, datetime):
            data["scheduled_start"] = scheduled.start
        else:
            r.warn(m.scheduled, "has no time of day; ignored")
    if (estimate := r.minutes(m.estimate)) is not None:
        data["estimate_minutes"] = estimate
    if (min_chunk := r.minutes(m.min_chunk, low=5)) is not None:
        data["min_chunk_minutes"] = min_chunk
    tags = r.read(m.tags, P.read_options, "multi_select")
    if tags:
        data["tags"] = list(dict.fromkeys(tags))
    notes = r.read(m.notes, P.read_text, "rich_text")
    if notes:
        data["notes"] = notes
    splittable = r.read(m.splittable, P.read_checkbox, "checkbox")
    if splittable is not None:
        data["splittable"] = splittable
    return _validate(Task, data, r)


def _read_status(r: _PageReader, m: TaskPropertyMap) -> TaskStatus | None:
    prop = r.props.get(m.status)
    if prop is None:
        return None
    if isinstance(prop, Mapping) and prop.get("type") == "checkbox":
        done = r.read(m.status, P.read_checkbox, "status")
        return TaskStatus.DONE if done else TaskStatus.TODO
    option = r.read(m.status, P.read_option, "status or select")
    if option is None:
        return None
    status = lookup(option, STATUS_ALIASES, m.status_aliases)
    if status is None:
        r.warn(m.status, f"option {option!r} is not a known status; using To do")
    return status  # type: ignore[return-value]


def pages_to_tasks(
    pages: Iterable[Mapping[str, Any]], *, property_map: TaskPropertyMap = DEFAULT_TASK_MAP
) -> tuple[list[Task], list[MappingWarning]]:
    """Tasks of the pages that are not in the trash, and every warning met on the way."""
    return _map_pages(pages, lambda page: page_to_task(page, property_map=property_map))


def _map_pages(pages: Iterable[Mapping[str, Any]], convert: Any) -> tuple[list[Any], list[MappingWarning]]:
    values: list[Any] = []
    warnings: list[MappingWarning] = []
    for page in pages:
        if isinstance(page, Mapping) and _is_trashed(page):
            continue
        mapped = convert(page)
        warnings.extend(mapped.warnings)
        if mapped.value is not None:
            values.append(mapped.value)
    return values, warnings


def page_to_routine(
    page: Mapping[str, Any], *, property_map: RoutinePropertyMap = DEFAULT_ROUTINE_MAP
) -> Mapped[Routine]:
    """The routine a Notion page describes."""
    if (invalid := _not_a_page(page)) is not None:
        return invalid
    m = property_map
    r = _PageReader(page)
    data = _page_basics(page)
    data["title"] = r.title(m.title)

    words = r.read(m.recurrence, P.read_options, "select or multi_select")
    if words:
        days = r.read(m.days, P.read_options, "multi_select") or []
        recurrence = parse_recurrence(words, days)
        if recurrence is None:
            r.warn(m.recurrence, f"{', '.join(words)!r} is not a recurrence; using daily")
        else:
            data["recurrence"] = recurrence

    start, end = _read_window(r, m)
    # Compare with the defaults filled in: "starts 19:00" alone conflicts with the default end.
    effective_start = start or Routine.model_fields["window_start"].default
    effective_end = end or Routine.model_fields["window_end"].default
    if (start or end) and effective_end <= effective_start:
        r.warn(m.window_end if end else m.window_start, "window ends before it starts; using the default window")
    else:
        if start is not None:
            data["window_start"] = start
        if end is not None:
            data["window_end"] = end
    if (duration := r.minutes(m.duration)) is not None:
        data["duration_minutes"] = duration
    if (priority := r.priority(m.priority, m.priority_aliases)) is not None:
        data["priority"] = priority
    active = r.read(m.active, P.read_checkbox, "checkbox")
    if active is not None:
        data["active"] = active
    return _validate(Routine, data, r)


def _read_time(r: _PageReader, name: str) -> time | None:
    prop = r.props.get(name)
    if prop is None:
        return None
    if isinstance(prop, Mapping) and prop.get("type") == "date":
        value = r.read(name, P.read_date, "date")
        if value is None:
            return None
        if not isinstance(value.start, datetime):
            r.warn(name, "has no time of day; ignored")
            return None
        return value.start.time()
    text = r.read(name, P.read_text, "rich_text (HH:MM)")
    if not text:
        return None
    parsed = parse_time_of_day(text)
    if parsed is None:
        r.warn(name, "is not a time of day such as 09:30; ignored")
    return parsed


def _read_window(r: _PageReader, m: RoutinePropertyMap) -> tuple[time | None, time | None]:
    start, end = _read_time(r, m.window_start), _read_time(r, m.window_end)
    if start is None and end is None and m.window in r.props:
        value = r.read(m.window, P.read_date, "date range")
        if value is not None:
            if isinstance(value.start, datetime) and isinstance(value.end, datetime):
                return value.start.time(), value.end.time()
            r.warn(m.window, "is not a range of two times; ignored")
    return start, end


def pages_to_routines(
    pages: Iterable[Mapping[str, Any]], *, property_map: RoutinePropertyMap = DEFAULT_ROUTINE_MAP
) -> tuple[list[Routine], list[MappingWarning]]:
    """Routines of the pages that are not in the trash, and every warning met on the way."""
    return _map_pages(pages, lambda page: page_to_routine(page, property_map=property_map))


# --- writing ------------------------------------------------------------------------------------


class _PropertyWriter:
    """Builds a properties payload, following the data source's schema when it is known."""

    def __init__(self, schema: Mapping[str, Any] | None, subject: str) -> None:
        self.schema = schema
        self.subject = subject
        self.payload: dict[str, Any] = {}
        self.warnings: list[MappingWarning] = []

    def kind_of(self, name: str, default: str, allowed: Collection[str]) -> str | None:
        """The type to write ``name`` as; ``None`` (skip it) if the data source lacks it or it does
        not fit. A missing property is skipped silently: users delete columns they do not use."""
        if self.schema is None:
            return default
        spec = self.schema.get(name)
        if not isinstance(spec, Mapping):
            logger.debug("property %r is not in the data source; not written", name)
            return None
        kind = spec.get("type")
        if kind not in allowed:
            self.warnings.append(MappingWarning(self.subject, name, f"has type {kind}, which cannot hold it; not written"))
            return None
        return str(kind)

    def options(self, name: str) -> list[str]:
        spec = (self.schema or {}).get(name)
        if not isinstance(spec, Mapping):
            return []
        config = spec.get(spec.get("type"))
        options = config.get("options") if isinstance(config, Mapping) else None
        return [o["name"] for o in options or [] if isinstance(o, Mapping) and isinstance(o.get("name"), str)]

    def title_name(self, name: str) -> str:
        """``name``, or the data source's title property if it is called something else."""
        if self.schema is None or name in self.schema:
            return name
        for other, spec in self.schema.items():
            if isinstance(spec, Mapping) and spec.get("type") == "title":
                return str(other)
        return name

    def put(self, name: str, kind: str, value: Any) -> None:
        self.payload[name] = P.write_value(kind, value)

    def put_option(self, name: str, kind: str, target: object, default: str, aliases: Mapping[str, object], extra: Mapping[str, object]) -> None:
        """Write the option meaning ``target``: an existing one if the schema has it."""
        existing = self.options(name)
        chosen = _option_for(target, default, existing, aliases, extra)
        if kind == "status" and self.schema is not None and chosen not in existing:
            # Status options cannot be created through the API: Notion would reject the write.
            self.warnings.append(MappingWarning(self.subject, name, f"has no option meaning {default!r}; not written"))
            return
        self.put(name, kind, chosen)


def _option_for(target: object, default: str, existing: list[str], aliases: Mapping[str, object], extra: Mapping[str, object]) -> str:
    """The existing option meaning ``target`` (first match), else ``default``."""
    for option in existing:
        if option == default:
            return option
    for option in existing:
        if lookup(option, aliases, extra) == target:
            return option
    return default


def task_to_properties(
    task: Task,
    *,
    property_map: TaskPropertyMap = DEFAULT_TASK_MAP,
    schema: Mapping[str, Any] | None = None,
    fields: Collection[str] | None = None,
) -> Mapped[dict[str, Any]]:
    """The ``properties`` payload writing ``task`` (only ``fields`` of it, if given).

    ``fields`` names Task attributes: title, status, priority, due, scheduled_start,
    estimate_minutes, tags, notes, splittable, min_chunk_minutes.
    """
    m = property_map
    w = _PropertyWriter(schema, task.id)
    wanted = set(fields) if fields is not None else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    title = w.title_name(m.title)
    if want("title") and (kind := w.kind_of(title, "title", {"title", "rich_text"})):
        w.put(title, kind, task.title)
    if want("status") and (kind := w.kind_of(m.status, "select", {"status", "select", "checkbox"})):
        if kind == "checkbox":
            w.put(m.status, kind, task.status == TaskStatus.DONE)
        else:
            w.put_option(m.status, kind, task.status, STATUS_NAMES[task.status], STATUS_ALIASES, m.status_aliases)
    if want("priority") and (kind := w.kind_of(m.priority, "select", {"select", "status", "number"})):
        if kind == "number":
            w.put(m.priority, kind, int(task.priority))
        else:
            w.put_option(
                m.priority, kind, task.priority, PRIORITY_NAMES[task.priority], PRIORITY_ALIASES, m.priority_aliases
            )
    if want("due") and (kind := w.kind_of(m.due, "date", {"date"})):
        w.put(m.due, kind, task.due)
    if want("scheduled_start") and (kind := w.kind_of(m.scheduled, "date", {"date"})):
        w.put(m.scheduled, kind, task.scheduled_start)
    if want("estimate_minutes") and (kind := w.kind_of(m.estimate, "number", {"number", "rich_text"})):
        w.put(m.estimate, kind, task.estimate_minutes if kind == "number" else f"{task.estimate_minutes} min")
    if want("min_chunk_minutes") and (kind := w.kind_of(m.min_chunk, "number", {"number", "rich_text"})):
        value = task.min_chunk_minutes
        w.put(m.min_chunk, kind, value if kind == "number" else f"{value} min")
    if want("tags") and (kind := w.kind_of(m.tags, "multi_select", {"multi_select"})):
        w.put(m.tags, kind, task.tags)
    if want("notes") and (kind := w.kind_of(m.notes, "rich_text", {"rich_text"})):
        w.put(m.notes, kind, task.notes)
    if want("splittable") and (kind := w.kind_of(m.splittable, "checkbox", {"checkbox"})):
        w.put(m.splittable, kind, task.splittable)
    return Mapped(w.payload, w.warnings)


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def routine_to_properties(
    routine: Routine,
    *,
    property_map: RoutinePropertyMap = DEFAULT_ROUTINE_MAP,
    schema: Mapping[str, Any] | None = None,
) -> Mapped[dict[str, Any]]:
    """The ``properties`` payload writing ``routine``."""
    m = property_map
    w = _PropertyWriter(schema, routine.id)
    title = w.title_name(m.title)
    if kind := w.kind_of(title, "title", {"title"}):
        w.put(title, kind, routine.title)
    if kind := w.kind_of(m.recurrence, "select", {"select", "multi_select"}):
        recurrence: Recurrence = routine.recurrence
        if kind == "multi_select":
            w.put(m.recurrence, kind, recurrence_day_names(recurrence))
        else:
            w.put(m.recurrence, kind, recurrence.kind.capitalize())
            if recurrence.kind == "weekly" and (days_kind := w.kind_of(m.days, "multi_select", {"multi_select"})):
                w.put(m.days, days_kind, recurrence_day_names(recurrence))
    for name, value in ((m.window_start, routine.window_start), (m.window_end, routine.window_end)):
        if kind := w.kind_of(name, "rich_text", {"rich_text", "title"}):
            w.put(name, kind, _clock(value))
    if kind := w.kind_of(m.duration, "number", {"number", "rich_text"}):
        w.put(m.duration, kind, routine.duration_minutes if kind == "number" else f"{routine.duration_minutes} min")
    if kind := w.kind_of(m.priority, "select", {"select", "number"}):
        if kind == "number":
            w.put(m.priority, kind, int(routine.priority))
        else:
            default = PRIORITY_NAMES[routine.priority]
            w.put_option(m.priority, kind, routine.priority, default, PRIORITY_ALIASES, m.priority_aliases)
    if kind := w.kind_of(m.active, "checkbox", {"checkbox"}):
        w.put(m.active, kind, routine.active)
    return Mapped(w.payload, w.warnings)


__all__ = [
    "DEFAULT_ROUTINE_MAP",
    "DEFAULT_TASK_MAP",
    "Mapped",
    "MappingWarning",
    "RoutinePropertyMap",
    "TaskPropertyMap",
    "page_to_routine",
    "page_to_task",
    "pages_to_routines",
    "pages_to_tasks",
    "routine_to_properties",
    "task_to_properties",
]
