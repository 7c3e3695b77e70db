"""Contract: tenant isolation. Every method is attacked with hostile tenant ids and paths, and data
written for one tenant is checked invisible and untouchable through every method of another."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.errors import InvalidRequest
from shared.ids import InvalidTenantId
from shared.store import Filter, PreconditionFailed

A, B = "tenant-a", "tenant-b"
SECRET = {"token": "for-a-only", "n": 1}

BAD_TENANTS = [
    "",
    "../x",
    "..",
    "A",
    "Tenant-a",
    "a/b",
    "tenant-a/tasks",
    "ab",  # too short
    "x" * 65,  # too long
    "-abc",
    "tenant a",
    "tenant\x00a",
    "tenant-ä",
    "users/tenant-a",
    None,
    123,
]


def every_method(store, tenant_id):
    """One call of each data method for ``tenant_id`` (valid paths and data)."""
    now = datetime.now(timezone.utc)
    return [
        lambda: store.get("tasks/t", tenant_id=tenant_id),
        lambda: store.get_document("tasks/t", tenant_id=tenant_id),
        lambda: store.set("tasks/t", {"v": 1}, tenant_id=tenant_id),
        lambda: store.set("tasks/t", {"v": 1}, tenant_id=tenant_id, merge=True),
        lambda: store.create("tasks/t", {"v": 1}, tenant_id=tenant_id),
        lambda: store.update_if_unchanged("tasks/t", {"v": 1}, tenant_id=tenant_id, update_time=now),
        lambda: store.delete("tasks/t", tenant_id=tenant_id),
        lambda: store.increment("tasks/t", {"v": 1}, tenant_id=tenant_id),
        lambda: store.query("tasks", tenant_id=tenant_id),
        lambda: store.transaction(lambda txn: txn.get("tasks/t"), tenant_id=tenant_id),
        lambda: store.export_tenant(tenant_id=tenant_id),
        lambda: store.delete_tenant(tenant_id=tenant_id),
    ]


@pytest.mark.parametrize("tenant_id", BAD_TENANTS, ids=repr)
def test_invalid_tenant_ids_are_refused_by_every_method(store, tenant_id):
    store.set("tasks/t", SECRET, tenant_id=A)
    for call in every_method(store, tenant_id):
        with pytest.raises(InvalidTenantId) as caught:
            call()
        assert caught.value.field == "tenant_id"
        assert "for-a-only" not in caught.value.message
    assert store.export_tenant(tenant_id=A) == {"tasks/t": SECRET}


BAD_DOCUMENT_PATHS = [
    "..",
    ".",
    "../tenant-b",
    "../tenant-b/tasks/t",
    "../../users/tenant-b/tasks/t",
    "tasks/../../tenant-b",
    "tasks/..",
    "tasks/./t",
    "/tasks/t",
    "tasks/t/",
    "tasks//t",
    "/",
    "//",
    "tasks",  # a collection, not a document
    "tasks/t/notes",
    "users/tenant-b/tasks",
    "tasks/t\\..\\x",
    "tasks/t x",
    "tasks/\x00",
    "tasks/__name__",
    "tasks/" + "x" * 300,
    "tasks/%2e%2e",
    None,
    ["tasks", "t"],
]


@pytest.mark.parametrize("path", BAD_DOCUMENT_PATHS, ids=repr)
def test_malformed_document_paths_are_refused_everywhere(store, path):
    now = datetime.now(timezone.utc)
    calls = [
        lambda: store.get(path, tenant_id=A),
        lambda: store.get_document(path, tenant_id=A),
        lambda: store.set(path, {"v": 1}, tenant_id=A),
        lambda: store.create(path, {"v": 1}, tenant_id=A),
        lambda: store.update_if_unchanged(path, {"v": 1}, tenant_id=A, update_time=now),
        lambda: store.delete(path, tenant_id=A),
        lambda: store.increment(path, {"v": 1}, tenant_id=A),
        lambda: store.transaction(lambda txn: txn.get(path), tenant_id=A),
        lambda: store.transaction(lambda txn: txn.set(path, {"v": 1}), tenant_id=A),
        lambda: store.transaction(lambda txn: txn.create(path, {"v": 1}), tenant_id=A),
        lambda: store.transaction(lambda txn: txn.delete(path), tenant_id=A),
    ]
    for call in calls:
        with pytest.raises(InvalidRequest) as caught:
            call()
        assert caught.value.field == "path"
    assert store.export_tenant(tenant_id=A) == {}
    assert store.export_tenant(tenant_id=B) == {}


BAD_COLLECTIONS = ["", "tasks/t", "/tasks", "tasks/", "..", "../tenant-b/tasks", "tasks/t/notes/", "a//b/c", None]


@pytest.mark.parametrize("collection", BAD_COLLECTIONS, ids=repr)
def test_malformed_collection_paths_are_refused(store, collection):
    with pytest.raises(InvalidRequest) as caught:
        store.query(collection, tenant_id=A)
    assert caught.value.field == "collection"


def test_absolute_looking_paths_stay_inside_the_tenant(store):
    store.set("", {"workspace_id": "ws-b"}, tenant_id=B)
    store.set("tasks/t", {"owner": "b"}, tenant_id=B)
    # "users/tenant-b/tasks/t" is an ordinary nested path *inside* tenant A
    store.set("users/tenant-b/tasks/t", {"owner": "a"}, tenant_id=A)
    store.set("users/tenant-b", {"workspace_id": "ws-b"}, tenant_id=A)
    assert store.get("tasks/t", tenant_id=B) == {"owner": "b"}
    assert store.get("", tenant_id=B) == {"workspace_id": "ws-b"}
    assert set(store.export_tenant(tenant_id=B)) == {"", "tasks/t"}
    assert set(store.export_tenant(tenant_id=A)) == {"users/tenant-b", "users/tenant-b/tasks/t"}
    assert [row.tenant_id for row in store.tenants_where("workspace_id", "ws-b")] == [B]
    assert [d.path for d in store.query("users/tenant-b/tasks", tenant_id=A)] == ["users/tenant-b/tasks/t"]


def test_data_of_one_tenant_is_invisible_to_another_through_every_method(store):
    store.set("", {"workspace_id": "ws-a"}, tenant_id=A)
    store.set("tasks/t", SECRET, tenant_id=A)
    store.set("tasks/t/notes/n", SECRET, tenant_id=A)

    assert store.get("tasks/t", tenant_id=B) is None
    assert store.get("", tenant_id=B) is None
    assert store.get_document("tasks/t/notes/n", tenant_id=B) is None
    assert store.query("tasks", tenant_id=B) == []
    assert store.query("tasks", tenant_id=B, filters=[Filter("token", "==", "for-a-only")]) == []
    assert store.query("tasks/t/notes", tenant_id=B) == []
    assert store.export_tenant(tenant_id=B) == {}
    assert store.transaction(lambda txn: txn.get("tasks/t"), tenant_id=B) is None

    # B's writes to the same relative paths land in B's space only
    store.increment("tasks/t", {"n": 10}, tenant_id=B)
    store.transaction(lambda txn: txn.set("tasks/t/notes/n", {"mine": "b"}), tenant_id=B)
    store.create("tasks/other", {"b": True}, tenant_id=B)
    assert store.get("tasks/t", tenant_id=A) == SECRET
    assert store.get("tasks/t/notes/n", tenant_id=A) == SECRET
    assert store.get("tasks/t", tenant_id=B) == {"n": 10}

    # B's update_if_unchanged cannot use A's version to overwrite anything of A
    version = store.get_document("tasks/t", tenant_id=A).update_time
    with pytest.raises(PreconditionFailed):
        store.update_if_unchanged("tasks/t", {"hijacked": True}, tenant_id=B, update_time=version)
    assert store.get("tasks/t", tenant_id=A) == SECRET

    # deleting B removes only B
    store.delete("tasks/t", tenant_id=B)
    assert store.get("tasks/t", tenant_id=A) == SECRET
    assert store.delete_tenant(tenant_id=B) == 2
    assert store.export_tenant(tenant_id=A) == {
        "": {"workspace_id": "ws-a"},
        "tasks/t": SECRET,
        "tasks/t/notes/n": SECRET,
    }


def test_tenant_ids_that_share_a_prefix_do_not_leak(store):
    store.set("tasks/t", {"who": "short"}, tenant_id="abc")
    store.set("tasks/t", {"who": "long"}, tenant_id="abcd")
    store.set("tasks/t", {"who": "dash"}, tenant_id="abc-d")
    assert store.export_tenant(tenant_id="abc") == {"tasks/t": {"who": "short"}}
    assert [d.data["who"] for d in store.query("tasks", tenant_id="abc")] == ["short"]
    assert store.delete_tenant(tenant_id="abc") == 1
    assert store.get("tasks/t", tenant_id="abcd") == {"who": "long"}
    assert store.get("tasks/t", tenant_id="abc-d") == {"who": "dash"}


def test_tenant_ids_at_the_length_limit_work(store):
    longest = "t" * 64
    store.set("tasks/t", {"v": 1}, tenant_id=longest)
    assert store.export_tenant(tenant_id=longest) == {"tasks/t": {"v": 1}}


def test_errors_do_not_echo_paths(store):
    with pytest.raises(InvalidRequest) as caught:
        store.get("../secret-tenant/tasks", tenant_id=A)
    assert "secret-tenant" not in caught.value.message
