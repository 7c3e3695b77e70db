"""Notion webhook events: the payload model and what each event means for a tenant's sync.

Every delivery is one event (``id``, ``timestamp``, ``workspace_id``, ``subscription_id``,
``integration_id``, ``type``, ``authors``, ``accessible_by``, ``attempt_number``, ``api_version``,
``entity`` and ``data``). Events are signals, never content: the sync job fetches what changed.
For pages, ``data.parent`` names the container; with ``api_version`` 2025-09-03 a row of a data
source has ``{"type": "database", "id": <database>, "data_source_id": <data source>}``.

:func:`classify` decides, from the event and the tenant's selected data sources alone (no I/O):

* ``ignore``   not about the tenant's Tasks/Routines (another data source, a plain page, comments,
  page body edits we do not read, an event type we do not know);
* ``delete``   ``page.deleted`` (or a synced page moved out of the data sources): the page is
  removed without asking Notion anything;
* ``sync``     an incremental query of the changed data source picks the change up (its rows'
  ``last_edited_time`` moved);
* ``full``     the data source must be listed in full: the change does not move ``last_edited_time``
  (a schema change alters how every row maps; a restored or moved-in row may keep an old one).

``page.undeleted`` also carries the page to keep (:class:`PageChange`), so a restoration overrules
an older deletion that arrives late.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_EVENT_TYPE = re.compile(r"^[a-z_]{1,40}\.[a-z_]{1,40}$")

# Page events whose change shows in the page's properties or place (and its last_edited_time).
_PAGE_SYNC = frozenset({"page.created", "page.properties_updated", "page.undeleted", "page.deleted", "page.moved"})
# Page events that cannot change a task or routine: we read properties, not the page body.
_PAGE_IGNORED = frozenset({"page.content_updated", "page.locked", "page.unlocked"})
# Data source events (2025-09-03): the entity is the data source itself.
_SOURCE_FULL = frozenset({"data_source.schema_updated", "data_source.undeleted", "data_source.created"})
_SOURCE_SYNC = frozenset({"data_source.content_updated", "data_source.moved", "data_source.deleted"})


def compact_id(value: str | None) -> str | None:
    """A Notion id without dashes, lower case (ids arrive in both forms)."""
    if not value or not _UUID.fullmatch(value):
        return None
    return value.replace("-", "").lower()


def _notion_uuid(value: str, field: str) -> str:
    if not _UUID.fullmatch(value):
        raise ValueError(f"{field} must be a Notion id")
    return value


class _Open(BaseModel):
    # Notion adds fields over time (workspace_name, api_version...): keep them, never refuse them.
    model_config = ConfigDict(extra="allow", frozen=True)


class EventEntity(_Open):
    id: str
    type: str = Field(min_length=1, max_length=40)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _notion_uuid(value, "entity.id")


class EventParent(_Open):
    id: str | None = None
    type: str | None = None
    data_source_id: str | None = None


class EventData(_Open):
    parent: EventParent | None = None


class NotionEvent(_Open):
    """One webhook delivery, validated enough to route and classify it."""

    id: str
    timestamp: datetime
    workspace_id: str
    type: str
    entity: EventEntity
    data: EventData = Field(default_factory=EventData)
    subscription_id: str | None = None
    integration_id: str | None = None
    authors: list[dict[str, Any]] = Field(default_factory=list)
    accessible_by: list[dict[str, Any]] = Field(default_factory=list)
    attempt_number: int | None = Field(default=None, ge=1)
    api_version: str | None = None

    @field_validator("id")
    @classmethod
    def _event_id(cls, value: str) -> str:
        return _notion_uuid(value, "id")  # it becomes a document id: keep the alphabet boring

    @field_validator("workspace_id")
    @classmethod
    def _workspace(cls, value: str) -> str:
        return _notion_uuid(value, "workspace_id")

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if not _EVENT_TYPE.fullmatch(value):
            raise ValueError("type must look like 'page.created'")
        return value

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamp must carry a time zone")
        return value


@dataclass(frozen=True)
class PageChange:
    """A page to remove from (``deleted``) or keep in (``restored``) the tenant's copy."""

    page_id: str
    deleted: bool


@dataclass(frozen=True)
class Relevance:
    """What to do about an event.

    ``action``: ``ignore``; ``delete`` (apply ``page_change`` only, no query needed); ``sync``
    (incremental query of ``data_sources``); ``full`` (full listing of ``data_sources``).
    ``data_sources`` holds compact ids; ``None`` means "every selected source" (the payload did
    not say which)."""

    action: Literal["ignore", "delete", "sync", "full"]
    reason: str
    page_change: PageChange | None = None
    data_sources: frozenset[str] | None = frozenset()


def parent_data_source(event: NotionEvent) -> str | None:
    """The data source holding the event's page, if the payload names one."""
    parent = event.data.parent
    if parent is None:
        return None
    if parent.data_source_id:
        return parent.data_source_id
    if parent.type in ("data_source", "data_source_id"):
        return parent.id
    return None


def classify(event: NotionEvent, selected: Collection[str], *, page_is_synced: bool = False) -> Relevance:
    """What ``event`` means for a tenant whose synced data sources are ``selected`` (any id form).

    ``page_is_synced`` tells whether the event's page is currently in the tenant's copy; it only
    matters for a page that left the synced data sources (moved or deleted elsewhere)."""
    chosen = {c for c in (compact_id(s) for s in selected) if c}
    if not chosen:
        return Relevance("ignore", "no data source selected")
    kind = event.type
    if kind.startswith("page."):
        return _classify_page(event, chosen, page_is_synced)
    if kind.startswith("data_source."):
        source = compact_id(event.entity.id)
        if source not in chosen:
            return Relevance("ignore", "another data source")
        if kind in _SOURCE_FULL:
            return Relevance("full", kind, data_sources=frozenset({source}))
        if kind in _SOURCE_SYNC:
            return Relevance("sync", kind, data_sources=frozenset({source}))
    return Relevance("ignore", "event type not used")


def _classify_page(event: NotionEvent, chosen: set[str], page_is_synced: bool) -> Relevance:
    kind = event.type
    if kind in _PAGE_IGNORED or kind not in _PAGE_SYNC:
        return Relevance("ignore", "event type not used")
    page_id = event.entity.id
    source = parent_data_source(event)
    parent_type = event.data.parent.type if event.data.parent else None
    sources: frozenset[str] | None
    if source is not None:
        sources = frozenset({compact_id(source)}) & chosen
        inside = bool(sources)
    elif parent_type == "database":
        # An older payload shape names the database only: it may be ours, so every selected
        # source is synced (an incremental sync of an unchanged source costs one query).
        sources, inside = None, True
    else:
        sources, inside = frozenset(), False  # a plain page, a block, the workspace: never a row
    if kind == "page.deleted":
        if inside or page_is_synced:
            return Relevance("delete", kind, PageChange(page_id, deleted=True))
        return Relevance("ignore", "another data source")
    if kind == "page.moved" and not inside:
        if page_is_synced:
            return Relevance("delete", "moved out", PageChange(page_id, deleted=True))
        return Relevance("ignore", "another data source")
    if not inside:
        return Relevance("ignore", "another data source")
    if kind in ("page.undeleted", "page.moved"):
        # A restored or moved-in row may keep an old last_edited_time: only a full listing of
        # its data source is sure to see it.
        return Relevance("full", kind, PageChange(page_id, deleted=False), data_sources=sources)
    return Relevance("sync", kind, data_sources=sources)
