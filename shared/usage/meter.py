"""Metering: every usage record is logged and added to the tenant's daily aggregate.

Documents (under ``users/{tenant}``)::

    usage_logs/{log_id}      one record; log_id = "YYYYMMDDHHMMSSffffff-<random>" (UTC), so ids
                             sort by time; carries expires_at (retention) for a Firestore TTL policy
    usage_daily/{YYYY-MM-DD} the UTC day's totals, built only with store.increment:
                             count, tokens_in, tokens_out, cost_nano_usd, and per operation
                             count_<op>, tokens_in_<op>, tokens_out_<op>, cost_nano_usd_<op>

Aggregates use atomic increments (Firestore ``Increment`` transforms; one ``BEGIN IMMEDIATE`` on
SQLite), so concurrent requests never lose counts. The log write and the increment are two writes:
if the process dies between them the log line exists without being counted (never the reverse).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.models import OperationType, UsageRecord
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.usage.money import usd_to_nanos
from shared.usage.periods import Clock, as_utc, day_key, day_start, utcnow

logger = logging.getLogger(__name__)

LOGS = "usage_logs"
DAILY = "usage_daily"
LOG_RETENTION = timedelta(days=400)
DAILY_RETENTION = timedelta(days=800)

# Aggregate field names (flat: increments address top-level fields on every adapter).
COUNT, TOKENS_IN, TOKENS_OUT, COST = "count", "tokens_in", "tokens_out", "cost_nano_usd"
TOTAL_FIELDS = (COUNT, TOKENS_IN, TOKENS_OUT, COST)


def per_operation(field: str, operation: OperationType | str) -> str:
    """The aggregate field of ``field`` for one operation, e.g. ``count_llm_call``."""
    return f"{field}_{OperationType(operation).value}"


def new_log_id(timestamp: datetime) -> str:
    """A unique document id that sorts by ``timestamp`` (UTC, microseconds), then randomly."""
    return f"{as_utc(timestamp):%Y%m%d%H%M%S%f}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class LoggedUsage:
    """Where a record went: its log id and the UTC day it was counted on."""

    log_id: str
    day: str


class UsageMeter:
    """Writes usage records and their daily aggregates for one store."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        clock: Clock = utcnow,
        log_retention: timedelta = LOG_RETENTION,
        daily_retention: timedelta = DAILY_RETENTION,
    ) -> None:
        self.store = store
        self.clock = clock
        self.log_retention = log_retention
        self.daily_retention = daily_retention

    def record(self, record: UsageRecord, *, tenant_id: str) -> LoggedUsage:
        """Log ``record`` and add it to its UTC day's totals (the record's own timestamp decides
        the day; retention runs from the time of writing)."""
        timestamp = as_utc(record.timestamp)
        nanos = usd_to_nanos(record.cost_usd)
        day = timestamp.date()
        log_id = new_log_id(timestamp)
        operation = OperationType(record.operation)
        self.store.set(f"{LOGS}/{log_id}", self._log_document(record, log_id, timestamp, nanos), tenant_id=tenant_id)
        figures = {COUNT: 1, TOKENS_IN: record.tokens_in, TOKENS_OUT: record.tokens_out, COST: nanos}
        deltas: dict[str, int | float] = dict(figures)
        deltas.update({per_operation(field, operation): value for field, value in figures.items()})
        self.store.increment(
            f"{DAILY}/{day_key(day)}",
            deltas,
            tenant_id=tenant_id,
            extra={"day": day_key(day), EXPIRES_AT: day_start(day) + self.daily_retention},
        )
        logger.debug("usage recorded", extra={"operation": operation.value})
        return LoggedUsage(log_id=log_id, day=day_key(day))

    def _log_document(self, record: UsageRecord, log_id: str, timestamp: datetime, nanos: int) -> dict[str, Any]:
        return {
            "log_id": log_id,
            "operation": OperationType(record.operation).value,
            "tokens_in": record.tokens_in,
            "tokens_out": record.tokens_out,
            "cost_nano_usd": nanos,
            "timestamp": timestamp,
            "request_id": record.request_id,
            "detail": record.detail,
            EXPIRES_AT: self.clock() + self.log_retention,
        }
