"""Contract: single-document operations, on every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import InvalidRequest
from shared.store import AlreadyExists, PreconditionFailed
from shared.store.base import Document, DocumentStore

T = "tenant-a"


def now() -> datetime:
    return datetime.now(timezone.utc)


def test_adapters_satisfy_the_protocol(store):
    assert isinstance(store, DocumentStore)


def test_get_missing_document_is_none(store):
    assert store.get("tasks/nope", tenant_id=T) is None
    assert store.get_document("tasks/nope", tenant_id=T) is None


def test_set_then_get_round_trips_json_values(store):
    data = {
        "title": "Write report ✍",
        "minutes": 90,
        "weight": 0.5,
        "done": False,
        "note": None,
        "tags": ["a", "b"],
        "nested": {"x": {"y": [1, 2.5, "z", {"k": True}]}},
        "empty_list": [],
        "empty_map": {},
    }
    store.set("tasks/t1", data, tenant_id=T)
    assert store.get("tasks/t1", tenant_id=T) == data
    got = store.get("tasks/t1", tenant_id=T)
    assert isinstance(got["minutes"], int) and isinstance(got["weight"], float)


def test_root_document_is_the_empty_path(store):
    store.set("", {"tier": "free"}, tenant_id=T)
    assert store.get("", tenant_id=T) == {"tier": "free"}
    document = store.get_document("", tenant_id=T)
    assert document.path == "" and document.id == ""


def test_get_document_carries_path_and_update_time(store):
    store.set("tasks/t1", {"a": 1}, tenant_id=T)
    document = store.get_document("tasks/t1", tenant_id=T)
    assert isinstance(document, Document)
    assert document.path == "tasks/t1" and document.id == "t1" and document.data == {"a": 1}
    assert document.update_time.tzinfo is not None


def test_set_replaces_the_whole_document(store):
    store.set("tasks/t1", {"a": 1, "b": 2}, tenant_id=T)
    store.set("tasks/t1", {"c": 3}, tenant_id=T)
    assert store.get("tasks/t1", tenant_id=T) == {"c": 3}


def test_merge_merges_nested_maps_and_replaces_other_values(store):
    store.set("cfg/c", {"a": {"b": 1, "c": 2}, "list": [1, 2], "keep": "k"}, tenant_id=T)
    store.set("cfg/c", {"a": {"c": 3, "d": 4}, "list": [9], "new": None}, tenant_id=T, merge=True)
    assert store.get("cfg/c", tenant_id=T) == {
        "a": {"b": 1, "c": 3, "d": 4},
        "list": [9],
        "keep": "k",
        "new": None,
    }


def test_merge_with_an_empty_map_sets_it_empty(store):
    store.set("cfg/c", {"a": {"b": 1}, "k": 1}, tenant_id=T)
    store.set("cfg/c", {"a": {}}, tenant_id=T, merge=True)
    assert store.get("cfg/c", tenant_id=T) == {"a": {}, "k": 1}


def test_merge_creates_a_missing_document(store):
    store.set("cfg/new", {"a": {"b": 1}}, tenant_id=T, merge=True)
    assert store.get("cfg/new", tenant_id=T) == {"a": {"b": 1}}


def test_tuples_read_back_as_lists(store):
    store.set("t/1", {"pair": (1, 2)}, tenant_id=T)
    assert store.get("t/1", tenant_id=T) == {"pair": [1, 2]}


def test_datetimes_round_trip_as_aware_utc(store):
    paris = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 9, 30, 15, 123456, tzinfo=paris)
    store.set("events/e", {"at": local, "list": [local], "map": {"at": local}}, tenant_id=T)
    got = store.get("events/e", tenant_id=T)
    assert got["at"] == local
    assert got["at"].utcoffset() == timedelta(0)
    assert got["at"].replace(tzinfo=None) == datetime(2025, 6, 1, 7, 30, 15, 123456)
    assert got["list"][0] == local and got["map"]["at"] == local


def test_special_floats_round_trip(store):
    store.set("f/1", {"inf": float("inf"), "ninf": float("-inf"), "nan": float("nan")}, tenant_id=T)
    got = store.get("f/1", tenant_id=T)
    assert got["inf"] == float("inf") and got["ninf"] == float("-inf") and got["nan"] != got["nan"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"at": datetime(2025, 1, 1)}, "data.at"),  # naive datetime
        ({"amount": __import__("decimal").Decimal("1.5")}, "data.amount"),
        ({"blob": b"bytes"}, "data.blob"),
        ({"__name__": 1}, "data"),
        ({"": 1}, "data"),
        ({1: "x"}, "data"),
        ({"big": 2**64}, "data.big"),
        ({"grid": [[1, 2]]}, "data.grid"),
        ({"obj": object()}, "data.obj"),
    ],
)
def test_unsupported_values_are_refused_naming_the_field(store, data, field):
    with pytest.raises(InvalidRequest) as caught:
        store.set("t/1", data, tenant_id=T)
    assert caught.value.field == field
    assert store.get("t/1", tenant_id=T) is None


def test_non_mapping_data_is_refused(store):
    with pytest.raises(InvalidRequest) as caught:
        store.set("t/1", ["not", "a", "map"], tenant_id=T)  # type: ignore[arg-type]
    assert caught.value.field == "data"


def test_create_writes_when_absent_and_conflicts_when_present(store):
    store.create("locks/l", {"owner": "a"}, tenant_id=T)
    with pytest.raises(AlreadyExists) as caught:
        store.create("locks/l", {"owner": "b"}, tenant_id=T)
    assert caught.value.status == 409
    assert store.get("locks/l", tenant_id=T) == {"owner": "a"}


def test_create_over_an_expired_document_succeeds(store):
    store.set("locks/l", {"owner": "a", "expires_at": now() - timedelta(seconds=5)}, tenant_id=T)
    later = now() + timedelta(hours=1)
    store.create("locks/l", {"owner": "b", "expires_at": later}, tenant_id=T)
    assert store.get("locks/l", tenant_id=T) == {"owner": "b", "expires_at": later}


def test_create_over_a_live_expiring_document_conflicts(store):
    store.set("locks/l", {"owner": "a", "expires_at": now() + timedelta(hours=1)}, tenant_id=T)
    with pytest.raises(AlreadyExists):
        store.create("locks/l", {"owner": "b"}, tenant_id=T)
    assert store.get("locks/l", tenant_id=T)["owner"] == "a"


def test_expired_documents_are_invisible_to_reads(store):
    store.set("c/old", {"expires_at": now() - timedelta(seconds=1), "v": 1}, tenant_id=T)
    store.set("c/new", {"expires_at": now() + timedelta(hours=1), "v": 2}, tenant_id=T)
    store.set("", {"expires_at": now() - timedelta(seconds=1)}, tenant_id=T)
    assert store.get("c/old", tenant_id=T) is None
    assert store.get_document("c/old", tenant_id=T) is None
    assert store.get("", tenant_id=T) is None
    assert [d.path for d in store.query("c", tenant_id=T)] == ["c/new"]
    assert set(store.export_tenant(tenant_id=T)) == {"c/new"}
    seen = store.transaction(lambda txn: (txn.get("c/old"), txn.get("c/new")), tenant_id=T)
    assert seen[0] is None and seen[1]["v"] == 2


def test_expiry_follows_the_injected_clock(store_factory):
    current = [datetime(2030, 1, 1, tzinfo=timezone.utc)]
    store = store_factory(clock=lambda: current[0])
    store.set("c/x", {"expires_at": datetime(2030, 1, 1, 0, 10, tzinfo=timezone.utc)}, tenant_id=T)
    assert store.get("c/x", tenant_id=T) is not None
    current[0] = datetime(2030, 1, 1, 0, 10, tzinfo=timezone.utc)  # expires_at <= now: expired
    assert store.get("c/x", tenant_id=T) is None
    store.create("c/x", {"v": 2}, tenant_id=T)
    assert store.get("c/x", tenant_id=T) == {"v": 2}


def test_update_if_unchanged_succeeds_with_the_current_update_time(store):
    store.set("docs/d", {"v": 1, "old": True}, tenant_id=T)
    read = store.get_document("docs/d", tenant_id=T)
    store.update_if_unchanged("docs/d", {"v": 2, "nested": {"a": 1}}, tenant_id=T, update_time=read.update_time)
    after = store.get_document("docs/d", tenant_id=T)
    assert after.data == {"v": 2, "nested": {"a": 1}}  # overwritten, "old" is gone
    assert after.update_time > read.update_time


def test_update_if_unchanged_handles_field_names_with_dots(store):
    store.set("docs/d", {"a.b": 1, "c": {"d": 2}}, tenant_id=T)
    read = store.get_document("docs/d", tenant_id=T)
    store.update_if_unchanged("docs/d", {"x.y": 3}, tenant_id=T, update_time=read.update_time)
    assert store.get("docs/d", tenant_id=T) == {"x.y": 3}


def test_update_if_unchanged_fails_after_a_concurrent_write(store):
    store.set("docs/d", {"v": 1}, tenant_id=T)
    read = store.get_document("docs/d", tenant_id=T)
    store.set("docs/d", {"v": 5}, tenant_id=T)
    with pytest.raises(PreconditionFailed) as caught:
        store.update_if_unchanged("docs/d", {"v": 2}, tenant_id=T, update_time=read.update_time)
    assert caught.value.status == 409
    assert store.get("docs/d", tenant_id=T) == {"v": 5}


def test_a_write_that_changes_nothing_keeps_the_update_time(store):
    store.set("docs/d", {"v": 1}, tenant_id=T)
    read = store.get_document("docs/d", tenant_id=T)
    store.set("docs/d", {"v": 1}, tenant_id=T)
    assert store.get_document("docs/d", tenant_id=T).update_time == read.update_time
    store.update_if_unchanged("docs/d", {"v": 2}, tenant_id=T, update_time=read.update_time)
    assert store.get("docs/d", tenant_id=T) == {"v": 2}


def test_update_if_unchanged_fails_on_a_missing_document(store):
    store.set("docs/d", {"v": 1}, tenant_id=T)
    read = store.get_document("docs/d", tenant_id=T)
    store.delete("docs/d", tenant_id=T)
    with pytest.raises(PreconditionFailed):
        store.update_if_unchanged("docs/d", {"v": 2}, tenant_id=T, update_time=read.update_time)
    assert store.get("docs/d", tenant_id=T) is None


def test_only_one_of_two_racing_updates_wins(store):
    store.set("docs/d", {"v": 0}, tenant_id=T)
    read = store.get_document("docs/d", tenant_id=T)
    store.update_if_unchanged("docs/d", {"v": 1}, tenant_id=T, update_time=read.update_time)
    with pytest.raises(PreconditionFailed):
        store.update_if_unchanged("docs/d", {"v": 2}, tenant_id=T, update_time=read.update_time)
    assert store.get("docs/d", tenant_id=T) == {"v": 1}


def test_delete_removes_only_that_document(store):
    store.set("p/1", {"a": 1}, tenant_id=T)
    store.set("p/1/children/c", {"b": 2}, tenant_id=T)
    store.delete("p/1", tenant_id=T)
    store.delete("p/missing", tenant_id=T)  # deleting nothing is fine
    assert store.get("p/1", tenant_id=T) is None
    assert store.get("p/1/children/c", tenant_id=T) == {"b": 2}


def test_increment_creates_fields_at_zero_and_merges_extra(store):
    store.increment("usage/2025-01", {"calls": 1, "tokens": 2.5}, tenant_id=T, extra={"tier": {"name": "free"}})
    store.increment("usage/2025-01", {"calls": 2}, tenant_id=T, extra={"tier": {"seen": True}})
    assert store.get("usage/2025-01", tenant_id=T) == {
        "calls": 3,
        "tokens": 2.5,
        "tier": {"name": "free", "seen": True},
    }


def test_increment_keeps_other_fields_and_replaces_non_numbers(store):
    store.set("usage/u", {"calls": "many", "keep": 1}, tenant_id=T)
    store.increment("usage/u", {"calls": 5}, tenant_id=T)
    assert store.get("usage/u", tenant_id=T) == {"calls": 5, "keep": 1}


@pytest.mark.parametrize(
    ("deltas", "extra"),
    [({}, None), ({"n": "1"}, None), ({"n": True}, None), ({"n": 1}, {"n": 2}), ({"__x__": 1}, None)],
)
def test_invalid_increments_are_refused(store, deltas, extra):
    with pytest.raises(InvalidRequest):
        store.increment("usage/u", deltas, tenant_id=T, extra=extra)
    assert store.get("usage/u", tenant_id=T) is None
