"""Server-rendered SVG charts: scale, stacking, labels, accessibility and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from shared.dashboard.charts import Series, bar_chart, horizontal_bars, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # well-formed XML, or this raises


@pytest.mark.parametrize("value,ceiling,step", [(0, 1.0, 0.25), (1, 1.0, 0.25), (7, 8.0, 2.0), (95, 100.0, 25.0),
                                                 (1234, 2000.0, 500.0), (0.0003, 0.0004, 0.0001)])
def test_nice_ceiling_is_round_and_covers_the_value(value, ceiling, step):
    got_ceiling, got_step = nice_ceiling(value)
    assert got_ceiling == pytest.approx(ceiling) and got_step == pytest.approx(step)
    assert got_ceiling >= value


def test_stacked_bars_are_proportional_and_stack_on_each_other():
    svg = parse(bar_chart(["a", "b"], [Series("in", [100, 50]), Series("out", [100, 0], "chart-b", "#e08a1e")],
                          title="Tokens", description="Tokens per day", width=400, height=240))
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Tokens"
    assert svg.get("aria-labelledby") == "chart-title chart-desc"
    bars = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "chart-bar"]
    assert [g.find(f"{SVG}title").text for g in bars] == ["a: in 100, out 100", "b: in 50, out 0"]
    first = [(float(r.get("y")), float(r.get("height"))) for r in bars[0].iter(f"{SVG}rect")]
    second = [float(r.get("height")) for r in bars[1].iter(f"{SVG}rect")]
    assert len(first) == 2 and len(second) == 1  # a zero layer draws nothing
    (y_in, h_in), (y_out, h_out) = first
    assert h_in == pytest.approx(h_out) and y_out == pytest.approx(y_in - h_out)  # stacked
    assert second[0] == pytest.approx(h_in / 2)  # proportional
    legend = [t.text for t in svg.iter(f"{SVG}text") if t.text in ("in", "out")]
    assert legend == ["in", "out"]


def test_labels_can_be_thinned_and_text_is_escaped():
    labels = [f"d{i}" for i in range(10)]
    svg = str(bar_chart(labels, [Series("<b>x</b>", list(range(10)))], title='A "quoted" <title>',
                        description="d & e", label_every=4))
    shown = re.findall(r'class="chart-label"[^>]*>([^<]+)<', svg)
    assert shown == ["d0", "d4", "d8", "d9"]  # every fourth and the last
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "A &quot;quoted&quot; &lt;title&gt;" in svg
    parse(svg)


def test_an_all_zero_chart_still_draws_axes():
    svg = parse(bar_chart(["a"], [Series("x", [0])], title="t", description="d"))
    assert not list(svg.iter(f"{SVG}rect")) and len(list(svg.iter(f"{SVG}line"))) >= 2


def test_series_must_match_the_labels():
    with pytest.raises(ValueError):
        bar_chart(["a", "b"], [Series("x", [1])], title="t", description="d")


def test_horizontal_bars_scale_to_the_largest_value():
    svg = parse(horizontal_bars([("Syncs", 10), ("Plans", 5), ("Chat", 0)], title="Ops", description="d"))
    widths = [float(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] > 0 and widths[1] == pytest.approx(widths[0] / 2) and widths[2] == 0
    assert [t.text for t in svg.iter(f"{SVG}title")][1:] == ["Syncs: 10", "Plans: 5", "Chat: 0"]
