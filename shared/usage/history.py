"""Reading usage logs back: filters, cursor pages and a bounded stream for exports.

Logs are ordered newest first by ``log_id`` (which sorts by time). Date filters are UTC days,
inclusive at both ends, turned into a range on ``log_id`` (its first eight characters are the day),
so one ordered field serves the range and the order; with an ``operation`` filter Firestore needs
the composite index ``usage_logs (operation ASC, log_id DESC)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.models import OperationType
from shared.store.base import DocumentStore, Filter
from shared.usage.cursor import decode_cursor, encode_cursor
from shared.usage.meter import LOGS
from shared.usage.money import format_usd

MAX_PAGE = 100
DEFAULT_PAGE = 50
EXPORT_PAGE = 500
MAX_EXPORT_ROWS = 100_000  # bounds one export's time and memory; narrow the dates for more


class LogFilter(BaseModel):
    """Which logs: one operation and/or a UTC date range (``from``/``to`` inclusive, YYYY-MM-DD)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    operation: OperationType | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None

    @field_validator("to")
    @classmethod
    def _not_before_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("from_")
        if value is not None and start is not None and value < start:
            raise ValueError("it must not be before 'from'")
        return value

    def store_filters(self) -> list[Filter]:
        found: list[Filter] = []
        if self.operation is not None:
            found.append(Filter("operation", "==", self.operation.value))
        if self.from_ is not None:
            found.append(Filter("log_id", ">=", f"{self.from_:%Y%m%d}"))
        if self.to is not None:
            found.append(Filter("log_id", "<", f"{self.to + timedelta(days=1):%Y%m%d}"))
        return found


class LogQuery(LogFilter):
    """The query string of GET /usage/logs."""

    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=200)


class LogEntry(BaseModel):
    """One usage log line as the API shows it."""

    id: str
    timestamp: datetime
    operation: str
    tokens_in: int
    tokens_out: int
    cost_usd: str
    request_id: str
    detail: str

    @classmethod
    def from_document(cls, data: dict[str, Any]) -> LogEntry:
        return cls(
            id=data["log_id"],
            timestamp=data["timestamp"],
            operation=data.get("operation", ""),
            tokens_in=int(data.get("tokens_in", 0)),
            tokens_out=int(data.get("tokens_out", 0)),
            cost_usd=format_usd(int(data.get("cost_nano_usd", 0))),
            request_id=data.get("request_id", ""),
            detail=data.get("detail", ""),
        )


class LogPage(BaseModel):
    items: list[LogEntry]
    next_cursor: str | None = None


def _fetch(store: DocumentStore, *, tenant_id: str, where: LogFilter, limit: int, after: str | None) -> list[LogEntry]:
    documents = store.query(
        LOGS,
        tenant_id=tenant_id,
        filters=where.store_filters(),
        order_by=[("log_id", "desc")],
        limit=limit,
        start_after=[after] if after else None,
    )
    return [LogEntry.from_document(document.data) for document in documents]


def list_logs(store: DocumentStore, query: LogQuery, *, tenant_id: str) -> LogPage:
    """One page of logs, newest first; ``next_cursor`` is set when more follow."""
    after = decode_cursor(query.cursor) if query.cursor else None
    found = _fetch(store, tenant_id=tenant_id, where=query, limit=query.limit + 1, after=after)
    items = found[: query.limit]
    more = len(found) > query.limit
    return LogPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def iter_logs(
    store: DocumentStore,
    where: LogFilter,
    *,
    tenant_id: str,
    max_rows: int = MAX_EXPORT_ROWS,
    page_size: int = EXPORT_PAGE,
) -> Iterator[LogEntry]:
    """Every matching log, newest first, fetched ``page_size`` at a time, stopping after ``max_rows``."""
    after: str | None = None
    sent = 0
    while sent < max_rows:
        wanted = min(page_size, max_rows - sent)
        page = _fetch(store, tenant_id=tenant_id, where=where, limit=wanted, after=after)
        yield from page
        sent += len(page)
        if len(page) < wanted:
            return
        after = page[-1].id
