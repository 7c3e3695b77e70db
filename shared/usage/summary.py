"""The usage summary: today, the last days by day and by operation, and what each quota has left."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from shared.models import OperationType
from shared.store.base import DocumentStore, Filter
from shared.usage.meter import COST, COUNT, DAILY, TOKENS_IN, TOKENS_OUT, per_operation
from shared.usage.money import format_usd
from shared.usage.periods import day_key, utc_day
from shared.usage.quotas import QuotaFigure, QuotaService

DEFAULT_DAYS = 30


class Figures(BaseModel):
    count: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: str = "0"


class DayUsage(Figures):
    date: date
    by_operation: dict[str, Figures]


class QuotaView(BaseModel):
    limit: int
    used: int
    reserved: int
    remaining: int
    resets_at: datetime

    @classmethod
    def of(cls, figure: QuotaFigure) -> QuotaView:
        return cls(limit=figure.limit, used=figure.used, reserved=figure.reserved, remaining=figure.remaining,
                   resets_at=figure.resets_at)


class UsageSummary(BaseModel):
    tier: str
    today: DayUsage
    days: list[DayUsage]  # oldest first, one per day, zeros included
    totals: Figures  # over ``days``
    by_operation: dict[str, Figures]  # over ``days``
    quota: dict[str, QuotaView]


class _Sums:
    """Integer sums of aggregate fields (cost in nano-dollars until formatted)."""

    def __init__(self) -> None:
        self.values = {COUNT: 0, TOKENS_IN: 0, TOKENS_OUT: 0, COST: 0}

    def add(self, data: Mapping[str, Any], operation: OperationType | None = None) -> None:
        for field in self.values:
            value = data.get(per_operation(field, operation) if operation else field, 0)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.values[field] += int(value)

    def figures(self) -> Figures:
        return Figures(count=self.values[COUNT], tokens_in=self.values[TOKENS_IN],
                       tokens_out=self.values[TOKENS_OUT], cost_usd=format_usd(self.values[COST]))


def _day_usage(day: date, data: Mapping[str, Any]) -> DayUsage:
    total = _Sums()
    total.add(data)
    by_operation: dict[str, Figures] = {}
    for operation in OperationType:
        sums = _Sums()
        sums.add(data, operation)
        by_operation[operation.value] = sums.figures()
    return DayUsage(date=day, by_operation=by_operation, **total.figures().model_dump())


def usage_summary(store: DocumentStore, quotas: QuotaService, *, tenant_id: str, days: int = DEFAULT_DAYS) -> UsageSummary:
    """The tenant's usage over the last ``days`` UTC days (today included) and its quotas now."""
    today = utc_day(quotas.clock())
    first = today - timedelta(days=days - 1)
    documents = store.query(DAILY, tenant_id=tenant_id, filters=[Filter("day", ">=", day_key(first))],
                            order_by=[("day", "asc")])
    by_day = {document.data.get("day"): document.data for document in documents}
    timeline: list[DayUsage] = []
    totals = _Sums()
    per_op = {operation: _Sums() for operation in OperationType}
    for offset in range(days):
        day = first + timedelta(days=offset)
        data = by_day.get(day_key(day), {})
        timeline.append(_day_usage(day, data))
        totals.add(data)
        for operation, sums in per_op.items():
            sums.add(data, operation)
    status = quotas.status(tenant_id=tenant_id)
    return UsageSummary(
        tier=status.tier.value,
        today=timeline[-1],
        days=timeline,
        totals=totals.figures(),
        by_operation={operation.value: sums.figures() for operation, sums in per_op.items()},
        quota={
            "requests_per_minute": QuotaView.of(status.requests_per_minute),
            "llm_tokens_per_day": QuotaView.of(status.llm_tokens_per_day),
            "plans_per_day": QuotaView.of(status.plans_per_day),
        },
    )
