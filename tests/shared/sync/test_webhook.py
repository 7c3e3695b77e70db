"""The webhook intake on Notion-shaped payloads: verification, signatures, routing, filtering,
deduplication, deletions and coalescing — on the SQLite store and the local task queue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.blobs.local import LocalBlobStore
from shared.models import ConnectionStatus
from shared.secrets.local import EnvFileSecretStore
from shared.sync.errors import WebhookNotConfigured, WebhookPayloadInvalid, WebhookSignatureInvalid, WebhookTooLarge
from shared.sync.schedule import SYNC_PATH, window_start
from shared.sync.state import DeletionLog, DirtyMarks
from shared.sync.verification import PARKED_BLOB_KEY, RECORD_PATH, SECRET_NAME, SYSTEM_TENANT, VerificationTokens
from shared.sync.webhook import MAX_WEBHOOK_BODY, WebhookIntake
from shared.taskqueue.errors import TaskQueueError
from tests.shared.sync.support import (
    PAGE_ID,
    TASKS_DS,
    TENANT_ID,
    TOKEN,
    connect_tenant,
    event,
    raw_fixture,
    signed,
)


def deliver(intake: WebhookIntake, payload, token: str = TOKEN):
    body, signature = signed(payload, token)
    return intake.handle(body, signature=signature)


def side_effects(store, queue, tenant_id: str = TENANT_ID):
    """Everything a delivery could have changed: the tenant's documents and the queue."""
    return store.export_tenant(tenant_id=tenant_id), [(t.task_id, t.payload) for t in queue.all_tasks()]


# --- accepted events -----------------------------------------------------------------------------


def test_page_created_enqueues_one_sync_at_the_window_end(intake, store, queue, tenant_id, clock):
    outcome = intake.handle(raw_fixture("page_created.json"), signature=signed(raw_fixture("page_created.json"))[1])

    assert (outcome.status, outcome.reason, outcome.tenant_id) == ("accepted", "sync", tenant_id)
    [task] = queue.all_tasks()
    assert (task.function, task.path, task.tenant_id, task.queue) == ("sync", SYNC_PATH, tenant_id, "sync")
    assert task.task_id == outcome.task_name
    assert task.schedule_time == window_start(clock(), intake.window) + intake.window
    assert task.schedule_time > clock()
    marks = DirtyMarks(store).load(tenant_id=tenant_id)
    assert set(marks) == {"task"} and not marks["task"].full
    assert store.get("webhook_events/367cba44-b6f3-4c92-81e7-6a2e9659efd4", tenant_id=tenant_id) is not None


def test_properties_updated_marks_only_the_changed_data_source(intake, store, tenant_id):
    assert deliver(intake, event("page_properties_updated.json")).status == "accepted"
    assert set(DirtyMarks(store).load(tenant_id=tenant_id)) == {"task"}

    assert deliver(intake, event("routine_properties_updated.json")).status == "accepted"
    assert set(DirtyMarks(store).load(tenant_id=tenant_id)) == {"task", "routine"}


def test_a_burst_in_one_window_coalesces_into_one_task(intake, queue, tenant_id, clock):
    names = {deliver(intake, event("page_created.json")).task_name}
    clock.advance(seconds=3)
    names.add(deliver(intake, event("page_properties_updated.json")).task_name)
    clock.advance(seconds=3)
    names.add(deliver(intake, event("routine_properties_updated.json")).task_name)

    assert len(names) == 1 and len(queue.all_tasks()) == 1

    clock.now = window_start(clock(), intake.window) + intake.window  # the next window
    later = deliver(intake, event("page_properties_updated.json", id="0f5e7a47-58b6-4dc0-9b5c-54b0b5a5d3f1"))
    assert later.task_name not in names
    assert len(queue.all_tasks()) == 2


def test_schema_update_of_a_selected_data_source_asks_for_a_full_sync(intake, store, tenant_id):
    outcome = deliver(intake, event("data_source_schema_updated.json"))

    assert (outcome.status, outcome.reason) == ("accepted", "full")
    marks = DirtyMarks(store).load(tenant_id=tenant_id)
    assert set(marks) == {"task"} and marks["task"].full


def test_page_deleted_records_the_page_without_marking_a_query(intake, store, queue, tenant_id):
    outcome = deliver(intake, event("page_deleted.json"))

    assert (outcome.status, outcome.reason) == ("accepted", "delete")
    [pending] = DeletionLog(store).pending(tenant_id=tenant_id)
    assert pending.page_id == PAGE_ID
    assert pending.at == datetime(2024, 12, 5, 23, 59, 31, 215000, tzinfo=timezone.utc)
    assert DirtyMarks(store).load(tenant_id=tenant_id) == {}
    assert len(queue.all_tasks()) == 1


def test_undelete_cancels_the_deletion_and_a_late_older_delete_does_not_revive_it(intake, store, tenant_id):
    deliver(intake, event("page_deleted.json"))
    deliver(intake, event("page_undeleted.json"))
    assert DeletionLog(store).pending(tenant_id=tenant_id) == []

    # Notion retries out of order: an older deletion of the same page arrives after the undelete.
    late = event("page_deleted.json", id="9b1f5c7e-2a43-4d8e-9a0c-5e2b7f1d3c4a", timestamp="2024-12-05T23:59:50.000Z")
    assert deliver(intake, late).status == "accepted"
    assert DeletionLog(store).pending(tenant_id=tenant_id) == []


def test_a_page_moved_out_of_a_data_source_is_deleted_only_if_we_hold_it(intake, store, tenant_id):
    moved = event("page_created_under_page.json", type="page.moved")
    assert deliver(intake, moved).reason == "another data source"

    page_id = moved["entity"]["id"]
    store.set(f"tasks/{page_id}", {"id": page_id, "title": "Held"}, tenant_id=tenant_id)
    again = event("page_created_under_page.json", type="page.moved", id="0d6a4c39-1c2b-4f6e-8a7d-3b5c9e1f2a40")
    assert deliver(intake, again).reason == "delete"
    assert [p.page_id for p in DeletionLog(store).pending(tenant_id=tenant_id)] == [page_id]


# --- ignored events ------------------------------------------------------------------------------


@pytest.mark.parametrize("name, reason", [
    ("page_created_other_data_source.json", "another data source"),
    ("page_created_under_page.json", "another data source"),
    ("page_content_updated.json", "event type not used"),
    ("comment_created.json", "event type not used"),
    ("unknown_type.json", "event type not used"),
])
def test_events_outside_the_selected_data_sources_or_types_are_ignored(intake, store, queue, tenant_id, name, reason):
    before = side_effects(store, queue)

    outcome = deliver(intake, event(name))

    assert (outcome.status, outcome.reason) == ("ignored", reason)
    assert side_effects(store, queue) == before


def test_unknown_workspace_is_answered_and_ignored(intake, store, queue, tenant_id):
    before = side_effects(store, queue)
    outcome = deliver(intake, event("page_created.json", workspace_id="5f0c5cde-27a4-4a4d-9f4b-8a1d2e3c4b5a"))
    assert (outcome.status, outcome.reason, outcome.tenant_id) == ("ignored", "unknown workspace", None)
    assert side_effects(store, queue) == before


def test_a_disconnected_tenant_gets_no_sync(intake, store, queue, tenants, tenant_id):
    tenants.set_status(ConnectionStatus.NEEDS_REAUTH, tenant_id=tenant_id)
    before = side_effects(store, queue)
    assert deliver(intake, event("page_created.json")).reason == "not connected"
    assert side_effects(store, queue) == before


def test_a_tenant_without_selected_data_sources_ignores_everything(intake, tenants, queue):
    connect_tenant(tenants, tasks_ds=None, routines_ds=None)
    assert deliver(intake, event("page_created.json")).reason == "no data source selected"
    assert queue.all_tasks() == []


# --- duplicates ----------------------------------------------------------------------------------


def test_a_redelivered_event_is_a_duplicate_even_in_a_later_window(intake, store, queue, tenant_id, clock):
    first = deliver(intake, event("page_created.json"))
    marks_after_first = DirtyMarks(store).load(tenant_id=tenant_id)

    clock.advance(minutes=5)  # Notion retries later, with the same event id
    retry = deliver(intake, event("page_created.json", attempt_number=2))

    assert (first.status, retry.status) == ("accepted", "duplicate")
    assert len(queue.all_tasks()) == 1
    assert DirtyMarks(store).load(tenant_id=tenant_id) == marks_after_first


def test_the_dedup_record_expires_after_notions_retry_horizon(intake, store, tenant_id, clock):
    deliver(intake, event("page_created.json"))
    clock.advance(days=4)
    assert deliver(intake, event("page_created.json")).status == "accepted"


class FailingOnceQueue:
    """A task queue (the port) whose first enqueue fails like an outage."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.failures = 1

    def enqueue(self, request):
        if self.failures:
            self.failures -= 1
            raise TaskQueueError()
        return self.inner.enqueue(request)


def test_a_failed_enqueue_withdraws_the_claim_so_notions_retry_is_processed(store, queue, tenants, tokens, clock,
                                                                            tenant_id):
    intake = WebhookIntake(store=store, tasks=FailingOnceQueue(queue), tenants=tenants, tokens=tokens, clock=clock)

    with pytest.raises(TaskQueueError):
        deliver(intake, event("page_created.json"))
    assert store.get("webhook_events/367cba44-b6f3-4c92-81e7-6a2e9659efd4", tenant_id=tenant_id) is None

    assert deliver(intake, event("page_created.json", attempt_number=2)).status == "accepted"
    assert len(queue.all_tasks()) == 1


# --- rejections: nothing stored ------------------------------------------------------------------


def test_a_wrong_signature_is_refused_with_no_side_effect(intake, store, queue, tenant_id):
    before = side_effects(store, queue)
    with pytest.raises(WebhookSignatureInvalid):
        deliver(intake, event("page_created.json"), token="secret_someone_else")
    assert side_effects(store, queue) == before


def test_a_body_changed_after_signing_is_refused(intake, store, queue, tenant_id):
    body, signature = signed(event("page_created.json"))
    tampered = body.replace(TASKS_DS.encode(), b"263104cd-477e-804b-8c32-000b2fcd241a")
    before = side_effects(store, queue)
    with pytest.raises(WebhookSignatureInvalid):
        intake.handle(tampered, signature=signature)
    assert side_effects(store, queue) == before


@pytest.mark.parametrize("header", [None, "", "sha256=", "md5=abc", "sha256=" + "0" * 64])
def test_unsigned_or_malformed_signatures_are_refused(intake, store, queue, tenant_id, header):
    before = side_effects(store, queue)
    with pytest.raises(WebhookSignatureInvalid):
        intake.handle(raw_fixture("page_created.json"), signature=header)
    assert side_effects(store, queue) == before


def test_an_oversized_body_is_refused_before_anything_else(intake, store, queue, tenant_id):
    payload = event("page_created.json", padding="x" * MAX_WEBHOOK_BODY)
    before = side_effects(store, queue)
    with pytest.raises(WebhookTooLarge):
        deliver(intake, payload)
    assert side_effects(store, queue) == before


@pytest.mark.parametrize("body, field", [
    (b"{not json", None),
    (b"[1, 2]", None),
    (b'{"id": "x"}', "id"),
])
def test_signed_but_malformed_bodies_are_400(intake, store, queue, tenant_id, body, field):
    before = side_effects(store, queue)
    raw, signature = signed(body)
    with pytest.raises(WebhookPayloadInvalid) as raised:
        intake.handle(raw, signature=signature)
    assert raised.value.field == field
    assert side_effects(store, queue) == before


@pytest.mark.parametrize("broken, field", [
    ({"entity": None}, "entity"),
    ({"workspace_id": "not-a-uuid"}, "workspace_id"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"type": "PAGE CREATED"}, "type"),
])
def test_events_missing_or_breaking_notions_shape_are_400_naming_the_field(intake, tenant_id, broken, field):
    with pytest.raises(WebhookPayloadInvalid) as raised:
        deliver(intake, event("page_created.json", **broken))
    assert raised.value.field == field
    assert "not-a-uuid" not in raised.value.message


def test_a_signed_event_without_a_configured_token_is_503(store, queue, tenants, tmp_path, clock, tenant_id):
    empty = VerificationTokens(store=store, secrets=EnvFileSecretStore(environ={}, directory=tmp_path / "none"),
                               local_secrets_dir=tmp_path / "none", clock=clock)
    intake = WebhookIntake(store=store, tasks=queue, tenants=tenants, tokens=empty, clock=clock)
    with pytest.raises(WebhookNotConfigured):
        deliver(intake, event("page_created.json"))
    assert queue.all_tasks() == []


# --- the verification request --------------------------------------------------------------------


@pytest.fixture
def unconfigured(store, queue, tenants, secrets_dir, clock) -> WebhookIntake:
    tokens = VerificationTokens(store=store, secrets=EnvFileSecretStore(environ={}, directory=secrets_dir),
                                local_secrets_dir=secrets_dir, clock=clock)
    return WebhookIntake(store=store, tasks=queue, tenants=tenants, tokens=tokens, clock=clock)


def test_verification_stores_the_token_locally_then_signed_events_verify(unconfigured, store, secrets_dir, tenant_id):
    token = event("verification.json")["verification_token"]

    outcome = unconfigured.handle(raw_fixture("verification.json"), signature=None)

    assert (outcome.status, outcome.reason) == ("verified", "stored")
    assert (secrets_dir / SECRET_NAME).read_text() == token
    assert (secrets_dir / SECRET_NAME).stat().st_mode & 0o077 == 0
    record = store.get(RECORD_PATH, tenant_id=SYSTEM_TENANT)
    assert len(record["sha256"]) == 64 and token not in str(record)
    assert deliver(unconfigured, event("page_created.json"), token=token).status == "accepted"


def test_a_second_verification_request_cannot_replace_the_token(unconfigured, secrets_dir):
    unconfigured.handle(raw_fixture("verification.json"), signature=None)
    original = (secrets_dir / SECRET_NAME).read_text()

    outcome = unconfigured.handle(b'{"verification_token": "secret_attacker_chosen_token"}', signature=None)

    assert (outcome.status, outcome.reason) == ("verified", "kept_existing")
    assert (secrets_dir / SECRET_NAME).read_text() == original


def test_gcp_parks_the_token_for_the_operator_first_one_wins(store, queue, tenants, tmp_path, clock, caplog):
    blobs = LocalBlobStore(tmp_path / "blobs")
    tokens = VerificationTokens(store=store, secrets=EnvFileSecretStore(environ={}, directory=None), blobs=blobs,
                                clock=clock)
    intake = WebhookIntake(store=store, tasks=queue, tenants=tenants, tokens=tokens, clock=clock)
    token = event("verification.json")["verification_token"]

    with caplog.at_level("WARNING"):
        first = intake.handle(raw_fixture("verification.json"), signature=None)
    second = intake.handle(b'{"verification_token": "secret_attacker_chosen_token"}', signature=None)

    assert (first.reason, second.reason) == ("parked", "kept_existing")
    assert blobs.read(PARKED_BLOB_KEY, tenant_id=SYSTEM_TENANT).data.decode() == token
    assert "Secret Manager" in caplog.text and token not in caplog.text
    assert tokens.current() is None  # not trusted until the operator installs it


@pytest.mark.parametrize("body", [
    b'{"verification_token": "a", "type": "page.created"}',
    b'{"verification_token": 12}',
    b'{"verification_token": "has space"}',
    b"not json",
])
def test_anything_else_unsigned_is_401(unconfigured, secrets_dir, body):
    with pytest.raises(WebhookSignatureInvalid):
        unconfigured.handle(body, signature=None)
    assert not (secrets_dir / SECRET_NAME).exists()


def test_dedup_claims_expire(store, intake, tenant_id, clock):
    deliver(intake, event("page_created.json"))
    claim = store.get("webhook_events/367cba44-b6f3-4c92-81e7-6a2e9659efd4", tenant_id=tenant_id)
    assert claim["expires_at"] == clock() + timedelta(days=3)
