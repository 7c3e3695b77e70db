"""The blob store on Cloud Storage (the ``gcp`` profile): objects at ``tenants/{tenant_id}/{key}``.

Generations and preconditions are Cloud Storage's own: every call that may change an object passes
``if_generation_match`` to the server, which checks it atomically.

Retries use the client library's :data:`~google.cloud.storage.retry.DEFAULT_RETRY` (429, 5xx,
connection errors; exponential backoff). Reads, listings and deletes are retried; a write is retried
only when it carries a precondition, because then a repeat cannot clobber somebody else's object.
One consequence worth knowing: if a retried call's first attempt succeeded but its answer was lost,
the repeat reports what it finds (a conditional write: :class:`GenerationMismatch`; a delete:
:class:`BlobNotFound`). Callers that retry on ``GenerationMismatch`` re-read, so they converge.

Uploads: ``upload_from_string`` sends objects up to 8 MiB in one multipart request and larger ones
as a resumable upload. Cloud Storage enforces ``ifGenerationMatch`` on both (checked when the
upload completes), so we keep the library's choice rather than forcing one-request uploads through
private APIs. The fake-gcs-server emulator enforces it on multipart uploads only (and not on
DELETE), so the emulator contract tests exercise preconditions on small objects.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import urllib3
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exceptions
from google.cloud import storage
from google.cloud.storage.exceptions import DataCorruption, InvalidResponse
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.blobs.base import Blob, BlobInfo, tenant_prefix, validate_generation_match, validate_key, validate_payload
from shared.blobs.errors import BlobError, BlobNotFound, GenerationMismatch

logger = logging.getLogger(__name__)

_DEFAULT_TIMEOUT = 60.0  # seconds per HTTP request, the library's own default

# Everything the client stack raises when the backend, the network or the credentials fail.
_BACKEND_FAILURES = (
    api_exceptions.GoogleAPIError,  # HTTP errors and RetryError (retries exhausted)
    auth_exceptions.GoogleAuthError,
    requests.RequestException,
    InvalidResponse,
    DataCorruption,
    http.client.HTTPException,
    urllib3.exceptions.HTTPError,
    OSError,
)




class GcsBlobStore:
    """A :class:`~shared.blobs.base.BlobStore` over one Cloud Storage bucket."""

    def __init__(self, client: storage.Client, bucket: str, *, retry: Retry | None = DEFAULT_RETRY,
                 timeout: float = _DEFAULT_TIMEOUT) -> None:
        if not bucket:
            raise ValueError("a bucket name is required")
        self._client = client
        self._bucket = client.bucket(bucket)
        self._retry = retry
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Any) -> GcsBlobStore:
        """The store of the ``gcp`` profile: ``PLANNER_GCS_BUCKET`` in ``PLANNER_GCP_PROJECT``."""
        if not settings.gcs_bucket:
            raise ValueError("PLANNER_GCS_BUCKET is required by the Cloud Storage blob store")
        client = storage.Client(project=settings.gcp_project or None)
        return cls(client, settings.gcs_bucket)

    # --- the port -------------------------------------------------------------------------------

    def read(self, key: str, *, tenant_id: str) -> Blob:
        """The live object; BlobNotFound if absent."""
        key = validate_key(key)
        blob = self._bucket.blob(self._name(key, tenant_id))
        with self._translate("read", missing=BlobNotFound):
            data = blob.download_as_bytes(retry=self._retry, timeout=self._timeout)
        # The generation comes from the same response's x-goog-generation header, so it labels
        # exactly these bytes (no second request to race with a writer).
        if blob.generation is None:
            logger.warning("cloud storage read returned no generation")
            raise BlobError()
        return Blob(key=key, data=data, generation=blob.generation)

    def write(self, key: str, data: bytes, *, tenant_id: str, if_generation_match: int | None = None,
              content_type: str = "application/octet-stream") -> int:
        """Store ``data``; return the new generation. GenerationMismatch if the precondition fails."""
        key = validate_key(key)
        payload = validate_payload(data)
        expected = validate_generation_match(if_generation_match)
        blob = self._bucket.blob(self._name(key, tenant_id))
        with self._translate("write", missing=BlobError):
            blob.upload_from_string(
                payload,
                content_type=content_type,
                if_generation_match=expected,
                retry=self._retry if expected is not None else None,
                timeout=self._timeout,
            )
        if blob.generation is None:
            logger.warning("cloud storage write returned no generation")
            raise BlobError()
        return blob.generation

    def delete(self, key: str, *, tenant_id: str, if_generation_match: int | None = None) -> None:
        """Delete the object; BlobNotFound if absent; GenerationMismatch if the precondition fails."""
        key = validate_key(key)
        expected = validate_generation_match(if_generation_match)
        with self._translate("delete", missing=BlobNotFound):
            self._bucket.delete_blob(
                self._name(key, tenant_id),
                if_generation_match=expected,
                retry=self._retry,
                timeout=self._timeout,
            )

    def stat(self, key: str, *, tenant_id: str) -> BlobInfo | None:
        """Key, generation and size of the live object, or None if absent."""
        key = validate_key(key)
        with self._translate("stat", missing=BlobError):
            blob = self._bucket.get_blob(self._name(key, tenant_id), retry=self._retry, timeout=self._timeout)
        if blob is None:
            return None
        return BlobInfo(key=key, generation=blob.generation, size=blob.size or 0)

    def list(self, prefix: str = "", *, tenant_id: str) -> list[BlobInfo]:
        """Objects whose relative key starts with ``prefix``, sorted by key."""
        prefix = validate_key(prefix, allow_empty=True, field="prefix")
        base = tenant_prefix(tenant_id)
        # The trailing "/" of the tenant prefix keeps tenant "acme" from listing tenant "acme-2".
        with self._translate("list", missing=BlobError):
            blobs = list(
                self._client.list_blobs(self._bucket, prefix=base + prefix, retry=self._retry, timeout=self._timeout)
            )
        infos = [
            BlobInfo(key=blob.name[len(base):], generation=blob.generation, size=blob.size or 0)
            for blob in blobs
            if blob.name.startswith(base + prefix)
        ]
        return sorted(infos, key=lambda info: info.key.encode("utf-8"))

    def delete_prefix(self, prefix: str = "", *, tenant_id: str) -> int:
        """Delete every object under ``prefix`` (the whole tenant when empty); return how many."""
        deleted = 0
        for info in self.list(prefix, tenant_id=tenant_id):
            try:
                self.delete(info.key, tenant_id=tenant_id)
            except BlobNotFound:
                continue  # deleted meanwhile by someone else: gone either way, but not by us
            deleted += 1
        return deleted

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _name(key: str, tenant_id: str) -> str:
        return tenant_prefix(tenant_id) + key

    @staticmethod
    @contextmanager
    def _translate(operation: str, *, missing: type[Exception]) -> Iterator[None]:
        """Map client errors onto the port's: 404 -> ``missing``, 412 -> GenerationMismatch, else BlobError."""
        try:
            yield
        except api_exceptions.NotFound as exc:
            if missing is BlobError:
                # A 404 where no object is addressed means the bucket itself is missing.
                logger.warning("cloud storage %s failed: bucket not found", operation)
            raise missing() from exc
        except api_exceptions.PreconditionFailed as exc:
            raise GenerationMismatch() from exc
        except _BACKEND_FAILURES as exc:
            # The class and status only: messages carry URLs and object names.
            status = getattr(exc, "code", None)
            logger.warning("cloud storage %s failed: %s %s", operation, type(exc).__name__, status or "")
            raise BlobError() from exc
