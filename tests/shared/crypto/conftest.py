"""Fixtures: a real SQLite document store in a temp folder and a caching secrets double."""

from __future__ import annotations

import pytest

from shared.crypto.keyring import generate_key
from tests.shared.crypto.fakes import CachingSecrets


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "documents.sqlite3"


@pytest.fixture
def store(db_path):
    from shared.store.sqlite import SqliteDocumentStore

    store = SqliteDocumentStore(db_path)
    yield store
    store.close()


@pytest.fixture
def kek_b64() -> str:
    return generate_key()


@pytest.fixture
def secrets(kek_b64) -> CachingSecrets:
    return CachingSecrets({"token-kek": kek_b64})
