"""The bench/sync_requests scenarios, small: every sync spends exactly the minimum of requests."""

from __future__ import annotations

from bench.sync_requests import run


def test_every_scenario_spends_exactly_the_minimum(capsys):
    rows = run(tasks=150)
    assert {row["scenario"] for row in rows} >= {"3 tasks edited", "5 tasks trashed (page.deleted)", "no change"}
    assert [(row["scenario"], row["requests"]) for row in rows if row["requests"] != row["minimum"]] == []
    assert all(row["status"] in ("ok", "nothing_to_do") for row in rows)
    assert "ratio" in capsys.readouterr().out
