"""Contract: whole-tenant export/delete and the named cross-tenant queries, on every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.errors import InvalidRequest
from shared.store.base import TenantRow

A, B, C = "tenant-a", "tenant-b", "tenant-c"
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)


def fill(store, tenant: str) -> None:
    store.set("", {"workspace_id": f"ws-{tenant}", "tier": "free"}, tenant_id=tenant)
    store.set("tasks/t1", {"title": "one"}, tenant_id=tenant)
    store.set("tasks/t1/notes/n1", {"text": "nested"}, tenant_id=tenant)
    store.set("orphans/missing/children/c1", {"v": 1}, tenant_id=tenant)  # parent never written


def test_export_tenant_returns_every_live_document_keyed_by_path(store):
    fill(store, A)
    store.set("locks/gone", {"expires_at": datetime.now(timezone.utc) - timedelta(seconds=1)}, tenant_id=A)
    exported = store.export_tenant(tenant_id=A)
    assert exported == {
        "": {"workspace_id": "ws-tenant-a", "tier": "free"},
        "orphans/missing/children/c1": {"v": 1},
        "tasks/t1": {"title": "one"},
        "tasks/t1/notes/n1": {"text": "nested"},
    }


def test_export_of_an_unknown_tenant_is_empty(store):
    assert store.export_tenant(tenant_id="tenant-nobody") == {}


def test_delete_tenant_removes_everything_of_that_tenant_only(store):
    fill(store, A)
    fill(store, B)
    store.set("locks/gone", {"expires_at": datetime.now(timezone.utc) - timedelta(seconds=1)}, tenant_id=A)
    assert store.delete_tenant(tenant_id=A) == 5
    assert store.export_tenant(tenant_id=A) == {}
    assert store.get("tasks/t1/notes/n1", tenant_id=A) is None
    assert len(store.export_tenant(tenant_id=B)) == 4
    assert store.delete_tenant(tenant_id=A) == 0


def test_delete_tenant_without_a_root_document(store):
    store.set("tasks/t1", {"v": 1}, tenant_id=A)
    assert store.delete_tenant(tenant_id=A) == 1
    assert store.export_tenant(tenant_id=A) == {}


def roots(rows: list[TenantRow]) -> list[str]:
    return [row.tenant_id for row in rows]


def test_tenants_due_orders_by_the_field_and_respects_before_and_limit(store):
    store.set("", {"next_plan_at": NOW - timedelta(minutes=5)}, tenant_id="tenant-e")
    store.set("", {"next_plan_at": NOW - timedelta(minutes=30)}, tenant_id="tenant-d")
    store.set("", {"next_plan_at": NOW}, tenant_id="tenant-f")  # exactly "before": due
    store.set("", {"next_plan_at": NOW + timedelta(seconds=1)}, tenant_id="tenant-g")  # not yet
    store.set("", {"next_plan_at": "2020-01-01"}, tenant_id="tenant-h")  # not a timestamp
    store.set("", {"other": 1}, tenant_id="tenant-i")  # no such field
    store.set(
        "", {"next_plan_at": NOW - timedelta(hours=1), "expires_at": NOW - timedelta(days=400)}, tenant_id="tenant-j"
    )
    store.set("tasks/x", {"next_plan_at": NOW - timedelta(days=1)}, tenant_id="tenant-k")  # not a root

    due = store.tenants_due("next_plan_at", before=NOW)
    assert roots(due) == ["tenant-d", "tenant-e", "tenant-f"]
    assert due[0].data == {"next_plan_at": NOW - timedelta(minutes=30)}
    assert roots(store.tenants_due("next_plan_at", before=NOW, limit=2)) == ["tenant-d", "tenant-e"]


def test_tenants_due_ties_break_by_tenant_id_and_advancing_pages(store):
    for tenant in ("tenant-z", "tenant-m", "tenant-b"):
        store.set("", {"next_plan_at": NOW}, tenant_id=tenant)
    first = store.tenants_due("next_plan_at", before=NOW, limit=2)
    assert roots(first) == ["tenant-b", "tenant-m"]
    for row in first:  # the scheduler advances the field; the next call sees the rest
        store.set("", {"next_plan_at": NOW + timedelta(hours=1)}, tenant_id=row.tenant_id, merge=True)
    assert roots(store.tenants_due("next_plan_at", before=NOW, limit=2)) == ["tenant-z"]


def test_tenants_due_on_another_field(store):
    store.set("", {"sync": {"next_at": NOW - timedelta(minutes=1)}}, tenant_id=A)
    store.set("", {"sync": {"next_at": NOW + timedelta(minutes=1)}}, tenant_id=B)
    assert roots(store.tenants_due("sync.next_at", before=NOW)) == [A]


def test_tenants_where_matches_typed_equality_in_tenant_order(store):
    store.set("", {"workspace_id": "ws-1", "connection_status": "connected"}, tenant_id=C)
    store.set("", {"workspace_id": "ws-2", "connection_status": "connected"}, tenant_id=A)
    store.set("", {"workspace_id": "ws-1", "connection_status": "needs_reauth"}, tenant_id=B)
    store.set("users/x", {"workspace_id": "ws-1"}, tenant_id="tenant-d")  # not a root document
    assert roots(store.tenants_where("workspace_id", "ws-1")) == [B, C]
    assert roots(store.tenants_where("connection_status", "connected")) == [A, C]
    assert store.tenants_where("workspace_id", "ws-2")[0].data["connection_status"] == "connected"
    assert store.tenants_where("workspace_id", "ws-404") == []


def test_tenants_where_pages_with_start_after(store):
    for index in range(5):
        store.set("", {"connection_status": "connected"}, tenant_id=f"tenant-{index}")
    first = store.tenants_where("connection_status", "connected", limit=2)
    assert roots(first) == ["tenant-0", "tenant-1"]
    second = store.tenants_where("connection_status", "connected", limit=2, start_after=first[-1].tenant_id)
    assert roots(second) == ["tenant-2", "tenant-3"]
    third = store.tenants_where("connection_status", "connected", limit=2, start_after="tenant-3")
    assert roots(third) == ["tenant-4"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, ["tenant-int", "tenant-float"]),
        (1.0, ["tenant-int", "tenant-float"]),
        ("1", ["tenant-str"]),
        (True, ["tenant-bool"]),
        (None, ["tenant-null"]),
        (NOW, ["tenant-time"]),
        (["x"], ["tenant-list"]),
        ({"k": 1}, ["tenant-map"]),
    ],
)
def test_tenants_where_compares_values_by_type(store, value, expected):
    values = {
        "tenant-int": 1,
        "tenant-float": 1.0,
        "tenant-str": "1",
        "tenant-bool": True,
        "tenant-null": None,
        "tenant-time": NOW,
        "tenant-list": ["x"],
        "tenant-map": {"k": 1},
    }
    for tenant, stored in values.items():
        store.set("", {"flag": stored}, tenant_id=tenant)
    assert sorted(roots(store.tenants_where("flag", value))) == sorted(expected)


def test_tenants_where_skips_expired_roots(store):
    store.set("", {"connection_status": "connected", "expires_at": NOW - timedelta(days=400)}, tenant_id=A)
    store.set("", {"connection_status": "connected"}, tenant_id=B)
    assert roots(store.tenants_where("connection_status", "connected")) == [B]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.tenants_due("", before=NOW), "field"),
        (lambda s: s.tenants_due("a..b", before=NOW), "field"),
        (lambda s: s.tenants_due("x') OR 1=1 --", before=NOW), "field"),
        (lambda s: s.tenants_due("next_plan_at", before=datetime(2025, 1, 1)), "before"),
        (lambda s: s.tenants_due("next_plan_at", before=NOW, limit=0), "limit"),
        (lambda s: s.tenants_where("workspace_id", "w", limit=-1), "limit"),
        (lambda s: s.tenants_where("workspace_id", "w", start_after="../x"), "start_after"),
        (lambda s: s.tenants_where("workspace_id", "w", start_after="a/b"), "start_after"),
        (lambda s: s.tenants_where("$.workspace_id", "w"), "field"),
    ],
)
def test_named_queries_validate_their_arguments(store, call, field):
    with pytest.raises(InvalidRequest) as caught:
        call(store)
    assert caught.value.field == field
