"""The usage page's view model: a :class:`~shared.usage.summary.UsageSummary` turned into chart
series, an operations breakdown and quota meters."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup

from shared.dashboard.charts import Series, bar_chart, horizontal_bars, plain
from shared.usage.summary import UsageSummary

OPERATION_LABELS = {
    "llm_call": "LLM calls",
    "notion_requests": "Notion requests",
    "sync": "Syncs",
    "plan": "Plans",
    "chat": "Chat messages",
}
QUOTA_LABELS = {
    "requests_per_minute": "Requests this minute",
    "llm_tokens_per_day": "LLM tokens today",
    "plans_per_day": "Plans today",
}


def usd(value: float) -> str:
    """Dollars for an axis or a tooltip: cents from one cent up, more digits for tiny amounts."""
    if value == 0:
        return "$0"
    if abs(value) >= 0.01:
        return f"${value:,.2f}"
    return f"${value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class QuotaMeter:
    name: str
    label: str
    used: int
    reserved: int
    limit: int
    remaining: int
    percent: int  # 0..100, of the limit already used or reserved
    resets_at: str


@dataclass(frozen=True)
class DayRow:
    date: str
    count: int
    tokens_in: int
    tokens_out: int
    cost_usd: str


@dataclass(frozen=True)
class UsageView:
    tier: str
    tokens_chart: Markup
    cost_chart: Markup
    operations_chart: Markup
    quotas: list[QuotaMeter]
    days: list[DayRow]  # newest first, for the table under the charts
    operations: list[tuple[str, int, int, str]]  # label, count, tokens, cost
    total_tokens: int
    total_cost: str


def usage_view(summary: UsageSummary) -> UsageView:
    """Charts and figures for the last days of ``summary``."""
    labels = [day.date.strftime("%b %d") for day in summary.days]
    every = max(1, len(labels) // 6)
    tokens_chart = bar_chart(
        labels,
        [Series("Tokens in", [d.tokens_in for d in summary.days], "chart-a", "#2f6fde"),
         Series("Tokens out", [d.tokens_out for d in summary.days], "chart-b", "#e08a1e")],
        title="LLM tokens by day",
        description=f"Tokens sent to and received from the language model on each of the last {len(labels)} days.",
        label_every=every, chart_id="tokens-chart",
    )
    cost_chart = bar_chart(
        labels,
        [Series("Cost", [float(Decimal(d.cost_usd)) for d in summary.days], "chart-c", "#1a7f37")],
        title="Cost by day (USD)",
        description=f"What each of the last {len(labels)} days cost, in US dollars.",
        fmt=usd, label_every=every, chart_id="cost-chart",
    )
    operations = [
        (OPERATION_LABELS.get(name, name), figures.count, figures.tokens_in + figures.tokens_out, figures.cost_usd)
        for name, figures in summary.by_operation.items()
    ]
    operations_chart = horizontal_bars(
        [(label, count) for label, count, _, _ in operations],
        title="Operations in the last 30 days",
        description="How many metered operations of each kind ran.",
        fmt=plain, css_class="chart-d", fill="#8250df", chart_id="operations-chart",
    )
    quotas = []
    for name, view in summary.quota.items():
        taken = view.used + view.reserved
        percent = 100 if view.limit == 0 else min(100, round(100 * taken / view.limit))
        quotas.append(QuotaMeter(name=name, label=QUOTA_LABELS.get(name, name), used=view.used,
                                 reserved=view.reserved, limit=view.limit, remaining=view.remaining,
                                 percent=percent, resets_at=view.resets_at.strftime("%Y-%m-%d %H:%M UTC")))
    days = [DayRow(date=d.date.isoformat(), count=d.count, tokens_in=d.tokens_in, tokens_out=d.tokens_out,
                   cost_usd=d.cost_usd) for d in reversed(summary.days)]
    return UsageView(
        tier=summary.tier, tokens_chart=tokens_chart, cost_chart=cost_chart, operations_chart=operations_chart,
        quotas=quotas, days=days, operations=operations,
        total_tokens=summary.totals.tokens_in + summary.totals.tokens_out, total_cost=summary.totals.cost_usd,
    )
