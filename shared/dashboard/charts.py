"""Bar charts as inline SVG, rendered on the server.

No script and no external asset: the markup is complete in the page, so the chart shows with
JavaScript off and under a Content-Security-Policy that allows nothing from elsewhere. Charts are
accessible: ``role="img"`` with a ``<title>`` and ``<desc>``, a ``<title>`` per bar (the tooltip
and what a screen reader announces), and the page shows the same figures in a table.

Every text is escaped here; the result is :class:`markupsafe.Markup` so templates insert it as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One stacked layer of a bar chart: a name (legend), one value per label, and a CSS class
    (``chart-a`` ... ``chart-f``, coloured by the stylesheet; the fill attribute is a fallback)."""

    name: str
    values: Sequence[float]
    css_class: str = "chart-a"
    fill: str = "#2f6fde"


def plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def nice_ceiling(value: float) -> tuple[float, float]:
    """A round upper bound for an axis (four ticks) and its step (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0, 0.25
    exponent = math.floor(math.log10(value / 4))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * 10.0 ** exponent
        if step * 4 >= value:
            return step * 4, step
    return value, value / 4  # unreachable: factor 10 always covers value


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def bar_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, description: str,
              width: int = 720, height: int = 240, fmt: Formatter = plain, label_every: int = 1,
              chart_id: str = "chart") -> Markup:
    """A vertical bar chart, series stacked per label (one bar per label)."""
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs one value per label")
    left, right, top, bottom = 64, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(max(0.0, float(s.values[i])) for s in series) for i in range(len(labels))]
    ceiling, step = nice_ceiling(max(totals, default=0.0))
    scale = plot_h / ceiling
    slot = plot_w / max(1, len(labels))
    bar_w = max(1.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc" '
        f'id="{_attr(chart_id)}">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(description)}</desc>',
    ]
    ticks = int(round(ceiling / step))
    for k in range(ticks + 1):
        value = step * k
        y = top + plot_h - value * scale
        parts.append(f'<line class="chart-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d0d7de" stroke-width="1"/>')
        parts.append(f'<text class="chart-tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#57606a">{escape(fmt(value))}</text>')
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar_w) / 2
        base = top + plot_h
        figures = ", ".join(f"{s.name} {fmt(float(s.values[i]))}" for s in series)
        parts.append(f'<g class="chart-bar"><title>{escape(label)}: {escape(figures)}</title>')
        for s in series:
            value = max(0.0, float(s.values[i]))
            if value <= 0:
                continue
            h = value * scale
            base -= h
            parts.append(f'<rect class="{_attr(s.css_class)}" x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{_attr(s.fill)}"/>')
        parts.append("</g>")
        if label_every <= 1 or i % label_every == 0 or i == len(labels) - 1:
            parts.append(f'<text class="chart-label" x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" '
                         f'text-anchor="middle" font-size="11" fill="#57606a">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
                 f'stroke="#8c959f" stroke-width="1"/>')
    if len(series) > 1:
        x = left
        for s in series:
            parts.append(f'<rect class="{_attr(s.css_class)}" x="{x}" y="{height - 14}" width="10" height="10" '
                         f'fill="{_attr(s.fill)}"/>')
            parts.append(f'<text x="{x + 14}" y="{height - 5}" font-size="11" fill="#24292f">{escape(s.name)}</text>')
            x += 24 + 7 * len(s.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(items: Sequence[tuple[str, float]], *, title: str, description: str, width: int = 720,
                    fmt: Formatter = plain, css_class: str = "chart-a", fill: str = "#2f6fde",
                    chart_id: str = "bars") -> Markup:
    """One horizontal bar per ``(label, value)``, longest scale at the largest value."""
    row, label_w, value_w = 26, 150, 90
    height = max(1, len(items)) * row + 8
    plot_w = width - label_w - value_w
    largest = max((float(v) for _, v in items), default=0.0)
    scale = plot_w / largest if largest > 0 else 0.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc" '
        f'id="{_attr(chart_id)}">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = max(0.0, float(value)) * scale
        parts.append(f'<g class="chart-bar"><title>{escape(label)}: {escape(fmt(float(value)))}</title>')
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#24292f">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect class="{_attr(css_class)}" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="16" '
                     f'fill="{_attr(fill)}"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" fill="#57606a">'
                     f'{escape(fmt(float(value)))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
