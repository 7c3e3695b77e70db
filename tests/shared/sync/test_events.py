"""classify(): what a Notion event means for a tenant, decided from the payload alone."""

from __future__ import annotations

import pytest

from shared.sync.events import NotionEvent, PageChange, classify, compact_id
from tests.shared.sync.support import OTHER_DS, PAGE_ID, ROUTINES_DS, TASKS_DS, event

SELECTED = [TASKS_DS, ROUTINES_DS]


def parsed(name: str, **changes) -> NotionEvent:
    return NotionEvent.model_validate(event(name, **changes))


def test_ids_match_in_either_form():
    assert compact_id(TASKS_DS.upper()) == compact_id(TASKS_DS.replace("-", ""))
    relevance = classify(parsed("page_created.json"), [TASKS_DS.replace("-", "").upper()])
    assert relevance.action == "sync" and relevance.data_sources == frozenset({compact_id(TASKS_DS)})


@pytest.mark.parametrize("name, action, sources", [
    ("page_created.json", "sync", {TASKS_DS}),
    ("page_properties_updated.json", "sync", {TASKS_DS}),
    ("routine_properties_updated.json", "sync", {ROUTINES_DS}),
    ("data_source_schema_updated.json", "full", {TASKS_DS}),
    ("page_undeleted.json", "full", {TASKS_DS}),
])
def test_changes_in_selected_sources(name, action, sources):
    relevance = classify(parsed(name), SELECTED)
    assert relevance.action == action
    assert relevance.data_sources == frozenset(compact_id(s) for s in sources)


def test_deletion_and_restoration_name_the_page():
    deleted = classify(parsed("page_deleted.json"), SELECTED)
    restored = classify(parsed("page_undeleted.json"), SELECTED)
    assert (deleted.action, deleted.page_change) == ("delete", PageChange(PAGE_ID, deleted=True))
    assert restored.page_change == PageChange(PAGE_ID, deleted=False)


def test_data_source_events_of_other_sources_are_ignored():
    other = event("data_source_schema_updated.json")
    other["entity"]["id"] = OTHER_DS
    assert classify(NotionEvent.model_validate(other), SELECTED).action == "ignore"


def test_an_older_payload_naming_only_the_database_syncs_every_selected_source():
    payload = event("page_properties_updated.json")
    del payload["data"]["parent"]["data_source_id"]
    payload["api_version"] = "2022-06-28"
    relevance = classify(NotionEvent.model_validate(payload), SELECTED)
    assert relevance.action == "sync" and relevance.data_sources is None


def test_a_deleted_page_of_another_source_matters_only_if_synced():
    other = parsed("page_created_other_data_source.json", type="page.deleted")
    assert classify(other, SELECTED).action == "ignore"
    assert classify(other, SELECTED, page_is_synced=True).action == "delete"


def test_a_page_moved_into_a_selected_source_needs_a_full_listing():
    moved = parsed("page_created.json", type="page.moved")
    relevance = classify(moved, SELECTED)
    assert relevance.action == "full" and relevance.page_change == PageChange(PAGE_ID, deleted=False)


def test_unknown_fields_are_kept_not_refused():
    parsed_event = parsed("page_created.json", brand_new_field={"x": 1})
    assert parsed_event.model_extra["brand_new_field"] == {"x": 1}
