"""What onboarding reads and creates in the user's Notion workspace, through the gateway.

* :func:`workspace_choices` lists the data sources (to pick Tasks and Routines from) and the
  top-level pages (to hold new databases) shared with the integration, suggesting the data
  sources whose names say "task" and "routine";
* :func:`prepare_sources` checks the chosen data sources can be read and adds the columns of the
  templates they lack (the planner reads them; a user's own columns are never touched);
* :func:`create_databases` creates both databases from the templates under a page, optionally
  with a few example rows (:mod:`shared.dashboard.starter`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.dashboard.errors import NoParentPage, SourceNotUsable
from shared.dashboard.starter import starter_routines, starter_tasks
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionNotFound, NotionPermissionDenied, NotionValidationError
from shared.notion.mapping import routine_to_properties, task_to_properties
from shared.notion.properties import plain_text
from shared.notion.templates import ROUTINES_TEMPLATE, TASKS_TEMPLATE, DatabaseTemplate

logger = logging.getLogger(__name__)

MAX_CHOICES = 200  # a picker longer than this is unusable; the user can search in Notion instead
_ROW_PARENTS = ("data_source_id", "database_id")


@dataclass(frozen=True)
class Choice:
    id: str
    title: str
    # Template columns a data source lacks if used for tasks / for routines (added when chosen).
    missing_for_tasks: tuple[str, ...] = ()
    missing_for_routines: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkspaceChoices:
    data_sources: list[Choice] = field(default_factory=list)
    pages: list[Choice] = field(default_factory=list)
    suggested_tasks: str | None = None
    suggested_routines: str | None = None


@dataclass(frozen=True)
class CreatedDatabases:
    tasks_data_source_id: str
    routines_data_source_id: str
    tasks_database_id: str
    routines_database_id: str
    examples: int = 0  # example rows written


def _page_title(page: dict[str, Any]) -> str:
    for prop in (page.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return plain_text(prop.get("title")) or "Untitled"
    return "Untitled"


def _suggest(choices: list[Choice], *words: str) -> str | None:
    for choice in choices:
        if any(word in choice.title.lower() for word in words):
            return choice.id
    return None


async def workspace_choices(gateway: NotionGateway, *, tenant_id: str) -> WorkspaceChoices:
    """The data sources and the pages (not database rows) shared with the integration."""
    sources: list[Choice] = []
    only_sources = {"property": "object", "value": "data_source"}
    async for item in gateway.iterate_search(tenant_id=tenant_id, filter=only_sources):
        if item.get("in_trash") or item.get("archived"):
            continue
        sources.append(Choice(id=item["id"], title=plain_text(item.get("title")) or "Untitled",
                              missing_for_tasks=tuple(TASKS_TEMPLATE.missing_properties(item)),
                              missing_for_routines=tuple(ROUTINES_TEMPLATE.missing_properties(item))))
        if len(sources) >= MAX_CHOICES:
            break
    pages: list[Choice] = []
    async for item in gateway.iterate_search(tenant_id=tenant_id, filter={"property": "object", "value": "page"}):
        parent = item.get("parent") or {}
        if item.get("in_trash") or item.get("archived") or parent.get("type") in _ROW_PARENTS:
            continue  # rows of a database cannot hold a database of their own in a useful place
        pages.append(Choice(id=item["id"], title=_page_title(item)))
        if len(pages) >= MAX_CHOICES:
            break
    return WorkspaceChoices(
        data_sources=sources, pages=pages,
        suggested_tasks=_suggest(sources, "task", "to do", "todo"),
        suggested_routines=_suggest(sources, "routine", "habit"),
    )


async def _prepare(gateway: NotionGateway, data_source_id: str, template: DatabaseTemplate, field_name: str, *,
                   tenant_id: str) -> list[str]:
    try:
        source = await gateway.retrieve_data_source(data_source_id, tenant_id=tenant_id)
        missing = template.missing_properties(source)
        if missing:
            await gateway.update_data_source(data_source_id, tenant_id=tenant_id, properties=missing)
    except (NotionNotFound, NotionPermissionDenied, NotionValidationError):
        raise SourceNotUsable(field=field_name) from None
    return sorted(missing)


async def prepare_sources(gateway: NotionGateway, tasks_data_source_id: str, routines_data_source_id: str | None, *,
                          tenant_id: str) -> dict[str, list[str]]:
    """Check both data sources and add the template columns they lack; return what was added."""
    added = {"tasks": await _prepare(gateway, tasks_data_source_id, TASKS_TEMPLATE, "tasks_data_source_id",
                                     tenant_id=tenant_id)}
    if routines_data_source_id:
        added["routines"] = await _prepare(gateway, routines_data_source_id, ROUTINES_TEMPLATE,
                                           "routines_data_source_id", tenant_id=tenant_id)
    return added


async def create_databases(gateway: NotionGateway, parent_page_id: str, *, tenant_id: str, examples: bool,
                           today: date) -> CreatedDatabases:
    """Create the Tasks and Routines databases under ``parent_page_id`` (and example rows)."""
    try:
        tasks_db = await gateway.create_database(parent_page_id, tenant_id=tenant_id, **TASKS_TEMPLATE.create_kwargs())
        routines_db = await gateway.create_database(parent_page_id, tenant_id=tenant_id,
                                                    **ROUTINES_TEMPLATE.create_kwargs())
    except (NotionNotFound, NotionPermissionDenied):
        raise NoParentPage() from None
    tasks_source = tasks_db["data_sources"][0]["id"]
    routines_source = routines_db["data_sources"][0]["id"]
    written = 0
    if examples:
        for task in starter_tasks(today):
            await gateway.create_page(tasks_source, tenant_id=tenant_id, properties=task_to_properties(task).value)
            written += 1
        for routine in starter_routines():
            await gateway.create_page(routines_source, tenant_id=tenant_id,
                                      properties=routine_to_properties(routine).value)
            written += 1
    logger.info("onboarding created databases", extra={"fields": {"event": "databases_created", "examples": written}})
    return CreatedDatabases(tasks_data_source_id=tasks_source, routines_data_source_id=routines_source,
                            tasks_database_id=tasks_db["id"], routines_database_id=routines_db["id"], examples=written)
