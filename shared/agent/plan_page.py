"""The "Daily plan" page in Notion: its content, and finding, creating or updating it.

There is one page per local date, titled ``Daily plan — Mon 30 Mar 2026``, under the page that
holds the tenant's Tasks database. Its id is kept in ``plans/{date}`` (:mod:`shared.agent.plans`),
so every later run of that date updates the same page: when the content changed, the page's blocks
are replaced (listed, deleted, appended); when it did not (same hash), nothing is written at all. A
page the user deleted is created again. If the id was lost (a crash between creating the page and
saving its id), the parent page's children are searched for the date's title before creating one,
so a retry adopts the page instead of duplicating it.

The content carries no timestamps of the run, only the plan: two runs that plan the same thing
write the same blocks, and the second writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.agent.plans import StoredBlock, StoredLeftOut, StoredPlan
from shared.notion.client import NotionGateway
from shared.notion.errors import NotionNotFound
from shared.notion.properties import rich_text

logger = logging.getLogger(__name__)

# Reasons that are not worth a line on the page: finished work, routines that do not happen today.
QUIET_REASONS = frozenset({"done", "cancelled", "inactive", "not_due"})
MAX_LISTED = 80  # lines per section; the page stays readable and within one append request


def page_title(day: date) -> str:
    return f"Daily plan — {day:%a} {day.day} {day:%b %Y}"


def _text(content: str, *, url: str | None = None, bold: bool = False) -> dict[str, Any]:
    text: dict[str, Any] = {"content": content[:2000]}
    if url:
        text["link"] = {"url": url}
    item: dict[str, Any] = {"type": "text", "text": text}
    if bold:
        item["annotations"] = {"bold": True}
    return item


def _block(kind: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "block", "type": kind, kind: {"rich_text": parts}}


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _block_line(block: StoredBlock, zone: ZoneInfo, urls: Mapping[str, str]) -> dict[str, Any]:
    notes = []
    if block.chunks > 1:
        notes.append(f"part {block.chunk} of {block.chunks}")
    if block.fixed:
        notes.append("fixed time")
    if block.kind == "routine":
        notes.append("routine")
    suffix = f" ({', '.join(notes)})" if notes else ""
    return _block("bulleted_list_item", [
        _text(f"{_clock(block.start, zone)}–{_clock(block.end, zone)}  ", bold=True),
        _text(block.title, url=urls.get(block.item_id) if block.kind == "task" else None),
        _text(suffix),
    ])


def _left_out_line(item: StoredLeftOut, urls: Mapping[str, str]) -> dict[str, Any]:
    return _block("bulleted_list_item", [
        _text(item.title, url=urls.get(item.item_id) if item.kind == "task" else None),
        _text(f" — {item.message} ({item.minutes} min)"),
    ])


def render(plan: StoredPlan, *, urls: Mapping[str, str] = {}) -> list[dict[str, Any]]:
    """The page's blocks (Notion request shapes) for ``plan``; ``urls`` maps task ids to pages."""
    zone = ZoneInfo(plan.timezone)
    intro = f"Your plan for {plan.date:%A} {plan.date.day} {plan.date:%B %Y} ({plan.timezone})."
    if plan.mode == "replan":
        intro += " Replanned for the rest of the day" + (f": {plan.reason}." if plan.reason else ".")
    task_minutes = sum(b.minutes for b in plan.blocks if b.kind == "task")
    intro += f" {len(plan.blocks)} blocks, {task_minutes // 60} h {task_minutes % 60:02d} min of tasks."
    blocks = [_block("paragraph", [_text(intro)]), _block("heading_2", [_text("Schedule")])]
    if plan.blocks:
        blocks.extend(_block_line(block, zone, urls) for block in plan.blocks[:MAX_LISTED])
    else:
        blocks.append(_block("paragraph", [_text("Nothing is planned.")]))
    shown = [item for item in plan.left_out if item.reason not in QUIET_REASONS]
    if shown:
        blocks.append(_block("heading_2", [_text("Not planned, and why")]))
        blocks.extend(_left_out_line(item, urls) for item in shown[:MAX_LISTED])
    return blocks


def content_hash(blocks: Sequence[Mapping[str, Any]]) -> str:
    encoded = json.dumps(list(blocks), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class PageOutcome:
    """Where the plan page is and what this run did to it."""

    page_id: str
    url: str | None
    action: str  # "created" | "adopted" | "replaced" | "unchanged"


class PlanPageWriter:
    """Finds, creates and updates one tenant's daily plan pages."""

    def __init__(self, gateway: NotionGateway, *, tenant_id: str) -> None:
        self.gateway = gateway
        self.tenant_id = tenant_id

    async def write(self, plan: StoredPlan, blocks: list[dict[str, Any]], *, parent_page_id: str,
                    on_created=None) -> PageOutcome:
        """Make the date's page show ``blocks``. ``on_created(page_id, url)`` runs right after a
        page is created, before anything else, so the caller can save its id at once."""
        digest = content_hash(blocks)
        if plan.page_id:
            page = await self._live_page(plan.page_id)
            if page is not None:
                if digest == plan.content_hash:
                    return PageOutcome(plan.page_id, plan.page_url, "unchanged")
                await self._replace(plan.page_id, blocks)
                return PageOutcome(plan.page_id, page.get("url") or plan.page_url, "replaced")
            logger.info("the daily plan page was deleted in Notion; creating it again")
        found = await self._find_by_title(parent_page_id, page_title(plan.date))
        if found is not None:
            await self._replace(found, blocks)
            page = await self._live_page(found)
            return PageOutcome(found, (page or {}).get("url"), "adopted")
        page = await self.gateway.create_page(
            parent_page_id, tenant_id=self.tenant_id, parent_type="page_id",
            properties={"title": {"title": rich_text(page_title(plan.date))}},
            icon={"type": "emoji", "emoji": "\U0001f5d3\ufe0f"}, children=blocks,
        )
        if on_created is not None:
            on_created(page["id"], page.get("url"))
        return PageOutcome(page["id"], page.get("url"), "created")

    async def _live_page(self, page_id: str) -> dict[str, Any] | None:
        try:
            page = await self.gateway.retrieve_page(page_id, tenant_id=self.tenant_id)
        except NotionNotFound:
            return None
        return None if page.get("in_trash") or page.get("archived") else page

    async def _find_by_title(self, parent_page_id: str, title: str) -> str | None:
        async for child in self.gateway.iterate_block_children(parent_page_id, tenant_id=self.tenant_id):
            if child.get("type") == "child_page" and (child.get("child_page") or {}).get("title") == title:
                if not child.get("in_trash") and not child.get("archived"):
                    return str(child["id"])
        return None

    async def _replace(self, page_id: str, blocks: list[dict[str, Any]]) -> None:
        old = [child async for child in self.gateway.iterate_block_children(page_id, tenant_id=self.tenant_id)]
        for child in old:
            if child.get("type") == "child_page":
                continue  # the user's own sub-pages stay
            await self.gateway.delete_block(child["id"], tenant_id=self.tenant_id)
        await self.gateway.append_block_children(page_id, blocks, tenant_id=self.tenant_id)
