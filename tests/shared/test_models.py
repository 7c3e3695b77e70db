"""Domain model rules that other modules rely on."""

from datetime import date, datetime, timezone

import pytest
from pydantic import ValidationError

from shared.models import AgentState, ConversationTurn, Recurrence, Task, UserConfig, UsageRecord, WorkingHours


def test_a_date_only_due_stays_a_whole_day_after_a_json_round_trip():
    task = Task(id="p1", title="Dentist", due=date(2026, 3, 30))
    again = Task.model_validate(task.model_dump(mode="json"))
    assert again.due == date(2026, 3, 30) and type(again.due) is date
    timed = Task.model_validate({"id": "p2", "title": "Call", "due": "2026-03-30T15:00:00+02:00"})
    assert isinstance(timed.due, datetime) and timed.due.utcoffset().total_seconds() == 7200


def test_user_config_refuses_unknown_timezones_and_inverted_hours():
    with pytest.raises(ValidationError, match="IANA"):
        UserConfig(timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        WorkingHours(start="17:00", end="09:00")
    with pytest.raises(ValidationError):
        UserConfig(notifications={"webhook_url": "http://hooks.example.com/x"})


def test_usage_cost_is_an_exact_decimal_string():
    record = UsageRecord(operation="llm_call", tokens_in=1200, tokens_out=300, cost_usd="0.00031500")
    assert record.model_dump(mode="json")["cost_usd"] == "0.00031500"


def test_agent_history_is_bounded_and_returns_what_it_drops():
    state = AgentState()
    dropped = []
    for i in range(45):
        dropped += state.append(ConversationTurn(role="user", content=f"m{i}", at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    assert len(state.history) == 40 and [t.content for t in dropped] == [f"m{i}" for i in range(5)]


def test_weekly_recurrence_needs_days():
    with pytest.raises(ValidationError):
        Recurrence(kind="weekly")
    assert Recurrence(kind="weekdays").occurs_on(date(2026, 11, 30)) and not Recurrence(kind="weekdays").occurs_on(date(2026, 11, 29))
