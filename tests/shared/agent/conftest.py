"""Fixtures of the agent tests: the Notion sandbox on 127.0.0.1 (a free port), a SQLite store, and
a tenant connected to the sandbox (``world``)."""

from __future__ import annotations

import pytest

from shared.notion.sandbox import NotionSandbox, SandboxServer
from shared.store.sqlite import SqliteDocumentStore
from tests.shared.agent.support import DAY, Clock, connect


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock) -> NotionSandbox:
    return NotionSandbox(client_id="agent-tests", client_secret="agent-tests-secret", today=DAY, now=clock)


@pytest.fixture
def sandbox_server(sandbox):
    with SandboxServer(sandbox) as running:
        yield running


@pytest.fixture
def sqlite_store(tmp_path, clock):
    # The store decides what has expired (leases, idempotency records) on the test's clock too.
    store = SqliteDocumentStore(tmp_path / "documents.sqlite3", clock=clock)
    yield store
    store.close()


@pytest.fixture
def world(sandbox, sandbox_server, sqlite_store, clock):
    world = connect(sandbox, sandbox_server.url, sqlite_store, clock)
    world.copy_rows()
    sandbox.faults.clear_log()
    return world
