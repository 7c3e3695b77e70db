"""UsageMeter on both adapters: log documents, daily aggregates, exact totals under concurrency."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from shared.errors import InvalidRequest
from shared.models import OperationType, UsageRecord
from shared.usage.meter import UsageMeter
from tests.shared.usage.conftest import TENANT, run_in_threads


def test_record_writes_a_log_and_the_days_aggregate(clocked_store, clock):
    meter = UsageMeter(clocked_store, clock=clock)
    when = datetime(2025, 3, 14, 23, 59, 59, 999_000, tzinfo=timezone.utc)
    logged = meter.record(
        UsageRecord(operation=OperationType.LLM_CALL, tokens_in=120, tokens_out=30,
                    cost_usd=Decimal("0.00004215"), timestamp=when, request_id="req-1", detail="gpt-4o-mini"),
        tenant_id=TENANT,
    )
    assert logged.day == "2025-03-14"
    assert logged.log_id.startswith("20250314235959999000-")
    log = clocked_store.get(f"usage_logs/{logged.log_id}", tenant_id=TENANT)
    assert log["operation"] == "llm_call"
    assert (log["tokens_in"], log["tokens_out"], log["cost_nano_usd"]) == (120, 30, 42_150)
    assert log["timestamp"] == when
    assert log["request_id"] == "req-1" and log["detail"] == "gpt-4o-mini"
    assert log["expires_at"] == clock() + timedelta(days=400)
    daily = clocked_store.get("usage_daily/2025-03-14", tenant_id=TENANT)
    assert daily["day"] == "2025-03-14"
    assert {k: daily[k] for k in ("count", "tokens_in", "tokens_out", "cost_nano_usd")} == {
        "count": 1, "tokens_in": 120, "tokens_out": 30, "cost_nano_usd": 42_150}
    assert (daily["count_llm_call"], daily["tokens_in_llm_call"], daily["cost_nano_usd_llm_call"]) == (1, 120, 42_150)
    assert "count_sync" not in daily


def test_the_utc_day_decides_the_aggregate(clocked_store, clock):
    meter = UsageMeter(clocked_store, clock=clock)
    # 00:30 in UTC+02:00 is still the previous UTC day.
    local = datetime(2025, 3, 15, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert meter.record(UsageRecord(operation=OperationType.SYNC, timestamp=local), tenant_id=TENANT).day == "2025-03-14"
    assert meter.record(UsageRecord(operation=OperationType.SYNC, timestamp=local + timedelta(hours=2)),
                        tenant_id=TENANT).day == "2025-03-15"
    assert clocked_store.get("usage_daily/2025-03-14", tenant_id=TENANT)["count_sync"] == 1
    assert clocked_store.get("usage_daily/2025-03-15", tenant_id=TENANT)["count_sync"] == 1


def test_naive_timestamps_are_refused(store, clock):
    naive = UsageRecord(operation=OperationType.PLAN, timestamp=datetime(2025, 3, 14, 12))
    with pytest.raises(InvalidRequest) as caught:
        UsageMeter(store, clock=clock).record(naive, tenant_id=TENANT)
    assert caught.value.field == "timestamp"
    assert store.query("usage_logs", tenant_id=TENANT) == []


def test_concurrent_records_lose_no_counts(store_factory, clock, store_backend):
    threads, rounds = (8, 10) if store_backend == "sqlite" else (6, 5)
    meters = [UsageMeter(store_factory(clock=clock), clock=clock) for _ in range(threads)]
    when = clock()

    def work(index: int) -> None:
        for round_ in range(rounds):
            operation = OperationType.LLM_CALL if round_ % 2 == 0 else OperationType.NOTION_REQUESTS
            meters[index].record(UsageRecord(operation=operation, tokens_in=7, tokens_out=3,
                                             cost_usd=Decimal("0.00000011"), timestamp=when), tenant_id=TENANT)

    run_in_threads(threads, work)
    store = store_factory(clock=clock)
    daily = store.get("usage_daily/2025-03-14", tenant_id=TENANT)
    total = threads * rounds
    llm_calls = threads * ((rounds + 1) // 2)
    assert daily["count"] == total
    assert daily["tokens_in"] == 7 * total and daily["tokens_out"] == 3 * total
    assert daily["cost_nano_usd"] == 110 * total  # integers: exact, no float drift
    assert daily["count_llm_call"] == llm_calls
    assert daily["count_notion_requests"] == total - llm_calls
    assert len(store.query("usage_logs", tenant_id=TENANT)) == total
