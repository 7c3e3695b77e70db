"""Fixtures of the sync tests: SQLite document store and task queue on an injected clock, the
local secrets folder, and the webhook intake wired to them."""

from __future__ import annotations

import pytest

from shared.connections.tenants import TenantRepository
from shared.secrets.local import EnvFileSecretStore
from shared.store.sqlite import SqliteDocumentStore
from shared.sync.verification import VerificationTokens
from shared.sync.webhook import WebhookIntake
from shared.taskqueue.local import SqliteTaskQueue
from tests.shared.sync.support import TOKEN, Clock, connect_tenant


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    store = SqliteDocumentStore(tmp_path / "documents.sqlite3", clock=clock)
    yield store
    store.close()


@pytest.fixture
def queue(tmp_path, clock) -> SqliteTaskQueue:
    return SqliteTaskQueue(tmp_path / "tasks.sqlite3", clock=clock)


@pytest.fixture
def tenants(store) -> TenantRepository:
    return TenantRepository(store)


@pytest.fixture
def tenant_id(tenants) -> str:
    return connect_tenant(tenants)


@pytest.fixture
def secrets_dir(tmp_path):
    return tmp_path / "secrets"


@pytest.fixture
def tokens(store, secrets_dir, clock) -> VerificationTokens:
    """Local-profile token handling with the test token already configured."""
    secrets = EnvFileSecretStore(environ={}, directory=secrets_dir)
    return VerificationTokens(store=store, secrets=secrets, configured=TOKEN, local_secrets_dir=secrets_dir,
                              clock=clock)


@pytest.fixture
def intake(store, queue, tenants, tokens, clock) -> WebhookIntake:
    return WebhookIntake(store=store, tasks=queue, tenants=tenants, tokens=tokens, clock=clock)
