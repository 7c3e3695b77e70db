"""The chat's tools over one tenant's data: their JSON schemas and what running each one does.

==================  =====================================================================  ========
tool                arguments                                                              writes
==================  =====================================================================  ========
``search_tasks``    ``query`` (meaning, via the semantic memory, plus title words),         no
                    ``status``, ``priority``, ``limit``
``create_task``     ``title``; ``due``, ``scheduled_start``, ``priority``,                 Notion
                    ``estimate_minutes``, ``notes``, ``tags``
``update_task``     ``task`` (title or id); ``due``, ``scheduled_start``, ``priority``,     Notion
                    ``status``, ``estimate_minutes`` (at least one)
``complete_task``   ``task``                                                               Notion
``show_plan``       ``date`` (default today)                                               no
``replan_day``      ``date`` (default today)                                               Notion
==================  =====================================================================  ========

Dates are ``YYYY-MM-DD``; times ISO 8601 (an offset, or the user's timezone when none is given).

A call is checked completely before anything is written: malformed JSON arguments (the adapter
marks them), an unknown tool, an argument that is missing, unknown or out of range, a task
reference that names no task or several (:mod:`shared.agent.task_refs`) — each is answered with a
tool message ``{"error": "..."}`` that says what was wrong, and nothing is written. Every write
that succeeded is kept in :attr:`ChatTools.writes` with a confirmation built from Notion's answer,
so the chat can confirm it to the user whatever the model says.

Notion writes go to Notion first; the document store's copy is updated from Notion's response right
after (the sync would bring the same), so the next tool call already sees the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from shared.agent.errors import PlanBusy
from shared.agent.plan_page import QUIET_REASONS
from shared.agent.planning_time import local_today
from shared.agent.plans import load_plan
from shared.agent.task_refs import ReferenceProblem, resolve
from shared.agent.workload import load_tasks, put_task
from shared.llm.base import Message, ToolCall, ToolSpec, tool_error_result
from shared.llm.replies import format_when
from shared.models import Priority, Task, TaskStatus, UserConfig
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionAuthError, NotionError
from shared.notion.mapping import page_to_task, task_to_properties
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

PRIORITIES = {"low": Priority.LOW, "medium": Priority.MEDIUM, "high": Priority.HIGH, "urgent": Priority.URGENT}
STATUSES = {status.value: status for status in TaskStatus}
OPEN = frozenset({TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED})
MAX_RESULTS = 25

PriorityName = Literal["low", "medium", "high", "urgent"]
StatusName = Literal["todo", "in_progress", "blocked", "done", "cancelled"]

_DATE = {"type": "string", "description": "A day, YYYY-MM-DD."}
_DUE = {"type": "string", "description": "Due day YYYY-MM-DD, or an ISO 8601 date-time for a due time."}
_START = {"type": "string", "description": "Fixed start, ISO 8601 date-time (e.g. 2026-03-31T15:00:00+02:00)."}
_TASK = {"type": "string", "description": "The task: its title as the user says it, or its id."}
_PRIORITY = {"type": "string", "enum": list(PRIORITIES)}
_STATUS = {"type": "string", "enum": list(STATUSES)}
_ESTIMATE = {"type": "integer", "minimum": 1, "maximum": 1440, "description": "Minutes of work."}

TOOL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec("search_tasks", "Find the user's tasks by meaning and title words, optionally filtered.", {
        "type": "object",
        "properties": {"query": {"type": "string", "description": "What to look for; empty lists tasks."},
                       "status": _STATUS, "priority": _PRIORITY,
                       "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS}},
    }),
    ToolSpec("create_task", "Create a task in the user's Notion Tasks database.", {
        "type": "object",
        "properties": {"title": {"type": "string", "description": "The task's title."}, "due": _DUE,
                       "scheduled_start": _START, "priority": _PRIORITY, "estimate_minutes": _ESTIMATE,
                       "notes": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["title"],
    }),
    ToolSpec("update_task", "Change a task in Notion: reschedule, priority, status or estimate.", {
        "type": "object",
        "properties": {"task": _TASK, "due": _DUE, "scheduled_start": _START, "priority": _PRIORITY,
                       "status": _STATUS, "estimate_minutes": _ESTIMATE},
        "required": ["task"],
    }),
    ToolSpec("complete_task", "Mark a task as done in Notion.", {
        "type": "object", "properties": {"task": _TASK}, "required": ["task"],
    }),
    ToolSpec("show_plan", "Show the user's time-blocked plan for a day (default today).", {
        "type": "object", "properties": {"date": _DATE},
    }),
    ToolSpec("replan_day", "Plan the rest of the day again and update Notion (default today).", {
        "type": "object", "properties": {"date": _DATE},
    }),
)
TOOL_NAMES = tuple(spec.name for spec in TOOL_SPECS)


class ToolError(Exception):
    """A call that was refused or failed; ``message`` goes back to the model (nothing written)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SearchArgs(_Args):
    query: str = Field(default="", max_length=500)
    status: StatusName | None = None
    priority: PriorityName | None = None
    limit: int = Field(default=10, ge=1, le=MAX_RESULTS)


class CreateArgs(_Args):
    title: str = Field(min_length=1, max_length=500)
    due: str | None = None
    scheduled_start: str | None = None
    priority: PriorityName | None = None
    estimate_minutes: int | None = Field(default=None, ge=1, le=1440)
    notes: str = Field(default="", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=20)


class UpdateArgs(_Args):
    task: str = Field(min_length=1, max_length=500)
    due: str | None = None
    scheduled_start: str | None = None
    priority: PriorityName | None = None
    status: StatusName | None = None
    estimate_minutes: int | None = Field(default=None, ge=1, le=1440)


class TaskArgs(_Args):
    task: str = Field(min_length=1, max_length=500)


class DayArgs(_Args):
    date: str | None = None


def _argument_error(exc: pydantic.ValidationError) -> ToolError:
    first = exc.errors(include_url=False, include_input=False)[0]
    name = ".".join(str(part) for part in first.get("loc", ())) or "arguments"
    kind = first.get("type", "")
    if kind == "missing":
        return ToolError(f"The argument '{name}' is required.")
    if kind == "extra_forbidden":
        return ToolError(f"The argument '{name}' is not one this tool takes.")
    reason = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    return ToolError(f"The argument '{name}' is invalid: {reason}.")


def parse_due(value: str, zone: ZoneInfo) -> date | datetime:
    """``YYYY-MM-DD`` as a day; an ISO date-time as an aware instant (naive = the user's clock)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ToolError("The argument 'due' must be YYYY-MM-DD or an ISO 8601 date-time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_start(value: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ToolError("The argument 'scheduled_start' must be an ISO 8601 date-time.") from None
    if len(value) == 10:
        raise ToolError("The argument 'scheduled_start' needs a time of day, not only a date.")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def task_view(task: Task) -> dict[str, Any]:
    """A task as the model sees it."""
    return {
        "id": task.id, "title": task.title, "status": task.status.value,
        "priority": {v: k for k, v in PRIORITIES.items()}[task.priority],
        "due": task.due.isoformat() if task.due else None,
        "scheduled_start": task.scheduled_start.isoformat() if task.scheduled_start else None,
        "estimate_minutes": task.estimate_minutes, "tags": task.tags, "url": task.url,
    }


@dataclass(frozen=True)
class WriteRecord:
    """One change the chat made in Notion, and the sentence that confirms it."""

    action: str  # created | updated | completed | replanned
    title: str
    confirmation: str
    task_id: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


Searcher = Callable[[str, int], Sequence[str]]  # (query, k) -> task ids, best first
Replanner = Callable[[date], Awaitable[Any]]  # day -> shared.agent.planning_job.PlanReport


@dataclass
class ChatTools:
    """The tools of one chat request for one tenant (Notion gateway open for the request)."""

    store: DocumentStore
    tenant_id: str
    config: UserConfig
    gateway: NotionGateway
    now: datetime
    searcher: Searcher | None = None
    replanner: Replanner | None = None
    writes: list[WriteRecord] = field(default_factory=list)
    _schema: dict[str, Any] | None = None

    specs = TOOL_SPECS

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    @property
    def today(self) -> date:
        return local_today(self.config, self.now)

    async def run(self, call: ToolCall) -> Message:
        """Run one call; always a tool message (a result, or ``{"error": ...}`` and no write)."""
        if not call.ok:
            return tool_error_result(call, f"The arguments could not be read ({call.error}); nothing was done. "
                                           "Send them again as one JSON object.")
        handler = getattr(self, f"_tool_{call.name}", None) if call.name in TOOL_NAMES else None
        if handler is None:
            return tool_error_result(call, f"There is no tool called '{call.name}'; nothing was done. "
                                           f"Available tools: {', '.join(TOOL_NAMES)}.")
        try:
            result = await handler(call.arguments)
        except ToolError as exc:
            logger.info("chat tool refused", extra={"tool": call.name})
            return tool_error_result(call, exc.message)
        return Message.tool_result(call, result)

    # --- reading ----------------------------------------------------------------------------------

    async def _tool_search_tasks(self, raw: dict[str, Any]) -> dict[str, Any]:
        args = self._parse(SearchArgs, raw)
        tasks = load_tasks(self.store, tenant_id=self.tenant_id)
        by_id = {task.id: task for task in tasks}
        if args.query:
            words = args.query.casefold()
            ordered = [t for t in tasks if words in t.title.casefold() or words in t.notes.casefold()
                       or any(words == tag.casefold() for tag in t.tags)]
            for task_id in self._semantic(args.query, args.limit * 2):
                if task_id in by_id and by_id[task_id] not in ordered:
                    ordered.append(by_id[task_id])
        else:
            ordered = sorted(tasks, key=lambda t: (_due_key(t), -int(t.priority), t.title.casefold()))
        wanted = {STATUSES[args.status]} if args.status else OPEN
        found = [t for t in ordered if t.status in wanted
                 and (args.priority is None or t.priority == PRIORITIES[args.priority])]
        return {"query": args.query, "count": len(found), "tasks": [task_view(t) for t in found[:args.limit]]}

    def _semantic(self, query: str, k: int) -> list[str]:
        if self.searcher is None:
            return []
        try:
            return list(self.searcher(query, k))
        except Exception:  # noqa: BLE001 - the memory is an aid: title matching still answers
            logger.warning("semantic search unavailable; answering from titles", exc_info=True)
            return []

    async def _tool_show_plan(self, raw: dict[str, Any]) -> dict[str, Any]:
        day = self._day(self._parse(DayArgs, raw).date)
        plan = load_plan(self.store, day, tenant_id=self.tenant_id)
        if plan is None:
            return {"date": day.isoformat(),
                    "message": f"There is no plan for {format_when(day.isoformat(), self.zone)} yet; "
                               "ask me to replan the day to make one."}
        return _plan_view(plan.public())

    # --- writing ----------------------------------------------------------------------------------

    async def _tool_create_task(self, raw: dict[str, Any]) -> dict[str, Any]:
        args = self._parse(CreateArgs, raw)
        source = self._tasks_source()
        values: dict[str, Any] = {"id": "new", "title": args.title, "notes": args.notes, "tags": args.tags}
        fields = {"title", "status"}
        if args.due:
            values["due"] = parse_due(args.due, self.zone)
            fields.add("due")
        if args.scheduled_start:
            values["scheduled_start"] = parse_start(args.scheduled_start, self.zone)
            fields.add("scheduled_start")
        if args.priority:
            values["priority"] = PRIORITIES[args.priority]
            fields.add("priority")
        if args.estimate_minutes:
            values["estimate_minutes"] = args.estimate_minutes
            fields.add("estimate_minutes")
        fields.update(name for name in ("notes", "tags") if values[name])
        draft = Task.model_validate(values)
        properties = task_to_properties(draft, schema=await self._schema_of(), fields=fields).value or {}
        page = await self._notion(self.gateway.create_page(source, tenant_id=self.tenant_id, properties=properties))
        task = self._store_page(page, fallback=draft)
        due = format_when(task.due.isoformat(), self.zone) if task.due else None
        confirmation = f"Created “{task.title}” in Notion" + (f", due {due}." if due else ".")
        self.writes.append(WriteRecord("created", task.title, confirmation, task.id, task.url))
        return {"task": task_view(task), "written": True, "confirmation": confirmation}

    async def _tool_update_task(self, raw: dict[str, Any]) -> dict[str, Any]:
        args = self._parse(UpdateArgs, raw)
        task = self._resolve(args.task)
        changes: dict[str, Any] = {}
        if args.due is not None:
            changes["due"] = parse_due(args.due, self.zone)
        if args.scheduled_start is not None:
            changes["scheduled_start"] = parse_start(args.scheduled_start, self.zone)
        if args.priority is not None:
            changes["priority"] = PRIORITIES[args.priority]
        if args.status is not None:
            changes["status"] = STATUSES[args.status]
        if args.estimate_minutes is not None:
            changes["estimate_minutes"] = args.estimate_minutes
        if not changes:
            raise ToolError("Say what to change: due, scheduled_start, priority, status or estimate_minutes.")
        updated = await self._write(task, changes)
        confirmation = f"Updated “{updated.title}” in Notion: {_describe(changes, updated, self.zone)}."
        self.writes.append(WriteRecord("updated", updated.title, confirmation, updated.id, updated.url))
        return {"task": task_view(updated), "written": True, "confirmation": confirmation}

    async def _tool_complete_task(self, raw: dict[str, Any]) -> dict[str, Any]:
        args = self._parse(TaskArgs, raw)
        task = self._resolve(args.task)
        if task.status == TaskStatus.DONE:
            return {"task": task_view(task), "written": False, "message": f"“{task.title}” was already done."}
        updated = await self._write(task, {"status": TaskStatus.DONE})
        confirmation = f"Marked “{updated.title}” as done in Notion."
        self.writes.append(WriteRecord("completed", updated.title, confirmation, updated.id, updated.url))
        return {"task": task_view(updated), "written": True, "confirmation": confirmation}

    async def _tool_replan_day(self, raw: dict[str, Any]) -> dict[str, Any]:
        day = self._day(self._parse(DayArgs, raw).date)
        if self.replanner is None:
            raise ToolError("Replanning is not available right now.")
        try:
            report = await self.replanner(day)
        except PlanBusy:
            raise ToolError("A plan is being written right now; try again in a minute.") from None
        except NotionAuthError:
            raise ToolError("Notion needs to be reconnected before I can write the plan.") from None
        except NotionError as exc:
            raise ToolError(f"Notion did not take the plan: {exc.message}") from None
        problems = {
            "quota_exceeded": "Your plan allows no more plans today; the limit resets at midnight UTC.",
            "day_over": "That day is over; I can only plan today or a later day.",
            "not_connected": "Notion is not connected; reconnect it first.",
            "needs_reauth": "Notion needs to be reconnected before I can write the plan.",
        }
        if report.status in problems:
            raise ToolError(problems[report.status])
        when = format_when(day.isoformat(), self.zone)
        confirmation = f"Replanned {when}: {report.blocks} blocks"
        confirmation += "; the Daily plan page in Notion is updated." if report.page_url else "."
        self.writes.append(WriteRecord("replanned", f"Plan for {when}", confirmation, None, report.page_url))
        view = _plan_view(report.plan or {"date": day.isoformat()})
        view["confirmation"] = confirmation
        return view

    # --- plumbing ---------------------------------------------------------------------------------

    @staticmethod
    def _parse(model: type[_Args], raw: dict[str, Any]):
        try:
            return model.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise _argument_error(exc) from None

    def _day(self, value: str | None) -> date:
        if not value:
            return self.today
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
        except ValueError:
            raise ToolError("The argument 'date' must be YYYY-MM-DD.") from None

    def _tasks_source(self) -> str:
        if not self.config.tasks_data_source_id:
            raise ToolError("No Tasks database is selected in the settings yet.")
        return self.config.tasks_data_source_id

    def _resolve(self, reference: str) -> Task:
        try:
            return resolve(reference, load_tasks(self.store, tenant_id=self.tenant_id))
        except ReferenceProblem as problem:
            raise ToolError(problem.message) from None

    async def _schema_of(self) -> dict[str, Any] | None:
        if self._schema is None:
            source = await self._notion(self.gateway.retrieve_data_source(self._tasks_source(),
                                                                          tenant_id=self.tenant_id))
            self._schema = source.get("properties") if isinstance(source.get("properties"), dict) else {}
        return self._schema or None

    async def _write(self, task: Task, changes: dict[str, Any]) -> Task:
        self._tasks_source()
        updated = task.model_copy(update=changes)
        properties = task_to_properties(updated, schema=await self._schema_of(), fields=set(changes)).value or {}
        if not properties:
            raise ToolError("The Tasks database has no property for that change.")
        page = await self._notion(self.gateway.update_page(task.id, tenant_id=self.tenant_id, properties=properties))
        return self._store_page(page, fallback=updated)

    def _store_page(self, page: dict[str, Any], *, fallback: Task) -> Task:
        task = page_to_task(page).value or fallback
        put_task(self.store, task, tenant_id=self.tenant_id)
        return task

    @staticmethod
    async def _notion(operation: Awaitable[Any]) -> Any:
        try:
            return await operation
        except NotionAuthError:
            raise ToolError("Notion needs to be reconnected; nothing was changed.") from None
        except NotionError as exc:
            raise ToolError(f"Notion refused the change ({exc.message}); nothing was changed.") from None


def _due_key(task: Task) -> tuple[int, str]:
    if task.due is None:
        return (1, "")
    return (0, task.due.isoformat())


def _describe(changes: dict[str, Any], task: Task, zone: ZoneInfo) -> str:
    parts = []
    for key, value in changes.items():
        if key == "due":
            parts.append(f"due {format_when(task.due.isoformat() if task.due else value.isoformat(), zone)}")
        elif key == "scheduled_start":
            moment = task.scheduled_start or value
            parts.append(f"scheduled {format_when(moment.isoformat(), zone)}")
        elif key == "priority":
            parts.append(f"priority {({v: k for k, v in PRIORITIES.items()})[task.priority]}")
        elif key == "status":
            parts.append(f"status {task.status.value.replace('_', ' ')}")
        elif key == "estimate_minutes":
            parts.append(f"estimate {task.estimate_minutes} min")
    return ", ".join(parts)


def _plan_view(plan: dict[str, Any]) -> dict[str, Any]:
    """A stored plan as the model sees it: blocks and what was left out (with why)."""
    return {
        "date": plan.get("date"),
        "timezone": plan.get("timezone"),
        "blocks": [{"start": b["start"], "end": b["end"], "title": b["title"], "kind": b["kind"]}
                   for b in plan.get("blocks", [])],
        "left_out": [{"title": item["title"], "reason": item["message"]}
                     for item in plan.get("left_out", []) if item.get("reason") not in QUIET_REASONS],
        "page_url": plan.get("page_url"),
    }


__all__ = ["TOOL_NAMES", "TOOL_SPECS", "ChatTools", "ToolError", "WriteRecord", "parse_due", "parse_start"]
