"""The usage page's view: charts and meters from a real summary on the SQLite store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from shared.dashboard.usage_view import usage_view, usd
from shared.models import OperationType, UsageRecord
from shared.store.sqlite import SqliteDocumentStore
from shared.usage.meter import UsageMeter
from shared.usage.quotas import QuotaService
from shared.usage.summary import usage_summary

TENANT = "ws-0123456789abcdef0123456789abcdef"


def test_view_of_a_summary(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    store.set("", {"tenant_id": TENANT, "workspace_id": TENANT[3:], "bot_id": "b", "tier": "pro"}, tenant_id=TENANT)
    meter = UsageMeter(store)
    meter.record(UsageRecord(operation=OperationType.LLM_CALL, tokens_in=900, tokens_out=100,
                             cost_usd=Decimal("0.0015"), timestamp=now), tenant_id=TENANT)
    meter.record(UsageRecord(operation=OperationType.PLAN, timestamp=now - timedelta(days=2)), tenant_id=TENANT)
    view = usage_view(usage_summary(store, QuotaService(store, clock=lambda: now), tenant_id=TENANT))
    assert view.tier == "pro" and view.total_tokens == 1000 and view.total_cost == "0.0015"
    assert view.days[0].date == "2026-03-10" and view.days[0].tokens_in == 900  # newest first
    assert "Mar 10: Tokens in 900, Tokens out 100" in view.tokens_chart
    assert "Mar 10: Cost $0.0015" in view.cost_chart
    assert "Plans: 1" in view.operations_chart and "LLM calls: 1" in view.operations_chart
    quotas = {q.name: q for q in view.quotas}
    assert set(quotas) == {"requests_per_minute", "llm_tokens_per_day", "plans_per_day"}
    assert quotas["llm_tokens_per_day"].limit == 1_000_000 and quotas["plans_per_day"].resets_at == "2026-03-11 00:00 UTC"
    store.close()


def test_dollars_are_readable_at_every_scale():
    assert (usd(0), usd(1234.5), usd(0.0015), usd(0.5), usd(0.25)) == ("$0", "$1,234.50", "$0.0015", "$0.50", "$0.25")
