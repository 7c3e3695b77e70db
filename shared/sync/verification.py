"""The webhook verification token: learning it once, and finding it to check signatures.

When a subscription is created, Notion POSTs ``{"verification_token": "..."}`` (unsigned) once;
that token then keys the HMAC of every event. Where it goes:

* **local profile**: written to ``<data_dir>/secrets/notion-webhook-token`` (mode 0600), the file
  the local secrets store reads, so the next delivery is verified at once;
* **gcp profile**: a function must not be able to install its own signing key, so the token is
  parked for the operator: written to the blob store under the system tenant ``sys-notion`` at
  ``webhook/verification-token`` (the private bucket; the operator reads it there, pastes it into
  Notion's "Verify" dialog and into Secret Manager as ``notion-webhook-token``, then deletes the
  blob), and a warning is logged saying so (without the token).

In both profiles the store keeps ``users/sys-notion/webhook/verification`` with the token's
SHA-256 and when it arrived (there is no tenant key to encrypt it with, so only the digest is kept
there). **First one wins**: an unsigned request cannot replace a token that is already configured
or parked, so nobody can swap the signing key by posting a verification body. To accept a new
subscription's token, the operator removes the old secret (and the parked blob) first.

Signatures are checked with, in order: ``PLANNER_NOTION_WEBHOOK_VERIFICATION_TOKEN`` (settings),
then the secret ``notion-webhook-token`` through the secrets port (env ``PLANNER_SECRET_...``, the
local file, or Secret Manager).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from shared.blobs.base import BlobStore
from shared.blobs.errors import GenerationMismatch
from shared.secrets.base import SecretNotFound, SecretStore
from shared.store.base import DocumentStore

logger = logging.getLogger(__name__)

SECRET_NAME = "notion-webhook-token"
SYSTEM_TENANT = "sys-notion"
RECORD_PATH = "webhook/verification"
PARKED_BLOB_KEY = "webhook/verification-token"
MAX_TOKEN_LENGTH = 512

Outcome = Literal["stored", "parked", "unchanged", "kept_existing"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def valid_token(value: object) -> bool:
    """A verification token as Notion sends it: short, printable, no whitespace."""
    return (isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_LENGTH and value.isprintable()
            and not any(ch.isspace() for ch in value))


@dataclass
class VerificationTokens:
    """Where the verification token is read from and how a new one is taken in."""

    store: DocumentStore
    secrets: SecretStore
    configured: str = ""  # settings.notion_webhook_verification_token
    local_secrets_dir: Path | None = None  # set in the local profile
    blobs: BlobStore | None = None  # the gcp profile parks the token here
    clock: Callable[[], datetime] = _utcnow

    def current(self) -> str | None:
        """The token signatures are checked with, or None if none is configured yet."""
        if self.configured:
            return self.configured
        try:
            return self.secrets.get(SECRET_NAME)
        except SecretNotFound:
            return None

    def accept(self, token: str) -> Outcome:
        """Take in the token of Notion's one-time verification request (see the module doc)."""
        if not valid_token(token):
            raise ValueError("not a verification token")
        existing = self.current()
        if existing is not None:
            if existing == token:
                return "unchanged"
            logger.warning("a webhook verification request was ignored: a verification token is already "
                           "configured (remove secret %s first to accept a new subscription)", SECRET_NAME)
            return "kept_existing"
        if self.local_secrets_dir is not None:
            outcome: Outcome = "stored" if self._write_local(token) else "kept_existing"
        elif self.blobs is not None:
            outcome = "parked" if self._park(token) else "kept_existing"
        else:
            raise RuntimeError("no place to keep the verification token")
        if outcome != "kept_existing":
            self._record(token, outcome)
        return outcome

    def _write_local(self, token: str) -> bool:
        directory = Path(self.local_secrets_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / SECRET_NAME
        try:
            # O_EXCL: two racing verification requests cannot both write; the first one wins.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token)
        logger.info("Notion webhook verification token stored in the local secrets folder as %s", SECRET_NAME)
        return True

    def _park(self, token: str) -> bool:
        try:
            self.blobs.write(PARKED_BLOB_KEY, token.encode(), tenant_id=SYSTEM_TENANT, if_generation_match=0,
                             content_type="text/plain")
        except GenerationMismatch:
            logger.warning("a webhook verification request was ignored: a token is already waiting for the operator")
            return False
        logger.warning(
            "Notion sent the webhook verification token. Operator: read it from blob %s of tenant %s, paste it "
            "into Notion's webhook 'Verify' dialog, store it in Secret Manager as %s, then delete the blob.",
            PARKED_BLOB_KEY, SYSTEM_TENANT, SECRET_NAME,
            extra={"fields": {"event": "notion_webhook_verification_received"}},
        )
        return True

    def _record(self, token: str, outcome: Outcome) -> None:
        self.store.set(RECORD_PATH, {
            "sha256": hashlib.sha256(token.encode()).hexdigest(),
            "received_at": self.clock(),
            "status": outcome,
        }, tenant_id=SYSTEM_TENANT)
