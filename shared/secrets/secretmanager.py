"""The Secret Manager adapter of the secrets port (the ``gcp`` profile).

``get(name)`` reads ``projects/P/secrets/NAME/versions/latest``, checks the payload's CRC32C when
the service sent one, and caches the value for ``ttl_seconds`` (measured on an injectable clock);
``refresh=True`` skips the cache, for callers that just failed to decrypt with the cached key.

Errors (the secret's value never appears in them or in logs):

    SecretNotFound (503)              NOT_FOUND, or PERMISSION_DENIED (the message names the role)
    SecretStoreUnavailable (503)      the service failed or timed out after retries
    └── SecretIntegrityError (503)    the payload did not match its CRC32C
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import google.auth.exceptions
import google_crc32c
import requests
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.cloud import secretmanager

from shared.errors import Unavailable
from shared.secrets.base import SecretNotFound
from shared.secrets.local import validate_secret_name

if TYPE_CHECKING:
    from shared.config import Settings

logger = logging.getLogger(__name__)

# Shorter than the client's default (60 s): a cold start should fail and be retried by its caller
# rather than sit a minute on a secret.
DEFAULT_RETRY = gretry.Retry(
    predicate=gretry.if_exception_type(
        gexc.ServiceUnavailable, gexc.ResourceExhausted, gexc.DeadlineExceeded, gexc.InternalServerError
    ),
    initial=0.5,
    maximum=5.0,
    multiplier=2.0,
    timeout=20.0,
)
DEFAULT_TIMEOUT = 10.0


class SecretStoreUnavailable(Unavailable):
    code = "secret_store_unavailable"
    default_message = "The secret store is unavailable; try again."


class SecretIntegrityError(SecretStoreUnavailable):
    code = "secret_corrupted"
    default_message = "A secret arrived corrupted; try again."


class SecretManagerSecretStore:
    """A :class:`~shared.secrets.base.SecretStore` on Google Secret Manager, cached per secret."""

    def __init__(
        self,
        client: secretmanager.SecretManagerServiceClient,
        project: str,
        ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
        *,
        retry: gretry.Retry | None = DEFAULT_RETRY,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not project:
            raise ValueError("Secret Manager needs a project")
        self._client = client
        self.project = project
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._retry = retry
        self._timeout = timeout
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: "Settings", *, client: secretmanager.SecretManagerServiceClient | None = None
    ) -> "SecretManagerSecretStore":
        """The adapter for the ``gcp`` profile (default credentials and gRPC unless ``client``)."""
        return cls(
            client or secretmanager.SecretManagerServiceClient(),
            settings.gcp_project,
            ttl_seconds=settings.secret_cache_seconds,
        )

    def version_path(self, name: str) -> str:
        return f"projects/{self.project}/secrets/{validate_secret_name(name)}/versions/latest"

    def get(self, name: str, *, refresh: bool = False) -> str:
        """The latest value of secret ``name``, from the cache unless expired or ``refresh``."""
        path = self.version_path(name)
        # One lock for fetches too: a cold start asking for a secret from several threads makes
        # one call, not one per thread.
        with self._lock:
            now = self._clock()
            cached = self._cache.get(name)
            if cached is not None and not refresh and now < cached[1]:
                return cached[0]
            value = self._access(name, path)
            if self.ttl_seconds > 0:
                self._cache[name] = (value, now + self.ttl_seconds)
            return value

    def _access(self, name: str, path: str) -> str:
        try:
            response = self._client.access_secret_version(name=path, retry=self._retry, timeout=self._timeout)
        except gexc.NotFound:
            raise SecretNotFound(
                f"Secret {name!r} (or a version of it) does not exist in project {self.project!r}."
            ) from None
        except gexc.Forbidden:
            # PermissionDenied on gRPC; a bare 403 Forbidden on the REST transport.
            raise SecretNotFound(
                f"Secret {name!r} cannot be read: the runtime service account needs"
                " roles/secretmanager.secretAccessor on it."
            ) from None
        except gexc.FailedPrecondition:
            raise SecretNotFound(f"The latest version of secret {name!r} is disabled or destroyed.") from None
        except (gexc.GoogleAPICallError, gexc.RetryError) as exc:
            logger.warning("reading secret %s failed: %s", name, type(exc).__name__)
            raise SecretStoreUnavailable(f"Secret {name!r} could not be read; try again.") from exc
        except (requests.RequestException, google.auth.exceptions.GoogleAuthError) as exc:
            # Network errors of the REST transport and credential refresh failures arrive as is.
            logger.warning("reading secret %s failed: %s", name, type(exc).__name__)
            raise SecretStoreUnavailable(f"Secret {name!r} could not be read; try again.") from exc
        payload = response.payload
        if secretmanager.SecretPayload.pb(payload).HasField("data_crc32c"):
            if google_crc32c.value(payload.data) != payload.data_crc32c:
                logger.error("secret %s failed its CRC32C check", name)
                raise SecretIntegrityError(f"Secret {name!r} failed its integrity check; try again.")
        try:
            return payload.data.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretNotFound(f"Secret {name!r} is not UTF-8 text.") from None
