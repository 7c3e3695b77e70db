"""Notion pages <-> Task / Routine on payloads shaped like Notion's (tests/fixtures/notion)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.models import Priority, Recurrence, Routine, Task, TaskStatus
from shared.notion.mapping import (
    Mapped,
    RoutinePropertyMap,
    TaskPropertyMap,
    page_to_routine,
    page_to_task,
    pages_to_routines,
    pages_to_tasks,
    routine_to_properties,
    task_to_properties,
)
from shared.notion.templates import ROUTINES_PROPERTIES, TASKS_PROPERTIES
from tests.shared.notion.payloads import page_with, schema_from_template
from tests.shared.notion.support import fixture

CEST = timezone(timedelta(hours=2))


def _set(page, name, kind, value):
    page["properties"][name] = {"id": "x", "type": kind, kind: value}
    return page


# --- reading tasks ------------------------------------------------------------------------------


def test_full_task_page():
    page = fixture("task_page.json")
    mapped = page_to_task(page)
    assert mapped.warnings == []
    task = mapped.value
    assert task == Task(
        id=page["id"],
        title="Write Q3 planning doc",
        status=TaskStatus.IN_PROGRESS,
        priority=Priority.HIGH,
        due=date(2026, 7, 10),
        scheduled_start=datetime(2026, 7, 6, 9, 30, tzinfo=CEST),
        estimate_minutes=90,
        splittable=True,
        tags=["work", "writing"],
        notes="Outline first, then numbers.",
        url=page["url"],
        last_edited_time=datetime(2026, 7, 4, 9, 8, tzinfo=timezone.utc),
    )


def test_recorded_page_without_task_properties_gets_defaults_and_no_warnings():
    page = fixture("page_created.json")  # a real page: only its "title" property
    mapped = page_to_task(page)
    assert mapped.warnings == []
    assert mapped.value.title == page["properties"]["title"]["title"][0]["plain_text"]
    assert (mapped.value.status, mapped.value.priority, mapped.value.due) == (TaskStatus.TODO, Priority.MEDIUM, None)
    assert mapped.value.estimate_minutes == 30


def test_unknown_property_types_are_ignored_silently():
    page = fixture("task_page.json")
    assert {"Assignee", "Created", "Ticket"} <= page["properties"].keys()
    assert page_to_task(page).warnings == []


def test_odd_page_maps_with_defaults_and_names_every_problem():
    page = fixture("task_page_odd.json")
    mapped = page_to_task(page)
    task = mapped.value
    assert task.title == "Call the bank"  # the title property is called "Task" here
    assert (task.status, task.priority, task.due, task.scheduled_start) == (TaskStatus.TODO, Priority.MEDIUM, None, None)
    assert task.estimate_minutes == 30 and task.min_chunk_minutes == 30 and task.notes == ""
    assert task.tags == ["admin", "phone"]  # comma-separated text is accepted for tags
    assert task.splittable is True  # a boolean formula
    flagged = {w.property for w in mapped.warnings}
    assert flagged == {"Status", "Priority", "Due", "Scheduled", "Estimate", "Min chunk", "Notes"}
    assert all(w.page_id == page["id"] for w in mapped.warnings)
    assert "Call the bank" not in " ".join(str(w) for w in mapped.warnings)  # warnings hold no content


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("status", {"id": "1", "name": "Not started", "color": "default"}, TaskStatus.TODO),
        ("status", {"id": "2", "name": "Done", "color": "green"}, TaskStatus.DONE),
        ("select", {"id": "3", "name": "To do", "color": "gray"}, TaskStatus.TODO),
        ("select", {"id": "4", "name": "complete", "color": "gray"}, TaskStatus.DONE),
        ("select", {"id": "5", "name": "In-Progress", "color": "gray"}, TaskStatus.IN_PROGRESS),
        ("select", {"id": "6", "name": "Blocked", "color": "red"}, TaskStatus.BLOCKED),
        ("select", {"id": "7", "name": "Won't do", "color": "red"}, TaskStatus.CANCELLED),
        ("checkbox", True, TaskStatus.DONE),
        ("checkbox", False, TaskStatus.TODO),
        ("select", None, TaskStatus.TODO),
    ],
)
def test_status_values(kind, value, expected):
    page = _set(fixture("task_page.json"), "Status", kind, value)
    mapped = page_to_task(page)
    assert mapped.value.status == expected and mapped.warnings == []


def test_unknown_status_warns_and_tenant_aliases_fix_it():
    page = _set(fixture("task_page.json"), "Status", "status", {"id": "1", "name": "Someday", "color": "default"})
    mapped = page_to_task(page)
    assert mapped.value.status == TaskStatus.TODO and [w.property for w in mapped.warnings] == ["Status"]
    custom = TaskPropertyMap(status_aliases={"Someday": TaskStatus.BLOCKED})
    assert page_to_task(page, property_map=custom) == Mapped(mapped.value.model_copy(update={"status": TaskStatus.BLOCKED}), [])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("select", {"id": "1", "name": "Urgent", "color": "red"}, Priority.URGENT),
        ("select", {"id": "1", "name": "low", "color": "red"}, Priority.LOW),
        ("select", {"id": "1", "name": "P2", "color": "red"}, Priority.HIGH),
        ("number", 4, Priority.URGENT),
        ("status", {"id": "1", "name": "Medium", "color": "red"}, Priority.MEDIUM),
    ],
)
def test_priority_values(kind, value, expected):
    page = _set(fixture("task_page.json"), "Priority", kind, value)
    assert page_to_task(page).value.priority == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"start": "2026-07-10", "end": None, "time_zone": None}, date(2026, 7, 10)),
        ({"start": "2026-07-10T17:00:00.000+02:00", "end": None, "time_zone": None}, datetime(2026, 7, 10, 17, tzinfo=CEST)),
        ({"start": "2026-07-10T15:00:00.000Z", "end": None, "time_zone": None}, datetime(2026, 7, 10, 15, tzinfo=timezone.utc)),
        ({"start": "2026-07-08", "end": "2026-07-10", "time_zone": None}, date(2026, 7, 10)),  # due by the end
        ({"start": "2026-07-10T17:00:00.000", "end": None, "time_zone": "Europe/Paris"}, datetime(2026, 7, 10, 15, tzinfo=timezone.utc)),
    ],
)
def test_due_dates(value, expected):
    page = _set(fixture("task_page.json"), "Due", "date", value)
    assert page_to_task(page).value.due == expected


def test_due_from_a_date_formula():
    page = _set(fixture("task_page.json"), "Due", "formula", {"type": "date", "date": {"start": "2026-07-11", "end": None}})
    assert page_to_task(page).value.due == date(2026, 7, 11)


@pytest.mark.parametrize(
    ("kind", "value", "minutes", "warned"),
    [
        ("number", 42.6, 43, False),
        ("rich_text", [{"type": "text", "text": {"content": "1h30"}, "plain_text": "1h30"}], 90, False),
        ("select", {"id": "1", "name": "45 min", "color": "default"}, 45, False),
        ("formula", {"type": "number", "number": 120}, 120, False),
        ("number", 0, 30, True),
        ("number", 5000, 30, True),
        ("number", None, 30, False),
    ],
)
def test_estimates(kind, value, minutes, warned):
    page = _set(fixture("task_page.json"), "Estimate", kind, value)
    mapped = page_to_task(page)
    assert mapped.value.estimate_minutes == minutes
    assert bool(mapped.warnings) is warned


def test_custom_property_names():
    page = fixture("task_page.json")
    page["properties"]["Deadline"] = page["properties"].pop("Due")
    page["properties"]["Task"] = page["properties"].pop("Name")
    assert page_to_task(page).value.due is None
    mapped = page_to_task(page, property_map=TaskPropertyMap(due="Deadline", title="Task"))
    assert mapped.value.due == date(2026, 7, 10) and mapped.value.title == "Write Q3 planning doc"


def test_non_pages_are_skipped_with_a_warning():
    for thing in (fixture("database.json"), {"object": "page"}, "nonsense", None):
        mapped = page_to_task(thing)
        assert mapped.value is None and len(mapped.warnings) == 1


def test_pages_to_tasks_skips_trashed_pages_and_collects_warnings():
    trashed = dict(fixture("task_page.json"), in_trash=True, archived=True)
    tasks, warnings = pages_to_tasks([fixture("task_page.json"), trashed, fixture("task_page_odd.json"), fixture("database.json")])
    assert [t.title for t in tasks] == ["Write Q3 planning doc", "Call the bank"]
    assert len(warnings) == 8  # seven on the odd page, one for the database


# --- writing tasks ------------------------------------------------------------------------------


def test_task_round_trips_through_the_template_properties():
    task = page_to_task(fixture("task_page.json")).value
    written = task_to_properties(task)
    assert written.warnings == []
    assert set(written.value) == set(TASKS_PROPERTIES)
    again = page_to_task(page_with(fixture("task_page.json"), written.value)).value
    assert again == task


def test_writing_follows_the_users_schema():
    schema = schema_from_template(
        {
            "Task": {"title": {}},
            "Status": {"status": {"options": [{"name": "Not started"}, {"name": "In progress"}, {"name": "Complete"}]}},
            "Priority": {"select": {"options": [{"name": "P1"}, {"name": "P2"}, {"name": "P3"}]}},
            "Due": {"date": {}},
            "Estimate": {"rich_text": {}},
            "Tags": {"select": {"options": []}},  # wrong type for tags
        }
    )
    task = Task(id="t1", title="Ship it", status=TaskStatus.DONE, priority=Priority.URGENT, due=date(2026, 7, 10), estimate_minutes=45, tags=["x"])
    written = task_to_properties(task, schema=schema)
    assert written.value == {
        "Task": {"title": [{"type": "text", "text": {"content": "Ship it"}}]},
        "Status": {"status": {"name": "Complete"}},
        "Priority": {"select": {"name": "P1"}},
        "Due": {"date": {"start": "2026-07-10"}},
        "Estimate": {"rich_text": [{"type": "text", "text": {"content": "45 min"}}]},
    }
    assert [w.property for w in written.warnings] == ["Tags"]  # absent columns are skipped silently


def test_a_status_option_that_does_not_exist_is_not_written():
    schema = schema_from_template({"Name": {"title": {}}, "Status": {"status": {"options": [{"name": "Not started"}, {"name": "Done"}]}}})
    written = task_to_properties(Task(id="t1", title="x", status=TaskStatus.BLOCKED), schema=schema)
    assert "Status" not in written.value and [w.property for w in written.warnings] == ["Status"]


def test_status_as_checkbox_and_only_some_fields():
    schema = schema_from_template({"Name": {"title": {}}, "Status": {"checkbox": {}}})
    written = task_to_properties(Task(id="t1", title="x", status=TaskStatus.DONE), schema=schema, fields={"status"})
    assert written.value == {"Status": {"checkbox": True}}


def test_long_notes_are_split_into_2000_character_pieces():
    written = task_to_properties(Task(id="t1", title="x", notes="a" * 4500), fields={"notes"})
    assert [len(p["text"]["content"]) for p in written.value["Notes"]["rich_text"]] == [2000, 2000, 500]


def test_clearing_a_due_date():
    written = task_to_properties(Task(id="t1", title="x"), fields={"due", "scheduled_start"})
    assert written.value == {"Due": {"date": None}, "Scheduled": {"date": None}}


minutes_datetimes = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.sampled_from([timezone.utc, CEST])
).map(lambda d: d.replace(second=0, microsecond=0))
words = st.text(alphabet=st.characters(categories=("L", "N"), include_characters=" -"), min_size=1, max_size=30).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=words,
    status=st.sampled_from(list(TaskStatus)),
    priority=st.sampled_from(list(Priority)),
    due=st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)), minutes_datetimes),
    scheduled=st.one_of(st.none(), minutes_datetimes),
    estimate=st.integers(1, 24 * 60),
    min_chunk=st.integers(5, 24 * 60),
    tags=st.lists(words, max_size=4, unique=True),
    notes=st.text(max_size=2500).map(str.strip),
    splittable=st.booleans(),
)
def test_any_task_round_trips(title, status, priority, due, scheduled, estimate, min_chunk, tags, notes, splittable):
    template = fixture("task_page.json")
    task = Task(
        id=template["id"], title=title, status=status, priority=priority, due=due, scheduled_start=scheduled,
        estimate_minutes=estimate, min_chunk_minutes=min_chunk, tags=tags, notes=notes, splittable=splittable,
        url=template["url"], last_edited_time=datetime(2026, 7, 4, 9, 8, tzinfo=timezone.utc),
    )
    written = task_to_properties(task)
    assert page_to_task(page_with(template, written.value)) == Mapped(task, [])


# --- routines -----------------------------------------------------------------------------------


def test_routine_with_weekday_multi_select():
    page = fixture("routine_page.json")
    mapped = page_to_routine(page)
    assert mapped.warnings == []
    assert mapped.value == Routine(
        id=page["id"], title="Inbox zero", recurrence=Recurrence(kind="weekly", days=[1, 3, 5]),
        window_start=time(9), window_end=time(10, 30), duration_minutes=30, priority=Priority.LOW,
        url=page["url"], last_edited_time=datetime(2026, 7, 4, 9, 8, tzinfo=timezone.utc),
    )


def test_routine_with_weekly_select_days_and_a_window_range():
    mapped = page_to_routine(fixture("routine_page_window_range.json"))
    routine = mapped.value
    assert mapped.warnings == []
    assert routine.recurrence == Recurrence(kind="weekly", days=[5])
    assert (routine.window_start, routine.window_end, routine.duration_minutes, routine.active) == (time(15), time(18), 60, False)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("select", {"id": "1", "name": "Daily", "color": "blue"}, Recurrence(kind="daily")),
        ("select", {"id": "1", "name": "Weekdays", "color": "blue"}, Recurrence(kind="weekdays")),
        ("select", {"id": "1", "name": "Weekends", "color": "blue"}, Recurrence(kind="weekly", days=[6, 7])),
        ("multi_select", [{"id": str(i), "name": d, "color": "default"} for i, d in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri"])], Recurrence(kind="weekdays")),
        ("rich_text", [{"type": "text", "text": {"content": "tue, thu"}, "plain_text": "tue, thu"}], Recurrence(kind="weekly", days=[2, 4])),
    ],
)
def test_recurrences(kind, value, expected):
    page = _set(fixture("routine_page.json"), "Recurrence", kind, value)
    assert page_to_routine(page).value.recurrence == expected


def test_odd_routine_falls_back_to_defaults_with_warnings():
    page = fixture("routine_page.json")
    _set(page, "Recurrence", "select", {"id": "1", "name": "Fortnightly", "color": "blue"})
    _set(page, "Window start", "rich_text", [{"type": "text", "text": {"content": "19:00"}, "plain_text": "19:00"}])
    _set(page, "Window end", "rich_text", [{"type": "text", "text": {"content": "07:00"}, "plain_text": "07:00"}])
    _set(page, "Duration", "checkbox", True)
    mapped = page_to_routine(page)
    routine = mapped.value
    assert routine.recurrence == Recurrence(kind="daily")
    assert (routine.window_start, routine.window_end, routine.duration_minutes) == (time(8), time(18), 30)
    assert {w.property for w in mapped.warnings} == {"Recurrence", "Window end", "Duration"}


def test_a_window_start_after_the_default_end_keeps_the_default_window():
    page = fixture("routine_page.json")
    del page["properties"]["Window end"]
    _set(page, "Window start", "rich_text", [{"type": "text", "text": {"content": "7:30 pm"}, "plain_text": "7:30 pm"}])
    mapped = page_to_routine(page)
    assert (mapped.value.window_start, mapped.value.window_end) == (time(8), time(18))
    assert [w.property for w in mapped.warnings] == ["Window start"]


def test_routine_round_trips_through_the_template_properties():
    for name in ("routine_page.json", "routine_page_window_range.json"):
        routine = page_to_routine(fixture(name)).value
        written = routine_to_properties(routine)
        assert written.warnings == [] and set(written.value) <= set(ROUTINES_PROPERTIES)
        assert page_to_routine(page_with(fixture(name), written.value)).value == routine


def test_routine_recurrence_as_multi_select_schema():
    schema = schema_from_template({"Name": {"title": {}}, "Recurrence": {"multi_select": {"options": []}}})
    routine = Routine(id="r1", title="Stretch", recurrence=Recurrence(kind="weekdays"))
    written = routine_to_properties(routine, schema=schema)
    assert written.value["Recurrence"] == {"multi_select": [{"name": d} for d in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]]}
    assert set(written.value) == {"Name", "Recurrence"}


def test_pages_to_routines_skips_trashed_and_non_pages():
    trashed = dict(fixture("routine_page.json"), in_trash=True)
    routines, warnings = pages_to_routines([trashed, fixture("routine_page_window_range.json"), 42])
    assert [r.title for r in routines] == ["Weekly review"] and len(warnings) == 1


def test_routine_property_map_is_configurable():
    page = fixture("routine_page.json")
    page["properties"]["Every"] = page["properties"].pop("Recurrence")
    mapped = page_to_routine(page, property_map=RoutinePropertyMap(recurrence="Every"))
    assert mapped.value.recurrence == Recurrence(kind="weekly", days=[1, 3, 5])
