"""Errors of the sync package (Notion webhooks, sync jobs, reconcile).

    WebhookRejected family (nothing was stored or enqueued when one is raised)
    ├── WebhookSignatureInvalid (Unauthenticated, 401)  missing or wrong X-Notion-Signature
    ├── WebhookPayloadInvalid   (InvalidRequest, 400)   not JSON, or not shaped like a Notion event
    └── WebhookTooLarge         (PayloadTooLarge, 413)  body above the webhook limit
    WebhookNotConfigured        (Unavailable, 503)      no verification token yet: Notion retries later
    SyncBusy                    (Unavailable, 503)      another sync of the tenant is running: retry later

Notion's own failures during a job surface as :mod:`shared.notion.errors` (503 for transient ones,
so Cloud Tasks retries). Messages name the field at fault and never echo the body, a token or a
signature.
"""

from __future__ import annotations

from shared.errors import InvalidRequest, PayloadTooLarge, Unauthenticated, Unavailable


class WebhookSignatureInvalid(Unauthenticated):
    code = "webhook_signature_invalid"
    default_message = "The webhook signature is missing or does not match."


class WebhookPayloadInvalid(InvalidRequest):
    code = "webhook_payload_invalid"
    default_message = "The webhook body is not a Notion event."


class WebhookTooLarge(PayloadTooLarge):
    code = "webhook_too_large"
    default_message = "The webhook body is too large."


class WebhookNotConfigured(Unavailable):
    code = "webhook_not_configured"
    default_message = "Webhook verification is not set up yet; try again later."


class SyncBusy(Unavailable):
    code = "sync_busy"
    default_message = "Another sync of this account is running; try again shortly."

    def __init__(self, message: str | None = None, *, retry_after: int = 30, code: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after, code=code)
