"""Fixtures shared by tests/shared: the document store on every adapter.

``store`` is parametrised over the SQLite adapter (a file in ``tmp_path``) and the Firestore
adapter on the official emulator (started once per session, a fresh project id per test, reset
afterwards). ``store_factory`` opens more stores on the same backing data (another process's view,
or one with an injected clock).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from shared.store.base import DocumentStore
from tests.support.firestore_emulator import EmulatorUnavailable, FirestoreEmulator, firestore_emulator
from tests.support.requires import unavailable

StoreFactory = Callable[..., DocumentStore]


@pytest.fixture(scope="session")
def firestore_emulator_session() -> Iterator[FirestoreEmulator]:
    with contextlib.ExitStack() as stack:
        try:
            emulator = stack.enter_context(firestore_emulator())
        except EmulatorUnavailable as exc:
            unavailable(str(exc))
        yield emulator


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def store_backend(request) -> str:
    return request.param


@pytest.fixture
def store_factory(store_backend, request, tmp_path) -> Iterator[StoreFactory]:
    """``factory(clock=None)``: a new store instance over this test's data."""
    opened: list[DocumentStore] = []
    cleanup: list[Callable[[], None]] = []

    if store_backend == "sqlite":
        from shared.store.sqlite import SqliteDocumentStore

        path = tmp_path / "store.sqlite3"

        def factory(clock: Callable[[], datetime] | None = None) -> DocumentStore:
            store = SqliteDocumentStore(path, **({"clock": clock} if clock else {}))
            opened.append(store)
            return store

    else:
        from shared.store.firestore import FirestoreDocumentStore
        from tests.support.firestore_emulator import new_project_id

        emulator: FirestoreEmulator = request.getfixturevalue("firestore_emulator_session")
        project = new_project_id()
        cleanup.append(lambda: emulator.reset(project))

        def factory(clock: Callable[[], datetime] | None = None) -> DocumentStore:
            store = FirestoreDocumentStore(emulator.client(project), **({"clock": clock} if clock else {}))
            opened.append(store)
            return store

    yield factory
    for store in opened:
        with contextlib.suppress(Exception):
            store.close()
    for step in cleanup:
        step()


@pytest.fixture
def store(store_factory) -> DocumentStore:
    return store_factory()
