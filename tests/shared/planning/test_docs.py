"""docs/planning.md's worked examples are what the engine gives today."""

from __future__ import annotations

from pathlib import Path

from shared.planning.examples import END_MARKER, START_MARKER, markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "planning.md"


def test_worked_examples_match_fresh_engine_runs():
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(START_MARKER), text.index(END_MARKER) + len(END_MARKER)
    assert text[start:end] + "\n" == markdown(), "run: python -m shared.planning.examples and paste into docs/planning.md"


def test_examples_cover_a_dst_day_an_empty_day_and_reasons():
    generated = markdown()
    assert "(-04:00)–03:15 (-05:00)" in generated  # a block across the fall-back hour
    assert "*(nothing can be planned)*" in generated
    for code in ("lower_priority", "too_long", "fixed_time_unavailable", "blocked", "done", "not_due"):
        assert f"`{code}`" in generated
