"""Builds each port's adapter from the settings' profile, lazily and once per process.

``local`` → SQLite document store, a folder blob store, the SQLite task queue and env/file secrets,
all under ``settings.data_dir``. ``gcp`` → Firestore, Cloud Storage, Cloud Tasks and Secret Manager.
Adapters are imported only when first asked for, so a function that never touches blobs never
imports google-cloud-storage.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from shared.config import Settings, get_settings

if TYPE_CHECKING:
    from shared.blobs.base import BlobStore
    from shared.secrets.base import SecretStore
    from shared.store.base import DocumentStore
    from shared.taskqueue.base import TaskQueue


class Backends:
    """The adapters of one process. Build with :func:`get_backends` (cached) or directly in tests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    @property
    def data_dir(self) -> Path:
        path = Path(self.settings.data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @cached_property
    def documents(self) -> "DocumentStore":
        with self._lock:
            if self.settings.profile == "gcp":
                from shared.store.firestore import FirestoreDocumentStore

                return FirestoreDocumentStore.from_settings(self.settings)
            from shared.store.sqlite import SqliteDocumentStore

            return SqliteDocumentStore(self.data_dir / "documents.sqlite3")

    @cached_property
    def blobs(self) -> "BlobStore":
        with self._lock:
            if self.settings.profile == "gcp":
                from shared.blobs.gcs import GcsBlobStore

                return GcsBlobStore.from_settings(self.settings)
            from shared.blobs.local import LocalBlobStore

            return LocalBlobStore(self.data_dir / "blobs")

    @cached_property
    def tasks(self) -> "TaskQueue":
        with self._lock:
            if self.settings.profile == "gcp":
                from shared.taskqueue.cloudtasks import CloudTasksQueue

                return CloudTasksQueue.from_settings(self.settings)
            from shared.taskqueue.local import SqliteTaskQueue

            return SqliteTaskQueue(self.data_dir / "tasks.sqlite3")

    @cached_property
    def secrets(self) -> "SecretStore":
        with self._lock:
            if self.settings.profile == "gcp":
                from shared.secrets.secretmanager import SecretManagerSecretStore

                return SecretManagerSecretStore.from_settings(self.settings)
            from shared.secrets.local import EnvFileSecretStore

            return EnvFileSecretStore(directory=self.data_dir / "secrets")


_instance: Backends | None = None
_instance_lock = threading.Lock()


def get_backends() -> Backends:
    """The process's adapters, built on first use from :func:`shared.config.get_settings`."""
    global _instance
    with _instance_lock:
        if _instance is None or _instance.settings is not get_settings():
            _instance = Backends(get_settings())
        return _instance
