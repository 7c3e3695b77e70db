"""The wizard's progress document and the first sync it queues."""

from __future__ import annotations

from shared.dashboard import onboarding
from shared.models import UserConfig
from shared.store.sqlite import SqliteDocumentStore
from shared.taskqueue.local import SqliteTaskQueue

TENANT = "ws-0123456789abcdef0123456789abcdef"


def test_steps_in_order(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    fresh = onboarding.load_state(store, UserConfig(), tenant_id=TENANT)
    assert not fresh.done and fresh.next_step == "sources"
    onboarding.mark(store, "sources", tenant_id=TENANT, created={"tasks_database_id": "x"})
    configured = UserConfig(tasks_data_source_id="abc")
    state = onboarding.load_state(store, configured, tenant_id=TENANT)
    assert state.next_step == "schedule" and state.created == {"tasks_database_id": "x"}
    assert onboarding.load_state(store, UserConfig(), tenant_id=TENANT).next_step == "sources"  # sources unset again
    onboarding.mark(store, "schedule", tenant_id=TENANT)
    assert onboarding.load_state(store, configured, tenant_id=TENANT).next_step == "preview"
    onboarding.mark(store, "finished", tenant_id=TENANT)
    assert onboarding.load_state(store, configured, tenant_id=TENANT).done
    store.close()


def test_a_tenant_configured_without_the_wizard_counts_as_onboarded(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    assert onboarding.load_state(store, UserConfig(tasks_data_source_id="abc"), tenant_id=TENANT).done
    store.close()


def test_the_first_sync_is_queued_once_per_pair_of_sources(tmp_path):
    queue = SqliteTaskQueue(tmp_path / "q.sqlite3")
    config = UserConfig(tasks_data_source_id="a", routines_data_source_id="b")
    assert onboarding.queue_first_sync(queue, config, tenant_id=TENANT) is True
    assert onboarding.queue_first_sync(queue, config, tenant_id=TENANT) is False
    other = config.model_copy(update={"routines_data_source_id": "c"})
    assert onboarding.queue_first_sync(queue, other, tenant_id=TENANT) is True
    tasks = queue.all_tasks()
    assert [(t.function, t.path, t.payload["full"]) for t in tasks] == [("sync", "/tasks/sync", True)] * 2
