"""A tenant's tasks and routines as the sync stored them (``tasks/{page_id}``, ``routines/{page_id}``).

The planning job and the chat read them from the document store, not from Notion: the sync keeps
the copy current (webhooks plus a periodic reconcile), and the chat writes its own changes through
to the copy right after writing them to Notion (:func:`put_task`), so what it just did is visible
at once. A stored document that no longer validates is skipped with a warning: one odd row never
stops a plan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, TypeVar

import pydantic

from shared.models import Routine, Task
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

TASKS = "tasks"
ROUTINES = "routines"
_PAGE = 500

M = TypeVar("M", Task, Routine)


def _documents(store: DocumentStore, collection: str, *, tenant_id: str) -> Iterator[dict[str, Any]]:
    after: list[Any] | None = None
    while True:
        page = store.query(collection, tenant_id=tenant_id, order_by=[("id", "asc")], limit=_PAGE, start_after=after)
        for document in page:
            yield document.data
        if len(page) < _PAGE:
            return
        after = [page[-1].data.get("id")]



def _load(store: DocumentStore, collection: str, model: type[M], *, tenant_id: str) -> list[M]:
    items: list[M] = []
    for data in _documents(store, collection, tenant_id=tenant_id):
        try:
            items.append(model.model_validate(data))
        except pydantic.ValidationError:
            logger.warning("skipping an unreadable stored %s document", collection[:-1])
    return items


def load_tasks(store: DocumentStore, *, tenant_id: str) -> list[Task]:
    """Every stored task of the tenant, ordered by id."""
    return _load(store, TASKS, Task, tenant_id=tenant_id)


def load_routines(store: DocumentStore, *, tenant_id: str) -> list[Routine]:
    """Every stored routine of the tenant, ordered by id."""
    return _load(store, ROUTINES, Routine, tenant_id=tenant_id)


def _get(store: DocumentStore, collection: str, model: type[M], item_id: str, *, tenant_id: str) -> M | None:
    data = store.get(f"{collection}/{item_id}", tenant_id=tenant_id)
    if not data:
        return None
    try:
        return model.model_validate(data)
    except pydantic.ValidationError:
        return None


def get_task(store: DocumentStore, task_id: str, *, tenant_id: str) -> Task | None:
    """The stored task ``task_id`` (None if absent or unreadable)."""
    return _get(store, TASKS, Task, task_id, tenant_id=tenant_id)


def get_routine(store: DocumentStore, routine_id: str, *, tenant_id: str) -> Routine | None:
    """The stored routine ``routine_id`` (None if absent or unreadable)."""
    return _get(store, ROUTINES, Routine, routine_id, tenant_id=tenant_id)


def put_task(store: DocumentStore, task: Task, *, tenant_id: str) -> None:
    """Write ``task`` to the copy in the shape the sync writes (so the sync sees it unchanged)."""
    store.set(f"{TASKS}/{task.id}", task.model_dump(mode="json"), tenant_id=tenant_id)
