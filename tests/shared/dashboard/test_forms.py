"""Form parsing: HTML's strings become typed values, and a bad field becomes a message naming it."""

from __future__ import annotations

from datetime import time

import pytest
from werkzeug.datastructures import MultiDict

from shared.dashboard.errors import InvalidForm
from shared.dashboard.forms import (
    ChatForm,
    DeleteForm,
    FeedbackForm,
    ScheduleForm,
    SettingsForm,
    SourcesForm,
    TemplateForm,
    parse_form,
)
from shared.models import UserConfig

TOKEN = {"csrf_token": "t"}
SCHEDULE = {"planning_time": "06:45", "timezone": "Europe/Paris", "work_start": "08:30", "work_end": "16:00"}


def form(**fields) -> MultiDict:
    data = MultiDict(TOKEN)
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(key, item)
    return data


def test_schedule_form_applies_to_the_config_and_keeps_other_fields():
    config = UserConfig(tasks_data_source_id="abc", buffer_minutes=10)
    parsed = parse_form(form(**SCHEDULE, work_days=["5", "1", "1"]), ScheduleForm)
    updated = parsed.apply(config)
    assert updated.planning_time == time(6, 45) and updated.timezone == "Europe/Paris"
    assert updated.working_hours.start == time(8, 30) and updated.working_hours.days == [1, 5]
    assert updated.tasks_data_source_id == "abc" and updated.buffer_minutes == 10


@pytest.mark.parametrize("change,field,words", [
    ({"work_end": "08:00"}, "work_end", "must end after they start"),
    ({"timezone": "Nowhere/Town"}, "timezone", "IANA"),
    ({"work_days": []}, "work_days", "at least one working day"),
    ({"work_days": ["9"]}, "work_days", "ISO weekdays"),
    ({"planning_time": "7 o'clock"}, "planning_time", "must be a time"),
    ({"planning_time": ""}, "planning_time", "Planning time is required"),
])
def test_schedule_errors_name_the_field_and_never_echo_the_value(change, field, words):
    fields = {**SCHEDULE, "work_days": ["1"], **change}
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(**fields), ScheduleForm).apply(UserConfig())
    assert caught.value.field == field and words in caught.value.message, caught.value.message
    for value in change.values():
        if isinstance(value, str) and value:
            assert value not in caught.value.message


def test_settings_form_reads_the_checkbox_and_the_optional_webhook():
    blank = parse_form(form(**SCHEDULE, work_days=["1"], webhook_url=""), SettingsForm).apply(UserConfig())
    assert blank.notifications.webhook_url is None and blank.notifications.notion_page is False
    full = parse_form(form(**SCHEDULE, work_days=["1"], webhook_url="https://hooks.example.com/x", notion_page="on"),
                      SettingsForm).apply(UserConfig())
    assert str(full.notifications.webhook_url) == "https://hooks.example.com/x" and full.notifications.notion_page
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(**SCHEDULE, work_days=["1"], webhook_url="http://hooks.example.com/x"),
                   SettingsForm).apply(UserConfig())
    assert caught.value.field == "webhook_url" and "https" in caught.value.message


def test_source_and_template_forms_take_only_notion_ids():
    good = "2793432a-dd11-4cdb-8241-447531d0a674"
    parsed = parse_form(form(tasks_data_source_id=good, routines_data_source_id=""), SourcesForm)
    assert parsed.tasks_data_source_id == good and parsed.routines_data_source_id is None
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(tasks_data_source_id="../../x"), SourcesForm)
    assert caught.value.field == "tasks_data_source_id" and "choose one of the listed options" in caught.value.message
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(), TemplateForm)
    assert caught.value.field == "parent_page_id" and caught.value.message == "Page to hold the databases is required."
    assert parse_form(form(parent_page_id=good, examples="on"), TemplateForm).examples is True


def test_feedback_chat_and_delete_forms():
    assert parse_form(form(message="  hi  "), FeedbackForm).message == "hi"
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(message="x" * 4001), FeedbackForm)
    assert caught.value.message == "Message is too long."
    with pytest.raises(InvalidForm):
        parse_form(form(message="x", kind="spam"), FeedbackForm)
    assert parse_form(form(message="hello", conversation_id="c1"), ChatForm).conversation_id == "c1"
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(message="hello", conversation_id="../x"), ChatForm)
    assert caught.value.field == "conversation_id"
    assert parse_form(form(confirm="delete"), DeleteForm).confirm == "delete"
    with pytest.raises(InvalidForm) as caught:
        parse_form(form(confirm="yes please"), DeleteForm)
    assert "type DELETE to confirm" in caught.value.message


def test_every_form_declares_the_csrf_token():
    for model in (ScheduleForm, SettingsForm, SourcesForm, TemplateForm, FeedbackForm, ChatForm, DeleteForm):
        assert "csrf_token" in model.model_json_schema()["required"], model.__name__
