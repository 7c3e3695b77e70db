"""The rule-based request parser: phrasings beyond the end-to-end offline tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared.llm.intents import Intent, parse_request

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=PARIS)  # a Tuesday


def parse(text: str) -> Intent:
    return parse_request(text, now=NOW, tz=PARIS)


@pytest.mark.parametrize(
    "text, tool, arguments",
    [
        ("Create “Write report” due Friday.", "create_task", {"title": "Write report", "due": "2026-12-04"}),
        ("please add a task to renew passport by dec 15 urgent 1h30m", "create_task",
         {"title": "renew passport", "due": "2026-12-15", "priority": "urgent", "estimate_minutes": 90}),
        ('Add task "Dentist" next friday 9am for 45 minutes low priority', "create_task",
         {"title": "Dentist", "due": "2026-12-04T09:00:00+01:00", "priority": "low", "estimate_minutes": 45}),
        ("new task: call Bob at 3pm", "create_task", {"title": "call Bob", "due": "2026-12-01T15:00:00+01:00"}),
        ("remind me to call mom on sunday at 6pm", "create_task", {"title": "call mom", "due": "2026-12-06T18:00:00+01:00"}),
        ("add task report 1.5 hours", "create_task", {"title": "report", "estimate_minutes": 90}),
        ("add task review budget priority: medium", "create_task", {"title": "review budget", "priority": "medium"}),
        ("schedule a meeting with Bob at 3pm", "create_task", {"title": "meeting with Bob", "due": "2026-12-01T15:00:00+01:00"}),
        ("schedule the dentist for thursday 2pm", "update_task", {"title": "dentist", "scheduled_start": "2026-12-03T14:00:00+01:00"}),
        ("reschedule taxes for next monday", "update_task", {"title": "taxes", "due": "2026-12-07"}),
        ("push 'Quarterly taxes' to tomorrow", "update_task", {"title": "Quarterly taxes", "due": "2026-12-02"}),
        ("make taxes high priority", "update_task", {"title": "taxes", "priority": "high"}),
        ("set the priority of taxes to low", "update_task", {"title": "taxes", "priority": "low"}),
        ("taxes will take 2 hours", "update_task", {"title": "taxes", "estimate_minutes": 120}),
        ("set the estimate for taxes to 45 min", "update_task", {"title": "taxes", "estimate_minutes": 45}),
        ("mark taxes as in progress", "update_task", {"title": "taxes", "status": "in_progress"}),
        ("mark taxes blocked", "update_task", {"title": "taxes", "status": "blocked"}),
        ("finish the report", "complete_task", {"title": "report"}),
        ("I finished taxes!", "complete_task", {"title": "taxes"}),
        ("the report is done", "complete_task", {"title": "report"}),
        ("mark “Buy milk” as complete", "complete_task", {"title": "Buy milk"}),
        ("What’s my plan for tomorrow?", "show_plan", {"date": "2026-12-02"}),
        ("show me my schedule for friday", "show_plan", {"date": "2026-12-04"}),
        ("plan?", "show_plan", {"date": "2026-12-01"}),
        ("what do I have on Friday", "show_plan", {"date": "2026-12-04"}),
        ("what's on tomorrow", "show_plan", {"date": "2026-12-02"}),
        ("what's next", "show_plan", {"date": "2026-12-01"}),
        ("Re-plan the rest of the day", "replan_day", {}),
        ("can you replan my day please", "replan_day", {}),
        ("search for report", "search_tasks", {"query": "report"}),
        ("show my open tasks", "search_tasks", {"query": "", "status": "todo"}),
        ("list tasks about taxes", "search_tasks", {"query": "taxes"}),
    ],
)
def test_phrasings(text, tool, arguments):
    assert parse(text) == Intent(tool, arguments)


@pytest.mark.parametrize("text", ["", "   ", "hello", "what can you do", "sing me a song", "add", "complete"])
def test_not_understood_is_help(text):
    assert parse(text).tool is None


def test_move_to_an_unknown_time_explains_why():
    intent = parse("move dentist to whenever")

    assert intent.tool is None and "when to move" in intent.reason
