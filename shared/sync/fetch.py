"""Reading a data source from Notion for a sync: changed rows since a cursor, or every row.

The cursor of a data source is the time its previous read started. Notion's ``last_edited_time``
is truncated to the minute and its query index may lag a change by a little, so an incremental
read asks for rows edited **on or after** ``cursor - margin`` (two minutes by default). Rows edited
inside that margin come back again; they ride in the same query page (no extra request) and the
job recognises them as unchanged. One query request per 100 rows, nothing per row: a data source
with no change costs exactly one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.notion.client import PAGE_SIZE, NotionGateway

DEFAULT_MARGIN = timedelta(minutes=2)
SORT_BY_EDIT = [{"timestamp": "last_edited_time", "direction": "ascending"}]


def edited_since_filter(since: datetime) -> dict[str, Any]:
    """Notion's timestamp filter for rows edited on or after ``since``."""
    moment = since.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": moment}}


@dataclass
class SourceRead:
    """Rows returned by one read of a data source, and what the read cost."""

    data_source_id: str
    full: bool
    started_at: datetime  # when the first query was sent: the next cursor
    pages: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0


async def read_source(gateway: NotionGateway, data_source_id: str, *, tenant_id: str, cursor: datetime | None,
                      now: datetime, margin: timedelta = DEFAULT_MARGIN) -> SourceRead:
    """Every row of the data source edited since ``cursor - margin`` (every row if no cursor).

    ``now`` (taken just before the first query) becomes the next cursor: every edit after it
    is newer than the rows this read could miss, and the margin absorbs Notion's minute
    truncation, its index lag and a little clock skew between Notion and us."""
    full = cursor is None
    query_filter = None if full else edited_since_filter(cursor - margin)
    read = SourceRead(data_source_id, full, now)
    start_cursor: str | None = None
    while True:
        response = await gateway.query_data_source(data_source_id, tenant_id=tenant_id, filter=query_filter,
                                                   sorts=SORT_BY_EDIT, start_cursor=start_cursor, page_size=PAGE_SIZE)
        read.requests += 1
        read.pages.extend(r for r in response.get("results", []) if isinstance(r, dict))
        start_cursor = response.get("next_cursor")
        if not response.get("has_more") or not start_cursor:
            return read
