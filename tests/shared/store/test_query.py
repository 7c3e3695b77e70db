"""Contract: collection queries (filters, ordering, cursors, limits), on every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import InvalidRequest
from shared.store import Filter

T = "tenant-a"
BASE = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def tasks(store):
    rows = {
        "a": {
            "title": "alpha",
            "priority": 3,
            "due": BASE + timedelta(days=2),
            "tags": ["deep", "home"],
            "meta": {"area": "work"},
        },
        "b": {
            "title": "bravo",
            "priority": 1,
            "due": BASE + timedelta(days=1),
            "tags": ["home"],
            "meta": {"area": "home"},
        },
        "c": {"title": "charlie", "priority": 2, "due": BASE, "tags": [], "meta": {"area": "work"}},
        "d": {"title": "delta", "priority": 2.0, "tags": ["deep"]},
        "e": {"title": "echo", "priority": None},
        "f": {"title": "foxtrot", "priority": "high"},
        "g": {"title": "golf", "priority": True},
    }
    for doc_id, data in rows.items():
        store.set(f"tasks/{doc_id}", data, tenant_id=T)
    store.set("other/x", {"priority": 1}, tenant_id=T)  # a sibling collection
    store.set("tasks/a/sub/s", {"priority": 1}, tenant_id=T)  # a sub-collection, not in "tasks"
    return store


def ids(documents) -> list[str]:
    return [document.id for document in documents]


def test_query_without_filters_returns_the_collection_ordered_by_id(tasks):
    found = tasks.query("tasks", tenant_id=T)
    assert ids(found) == ["a", "b", "c", "d", "e", "f", "g"]
    assert found[0].path == "tasks/a" and found[0].data["title"] == "alpha"
    assert found[0].update_time is not None


def test_query_of_a_nested_collection(tasks):
    assert [d.path for d in tasks.query("tasks/a/sub", tenant_id=T)] == ["tasks/a/sub/s"]


def test_query_of_an_empty_collection(tasks):
    assert tasks.query("nothing", tenant_id=T) == []


def test_equality_treats_int_and_float_alike(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "==", 2)])) == ["c", "d"]


def test_equality_with_null_and_bool_is_typed(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "==", None)])) == ["e"]
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "==", True)])) == ["g"]
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "==", 1)])) == ["b"]


def test_not_equal_excludes_missing_and_null_and_orders_by_the_field(tasks):
    found = tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "!=", 2)])
    # bool < number < string; null and the missing field are excluded
    assert ids(found) == ["g", "b", "a", "f"]


def test_range_filters_only_match_the_same_type(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", ">", 1)])) == ["c", "d", "a"]
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", ">=", "a")])) == ["f"]
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "<", 2)])) == ["b"]
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("priority", "<=", 2)])) == ["b", "c", "d"]


def test_datetime_range_query(tasks):
    found = tasks.query(
        "tasks",
        tenant_id=T,
        filters=[Filter("due", ">=", BASE + timedelta(hours=1)), Filter("due", "<", BASE + timedelta(days=3))],
        order_by=[("due", "asc")],
    )
    assert ids(found) == ["b", "a"]
    assert found[0].data["due"] == BASE + timedelta(days=1)


def test_in_and_array_contains(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("title", "in", ["bravo", "echo", "zulu"])])) == [
        "b",
        "e",
    ]
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("tags", "array-contains", "deep")])) == ["a", "d"]


def test_nested_field_filter(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, filters=[Filter("meta.area", "==", "work")])) == ["a", "c"]


def test_combined_filters(tasks):
    found = tasks.query(
        "tasks",
        tenant_id=T,
        filters=[Filter("meta.area", "==", "work"), Filter("tags", "array-contains", "deep")],
    )
    assert ids(found) == ["a"]


def test_order_by_excludes_documents_without_the_field_and_orders_across_types(tasks):
    found = tasks.query("tasks", tenant_id=T, order_by=[("priority", "asc")])
    # null < bool < numbers (ties by id) < string
    assert ids(found) == ["e", "g", "b", "c", "d", "a", "f"]
    assert ids(tasks.query("tasks", tenant_id=T, order_by=[("due", "asc")])) == ["c", "b", "a"]


def test_descending_order_breaks_ties_by_id_descending(tasks):
    found = tasks.query("tasks", tenant_id=T, filters=[Filter("priority", ">=", 1)], order_by=[("priority", "desc")])
    assert ids(found) == ["a", "d", "c", "b"]


def test_multiple_order_fields(tasks):
    found = tasks.query(
        "tasks",
        tenant_id=T,
        filters=[Filter("priority", ">=", 1)],
        order_by=[("priority", "asc"), ("title", "desc")],
    )
    assert ids(found) == ["b", "d", "c", "a"]


def test_limit(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, order_by=[("title", "asc")], limit=2)) == ["a", "b"]


def test_start_after_pages_through_an_ordering(tasks):
    first = tasks.query("tasks", tenant_id=T, order_by=[("title", "asc")], limit=3)
    assert ids(first) == ["a", "b", "c"]
    second = tasks.query(
        "tasks", tenant_id=T, order_by=[("title", "asc")], limit=3, start_after=[first[-1].data["title"]]
    )
    assert ids(second) == ["d", "e", "f"]


def test_start_after_with_a_document_id_breaks_ties(tasks):
    order = [("priority", "asc")]
    filters = [Filter("priority", ">=", 1)]
    page = tasks.query("tasks", tenant_id=T, filters=filters, order_by=order, limit=2)
    assert ids(page) == ["b", "c"]
    # "c" and "d" tie on priority 2: the id makes the cursor exact
    rest = tasks.query(
        "tasks", tenant_id=T, filters=filters, order_by=order, start_after=[page[-1].data["priority"], page[-1].id]
    )
    assert ids(rest) == ["d", "a"]
    # a value-only cursor skips every tie
    assert ids(tasks.query("tasks", tenant_id=T, filters=filters, order_by=order, start_after=[2])) == ["a"]


def test_start_after_a_document_id_alone(tasks):
    assert ids(tasks.query("tasks", tenant_id=T, start_after=["e"])) == ["f", "g"]
    assert ids(tasks.query("tasks", tenant_id=T, start_after=["b"], limit=2)) == ["c", "d"]


def test_start_after_with_descending_order(tasks):
    found = tasks.query("tasks", tenant_id=T, order_by=[("title", "desc")], start_after=["delta"])
    assert ids(found) == ["c", "b", "a"]


def test_query_skips_expired_documents(store):
    now = datetime.now(timezone.utc)
    store.set("locks/a", {"n": 1, "expires_at": now - timedelta(minutes=1)}, tenant_id=T)
    store.set("locks/b", {"n": 2, "expires_at": now + timedelta(minutes=5)}, tenant_id=T)
    store.set("locks/c", {"n": 3}, tenant_id=T)
    assert ids(store.query("locks", tenant_id=T, order_by=[("n", "asc")])) == ["b", "c"]
    assert ids(store.query("locks", tenant_id=T, filters=[Filter("n", ">=", 1)])) == ["b", "c"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filters": [Filter("priority", "like", 1)]}, "filters"),  # type: ignore[arg-type]
        ({"filters": [Filter("", "==", 1)]}, "filters"),
        ({"filters": [Filter("a..b", "==", 1)]}, "filters"),
        ({"filters": [Filter("__name__", "==", 1)]}, "filters"),
        ({"filters": [Filter("p", "in", [])]}, "filters"),
        ({"filters": [Filter("p", "in", list(range(31)))]}, "filters"),
        ({"filters": [Filter("p", "<", None)]}, "filters"),
        ({"order_by": [("priority", "up")]}, "order_by"),
        ({"order_by": ["priority"]}, "order_by"),
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"start_after": "a"}, "start_after"),
        ({"start_after": [1, 2]}, "start_after"),
        ({"order_by": [("p", "asc")], "start_after": [1, 2]}, "start_after"),
        ({"filters": [Filter("p", ">", 1)], "start_after": [1]}, "start_after"),
    ],
)
def test_malformed_queries_are_refused(tasks, kwargs, field):
    with pytest.raises(InvalidRequest) as caught:
        tasks.query("tasks", tenant_id=T, **kwargs)
    assert caught.value.field == field


def test_limit_is_filled_past_expired_documents(store):
    now = datetime.now(timezone.utc)
    for index in range(4):
        store.set(f"locks/a{index}", {"n": index, "expires_at": now - timedelta(minutes=1)}, tenant_id=T)
    for index in range(4, 7):
        store.set(f"locks/b{index}", {"n": index}, tenant_id=T)
    assert ids(store.query("locks", tenant_id=T, order_by=[("n", "asc")], limit=2)) == ["b4", "b5"]
    assert ids(store.query("locks", tenant_id=T, limit=2)) == ["b4", "b5"]
    assert ids(store.query("locks", tenant_id=T, filters=[Filter("n", ">", 0)], limit=3)) == ["b4", "b5", "b6"]
