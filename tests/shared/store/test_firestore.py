"""Firestore adapter specifics, on the official emulator: layout, settings, error mapping."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from google.api_core.retry import Retry
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from shared.config import Settings
from shared.store import StoreError
from shared.store.firestore import FirestoreDocumentStore
from tests.support.firestore_emulator import free_port, new_project_id

pytestmark = pytest.mark.emulator

T = "tenant-a"


@pytest.fixture
def project(firestore_emulator_session):
    project = new_project_id()
    yield project
    firestore_emulator_session.reset(project)


@pytest.fixture
def client(firestore_emulator_session, project):
    client = firestore_emulator_session.client(project)
    yield client
    client.close()


def test_documents_live_under_users_tenant(client):
    store = FirestoreDocumentStore(client)
    at = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    store.set("", {"tier": "pro"}, tenant_id=T)
    store.set("tasks/t/notes/n", {"at": at}, tenant_id=T)
    assert client.document("users", T).get().to_dict() == {"tier": "pro"}
    raw = client.document("users", T, "tasks", "t", "notes", "n").get().to_dict()
    assert raw["at"] == at and isinstance(raw["at"], datetime)  # a native timestamp


def test_root_collection_is_configurable(client):
    store = FirestoreDocumentStore(client, root_collection="tenants")
    store.set("tasks/t", {"v": 1}, tenant_id=T)
    assert client.document("tenants", T, "tasks", "t").get().to_dict() == {"v": 1}
    assert not client.document("users", T, "tasks", "t").get().exists
    assert store.export_tenant(tenant_id=T) == {"tasks/t": {"v": 1}}


def test_from_settings_builds_a_client_for_the_project(firestore_emulator_session, project, client):
    store = FirestoreDocumentStore.from_settings(Settings(gcp_project=project, firestore_database="(default)"))
    try:
        store.set("tasks/t", {"v": 1}, tenant_id=T)
        assert client.document("users", T, "tasks", "t").get().to_dict() == {"v": 1}
    finally:
        store.close()


def test_unreachable_backend_is_a_store_error(monkeypatch):
    # Nothing listens on this port: every call fails with UNAVAILABLE until the retry gives up.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    dead = firestore.Client(project=new_project_id(), credentials=AnonymousCredentials())
    retry = Retry(initial=0.01, maximum=0.02, multiplier=1.0, timeout=0.2)
    store = FirestoreDocumentStore(dead, retry=retry, timeout=1.0)
    calls = [
        lambda: store.get("tasks/t", tenant_id=T),
        lambda: store.set("tasks/t", {"v": 1}, tenant_id=T),
        lambda: store.create("tasks/t", {"v": 1}, tenant_id=T),
        lambda: store.increment("tasks/t", {"v": 1}, tenant_id=T),
        lambda: store.query("tasks", tenant_id=T),
        lambda: store.tenants_where("workspace_id", "w"),
    ]
    for call in calls:
        with pytest.raises(StoreError) as caught:
            call()
        assert caught.value.status == 503
        assert caught.value.code == "store_unavailable"
    dead.close()
