"""A tenant's tasks and routines, from the synced copy (``tasks/{id}``, ``routines/{id}``, written
by the sync job) or, before the first sync has run, straight from Notion."""

from __future__ import annotations

import logging

from pydantic import ValidationError

from shared.models import Routine, Task, UserConfig
from shared.notion.client import NotionGateway
from shared.notion.mapping import pages_to_routines, pages_to_tasks
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

MAX_ITEMS = 2000  # a preview reads at most this many rows of each kind


def stored_items(store: DocumentStore, *, tenant_id: str) -> tuple[list[Task], list[Routine]] | None:
    """The synced copy, or ``None`` if nothing was synced yet."""
    task_docs = store.query("tasks", tenant_id=tenant_id, limit=MAX_ITEMS)
    routine_docs = store.query("routines", tenant_id=tenant_id, limit=MAX_ITEMS)
    if not task_docs and not routine_docs:
        return None
    tasks: list[Task] = []
    routines: list[Routine] = []
    skipped = 0
    for docs, model, into in ((task_docs, Task, tasks), (routine_docs, Routine, routines)):
        for doc in docs:
            try:
                into.append(model.model_validate(doc.data))
            except ValidationError:
                skipped += 1  # one odd document must not hide the whole plan
    if skipped:
        logger.warning("stored items skipped", extra={"fields": {"skipped": skipped}})
    return tasks, routines


async def notion_items(gateway: NotionGateway, config: UserConfig, *,
                       tenant_id: str) -> tuple[list[Task], list[Routine]]:
    """Every row of the configured data sources, mapped (trashed rows left out)."""
    task_pages: list[dict] = []
    routine_pages: list[dict] = []
    for source, pages in ((config.tasks_data_source_id, task_pages), (config.routines_data_source_id, routine_pages)):
        if not source:
            continue
        async for page in gateway.iterate_data_source(source, tenant_id=tenant_id):
            pages.append(page)
            if len(pages) >= MAX_ITEMS:
                break
    tasks, _ = pages_to_tasks(task_pages)
    routines, _ = pages_to_routines(routine_pages)
    return tasks, routines
