"""The Tasks and Routines database templates agree with the mapping's defaults."""

from __future__ import annotations

from datetime import date

from shared.models import Priority, Recurrence, Routine, Task, TaskStatus
from shared.notion.mapping import DEFAULT_ROUTINE_MAP, DEFAULT_TASK_MAP, routine_to_properties, task_to_properties
from shared.notion.templates import ROUTINES_TEMPLATE, TASKS_TEMPLATE
from tests.shared.notion.payloads import schema_from_template


def _mapped_names(property_map) -> set[str]:
    return {v for k, v in property_map.model_dump().items() if isinstance(v, str)}


def test_every_default_property_name_is_in_the_templates():
    assert _mapped_names(DEFAULT_TASK_MAP) == set(TASKS_TEMPLATE.properties)
    assert _mapped_names(DEFAULT_ROUTINE_MAP) - {"Window"} == set(ROUTINES_TEMPLATE.properties)


def test_writing_against_the_template_schema_uses_only_existing_options():
    schema = schema_from_template(dict(TASKS_TEMPLATE.properties))
    for status in TaskStatus:
        for priority in Priority:
            task = Task(id="t", title="x", status=status, priority=priority, due=date(2026, 1, 1))
            written = task_to_properties(task, schema=schema)
            assert written.warnings == []
            options = {o["name"] for o in schema["Status"]["select"]["options"]}
            assert written.value["Status"]["select"]["name"] in options
    routine = Routine(id="r", title="Review", recurrence=Recurrence(kind="weekly", days=[5]))
    written = routine_to_properties(routine, schema=schema_from_template(dict(ROUTINES_TEMPLATE.properties)))
    assert written.warnings == [] and written.value["Days"] == {"multi_select": [{"name": "Friday"}]}


def test_create_kwargs_and_missing_properties():
    kwargs = TASKS_TEMPLATE.create_kwargs()
    assert kwargs["title"] == "Tasks" and kwargs["icon"]["type"] == "emoji"
    kwargs["properties"]["Status"]["select"]["options"].clear()  # a deep copy: the template is intact
    assert TASKS_TEMPLATE.properties["Status"]["select"]["options"]
    existing = {"properties": schema_from_template({"Task name": {"title": {}}, "Status": {"status": {}}, "Due": {"date": {}}})}
    missing = TASKS_TEMPLATE.missing_properties(existing)
    assert set(missing) == set(TASKS_TEMPLATE.properties) - {"Name", "Status", "Due"}
