"""Confirmations and help of the offline adapter, on result shapes beyond the end-to-end tests."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from shared.llm.base import ToolCall
from shared.llm.replies import confirm, confirm_one, format_when, help_text

PARIS = ZoneInfo("Europe/Paris")


def call(name: str, **arguments) -> ToolCall:
    return ToolCall(id=f"c_{name}", name=name, arguments=arguments)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("2026-12-04", "Fri 4 Dec 2026"),
        ("2026-12-04T14:00:00Z", "Fri 4 Dec 2026, 15:00"),
        ("2026-07-04T09:05:00+02:00", "Sat 4 Jul 2026, 09:05"),
        ("next week-ish", "next week-ish"),
        ("", None),
        (None, None),
    ],
)
def test_format_when(value, shown):
    assert format_when(value, PARIS) == shown


def test_update_without_a_new_date_lists_the_changes():
    result = json.dumps({"task": {"title": "Taxes", "priority": "high", "estimate_minutes": 45, "status": "in_progress"}})

    text = confirm_one(call("update_task", title="taxes", priority="high", estimate_minutes=45, status="in_progress"), result, PARIS)

    assert text == "Updated “Taxes”: priority high, status in progress, estimate 45 min."


def test_the_result_wins_over_what_was_asked():
    result = json.dumps({"task": {"title": "Dentist", "due": "2026-12-07"}})  # the tool moved it to Monday

    assert confirm_one(call("update_task", title="dentist", due="2026-12-04"), result, PARIS) == "Moved “Dentist” to Mon 7 Dec 2026."


def test_an_empty_plan_and_a_long_one():
    empty = confirm_one(call("show_plan", date="2026-12-01"), json.dumps({"blocks": []}), PARIS)
    blocks = [{"start": f"2026-12-01T{8 + i:02d}:00:00+01:00", "end": f"2026-12-01T{8 + i:02d}:30:00+01:00", "title": f"T{i}"} for i in range(12)]
    long = confirm_one(call("show_plan", date="2026-12-01"), json.dumps(blocks), PARIS)

    assert empty == "Your plan for Tue 1 Dec 2026: nothing is planned."
    assert long.splitlines()[1] == "- 08:00–08:30 T0"
    assert long.splitlines()[-1] == "- … and 2 more"


def test_search_results_as_a_list_and_no_hits():
    hits = json.dumps([{"title": "A"}, {"title": "B", "due": "2026-12-04"}])

    assert confirm_one(call("search_tasks", query="x"), hits, PARIS) == "Found 2 tasks: “A”, “B” (due Fri 4 Dec 2026)."
    assert confirm_one(call("search_tasks", query="zzz"), json.dumps({"tasks": []}), PARIS) == "No tasks match “zzz”."


def test_several_calls_are_confirmed_in_order_and_unknown_tools_fall_back():
    results = [
        (call("create_task", title="A"), json.dumps({"title": "A"})),
        (call("complete_task", task_id="p9"), json.dumps({"ok": True})),
        (call("archive_task", title="B"), json.dumps({"message": "Archived B."})),
        (call("archive_task", title="C"), json.dumps({"ok": True})),
    ]

    assert confirm(results, PARIS).splitlines() == [
        "Created “A”.",
        "Marked “p9” as done.",
        "Archived B.",
        "Done: archive_task.",
    ]


def test_failed_plan_calls_have_no_task_label():
    assert confirm_one(call("show_plan"), json.dumps({"error": "Notion is unavailable."}), PARIS) == (
        "I couldn't show the plan: Notion is unavailable."
    )


def test_help_without_tools():
    assert "no planner tools" in help_text([])
    assert help_text(["replan_day"], reason="Hmm.").splitlines() == [
        "Hmm.",
        "I'm running without a language model, so I understand requests like these:",
        "- replan my day",
    ]
