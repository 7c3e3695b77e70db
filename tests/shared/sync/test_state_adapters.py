"""The sync's records on both document store adapters (SQLite, and Firestore on its emulator):
dedup claims, deletion log ordering, dirty marks set concurrently and cleared only if unchanged,
cursors, and the webhook intake end to end on the store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.connections.tenants import TenantRepository
from shared.secrets.local import EnvFileSecretStore
from shared.sync.state import DeletionLog, DirtyMarks, SourceCursor, SyncState, SyncStateRepository
from shared.sync.verification import VerificationTokens
from shared.sync.webhook import WebhookIntake
from shared.taskqueue.local import SqliteTaskQueue
from tests.shared.sync.support import PAGE_ID, TOKEN, connect_tenant, event, signed

T0 = datetime.now(timezone.utc).replace(microsecond=0)  # records expire a week after it


@pytest.fixture
def any_store(store_factory):
    """The parametrised store of tests/shared/conftest.py (sqlite, firestore)."""
    return store_factory()


def test_deletion_log_keeps_the_newest_event(any_store):
    log = DeletionLog(any_store)
    tenant = "tenant-a"
    assert log.record(PAGE_ID, deleted=True, at=T0, now=T0, tenant_id=tenant)
    assert not log.record(PAGE_ID, deleted=False, at=T0 - timedelta(seconds=1), now=T0, tenant_id=tenant)
    [pending] = log.pending(tenant_id=tenant)
    assert (pending.page_id, pending.at) == (PAGE_ID, T0)

    log.mark_applied([pending], tenant_id=tenant)
    assert log.pending(tenant_id=tenant) == []
    assert log.record(PAGE_ID, deleted=False, at=T0 + timedelta(seconds=1), now=T0, tenant_id=tenant)
    assert log.pending(tenant_id=tenant) == []


def test_dirty_marks_merge_and_clear_only_if_untouched(any_store):
    marks = DirtyMarks(any_store)
    tenant = "tenant-a"
    marks.mark("task", full=False, now=T0, tenant_id=tenant)
    marks.mark("task", full=True, now=T0 + timedelta(seconds=1), tenant_id=tenant)
    marks.mark("routine", full=False, now=T0, tenant_id=tenant)
    seen = marks.load(tenant_id=tenant)
    assert seen["task"].full and not seen["routine"].full

    marks.mark("task", full=False, now=T0 + timedelta(seconds=5), tenant_id=tenant)  # a webhook during the run
    marks.clear(list(seen.values()), tenant_id=tenant)

    assert set(marks.load(tenant_id=tenant)) == {"task"}


def test_cursors_round_trip(any_store):
    states = SyncStateRepository(any_store)
    states.save(SyncState(sources={"task": SourceCursor("ds-1", T0, T0)}, last_run_at=T0, last_result={"status": "ok"}),
                tenant_id="tenant-a")
    loaded = states.load(tenant_id="tenant-a")
    assert loaded.sources["task"] == SourceCursor("ds-1", T0, T0)
    assert loaded.last_result == {"status": "ok"}


def test_the_intake_deduplicates_on_the_adapter(any_store, tmp_path):
    tenants = TenantRepository(any_store)
    tenant_id = connect_tenant(tenants)
    tokens = VerificationTokens(store=any_store, secrets=EnvFileSecretStore(environ={}, directory=None),
                                configured=TOKEN)
    queue = SqliteTaskQueue(tmp_path / "queue.sqlite3")
    intake = WebhookIntake(store=any_store, tasks=queue, tenants=tenants, tokens=tokens)

    body, signature = signed(event("page_deleted.json"))
    statuses = [intake.handle(body, signature=signature).status for _ in range(2)]

    assert statuses == ["accepted", "duplicate"]
    assert [p.page_id for p in DeletionLog(any_store).pending(tenant_id=tenant_id)] == [PAGE_ID]
    assert len(queue.all_tasks()) == 1

