"""The usage summary on both adapters: 30 days with zeros, per-operation totals, quotas left."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from shared.models import OperationType, UsageRecord
from shared.usage.meter import UsageMeter
from shared.usage.quotas import QuotaService
from shared.usage.summary import usage_summary
from tests.shared.usage.conftest import SMALL_TIERS, TENANT


def test_summary_covers_thirty_days_by_day_and_operation_with_remaining_quota(clocked_store, clock):
    meter = UsageMeter(clocked_store, clock=clock)
    quotas = QuotaService(clocked_store, tiers=SMALL_TIERS, clock=clock, meter=meter)
    today = clock()

    def record(operation, when, tokens_in=0, tokens_out=0, cost="0"):
        meter.record(UsageRecord(operation=operation, tokens_in=tokens_in, tokens_out=tokens_out,
                                 cost_usd=Decimal(cost), timestamp=when), tenant_id=TENANT)

    record(OperationType.LLM_CALL, today, 100, 50, "0.00015")
    record(OperationType.LLM_CALL, today, 10, 5, "0.00000005")
    record(OperationType.SYNC, today)
    record(OperationType.PLAN, today - timedelta(days=29))
    record(OperationType.PLAN, today - timedelta(days=30))  # outside the window
    quotas.check_rate(tenant_id=TENANT)
    quotas.reserve_tokens(tenant_id=TENANT, estimated_tokens=200)
    quotas.reserve_plan(tenant_id=TENANT)

    summary = usage_summary(clocked_store, quotas, tenant_id=TENANT).model_dump(mode="json")

    assert summary["tier"] == "free"
    assert [day["date"] for day in summary["days"]] == [
        (date(2025, 3, 14) - timedelta(days=29 - offset)).isoformat() for offset in range(30)]
    assert summary["days"][0]["count"] == 1 and summary["days"][0]["by_operation"]["plan"]["count"] == 1
    assert all(day["count"] == 0 and day["cost_usd"] == "0" for day in summary["days"][1:-1])
    assert summary["today"] == summary["days"][-1]
    assert {k: summary["today"][k] for k in ("date", "count", "tokens_in", "tokens_out", "cost_usd")} == {
        "date": "2025-03-14", "count": 3, "tokens_in": 110, "tokens_out": 55, "cost_usd": "0.00015005"}
    assert summary["today"]["by_operation"]["llm_call"] == {
        "count": 2, "tokens_in": 110, "tokens_out": 55, "cost_usd": "0.00015005"}
    assert summary["today"]["by_operation"]["sync"]["count"] == 1
    assert summary["totals"]["count"] == 4
    assert summary["by_operation"]["plan"]["count"] == 1
    assert set(summary["by_operation"]) == {op.value for op in OperationType}
    assert summary["quota"] == {
        "requests_per_minute": {"limit": 5, "used": 1, "reserved": 0, "remaining": 4,
                                "resets_at": "2025-03-14T12:01:00Z"},
        "llm_tokens_per_day": {"limit": 1_000, "used": 0, "reserved": 200, "remaining": 800,
                               "resets_at": "2025-03-15T00:00:00Z"},
        "plans_per_day": {"limit": 2, "used": 1, "reserved": 0, "remaining": 1, "resets_at": "2025-03-15T00:00:00Z"},
    }


def test_an_idle_tenant_has_thirty_empty_days(store, clock):
    summary = usage_summary(store, QuotaService(store, tiers=SMALL_TIERS, clock=clock), tenant_id=TENANT)
    assert len(summary.days) == 30 and summary.totals.count == 0
    assert summary.quota["llm_tokens_per_day"].remaining == 1_000
    assert summary.today.date == date(2025, 3, 14)
    assert datetime(2025, 3, 15, tzinfo=timezone.utc) == summary.quota["plans_per_day"].resets_at
