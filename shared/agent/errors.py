"""Errors of the agent package (planning dispatch and jobs, replanning, notifications, chat).

    InvalidRequest (shared.errors)
    ├── InvalidPlanDay            400 invalid_plan_day        a date that is not YYYY-MM-DD
    ├── InvalidConversation       400 invalid_conversation    a conversation id that cannot be a document id
    └── UnsafeWebhookUrl          400 unsafe_webhook_url      a notification URL refused by the SSRF checks
                                                              (``reason`` names the rule; never the address)
    Conflict (shared.errors)
    └── PlanBusy                  409 plan_busy               another planning run of the tenant holds the
                                                              plan lease (Cloud Tasks retries; chat says so)
    NotFound (shared.errors)
    └── NoPlanYet                 404 no_plan                 no plan is stored for that day
    UpstreamError (shared.errors)
    └── NotificationFailed        502 notification_failed     the user's webhook did not accept the message

Failures of Notion, the LLM, the store and the quotas pass through as their own families
(:mod:`shared.notion.errors`, :mod:`shared.llm.errors`, :mod:`shared.store.errors`,
:mod:`shared.usage.errors`). Tool errors inside a chat are not exceptions: they become tool messages
the model reads (:mod:`shared.agent.tools`).
"""

from __future__ import annotations

from shared.errors import Conflict, InvalidRequest, NotFound, UpstreamError


class InvalidPlanDay(InvalidRequest):
    code = "invalid_plan_day"
    default_message = "The date must be written YYYY-MM-DD."


class InvalidConversation(InvalidRequest):
    code = "invalid_conversation"
    default_message = "The conversation id is invalid."


class UnsafeWebhookUrl(InvalidRequest):
    """A notification URL the SSRF rules refuse; ``reason`` is a short fixed phrase."""

    code = "unsafe_webhook_url"
    default_message = "The notification webhook URL is not allowed."

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"The notification webhook URL is not allowed: {reason}.", field="webhook_url")


class PlanBusy(Conflict):
    code = "plan_busy"
    default_message = "A plan for this account is being written right now; try again shortly."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "30"}


class NoPlanYet(NotFound):
    code = "no_plan"
    default_message = "There is no plan for that day yet."


class NotificationFailed(UpstreamError):
    code = "notification_failed"
    default_message = "The notification webhook did not accept the message."
