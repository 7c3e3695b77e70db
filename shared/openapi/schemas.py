"""Response and request models of handlers that build plain dicts, so the document can describe
them. Each mirrors one handler or one ``to_dict()``; tests/test_openapi.py checks the mirrors
against the real answers (and the field names against the dataclasses they mirror)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(_Strict):
    """GET /healthz of every function."""

    status: Literal["ok"]
    function: str
    profile: Literal["local", "gcp"]
    release: str


class OpenApiDocument(BaseModel):
    """GET /openapi.json: this document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# --- oauth -----------------------------------------------------------------------------------------


class SessionInfo(_Strict):
    tenant_id: str
    workspace_name: str
    connection_status: Literal["connected", "needs_reauth", "disconnected"]
    tier: Literal["free", "pro", "team"]
    expires_at: datetime
    csrf_token: str = Field(description="Send as X-CSRF-Token (or the csrf_token form field) with "
                                        "cookie-authenticated unsafe requests.")


class Disconnected(_Strict):
    disconnected: Literal[True]
    revoked_at_notion: bool


class ExportedFile(_Strict):
    key: str
    size: int
    generation: int


class AccountExport(_Strict):
    tenant_id: str
    documents: dict[str, dict[str, Any]] = Field(description="Every stored document by path (credentials left out).")
    files: list[ExportedFile]


class AccountDeleted(_Strict):
    deleted: Literal[True]
    revoked_at_notion: bool
    documents: int
    files: int


# --- sync ------------------------------------------------------------------------------------------


class WebhookVerification(BaseModel):
    """Notion's one-time verification request of a new webhook subscription."""

    verification_token: str


class NotionWebhookEvent(BaseModel):
    """One Notion webhook delivery (2025-09-03); members not listed are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    id: str
    timestamp: datetime
    workspace_id: str
    type: str = Field(description="e.g. page.created, page.properties_updated, data_source.schema_updated")
    entity: dict[str, Any]
    data: dict[str, Any] = Field(default_factory=dict)
    subscription_id: str | None = None
    integration_id: str | None = None
    authors: list[dict[str, Any]] = Field(default_factory=list)
    accessible_by: list[dict[str, Any]] = Field(default_factory=list)
    attempt_number: int | None = None
    api_version: str | None = None


class WebhookAck(_Strict):
    status: Literal["verified", "accepted", "ignored", "duplicate"]
    reason: str | None = None


class SyncTaskBody(BaseModel):
    """POST /tasks/sync (mirrors functions/sync/main.py's body model; unknown members are ignored)."""

    model_config = ConfigDict(extra="ignore")

    full: bool = False
    poll: bool = False
    reason: str | None = None


class SyncReport(_Strict):
    """Mirrors shared.sync.job.SyncReport.to_dict()."""

    tenant_id: str
    status: Literal["ok", "nothing_to_do", "not_connected", "needs_reauth", "failed"]
    mode: Literal["incremental", "full", "poll"]
    sources: dict[str, Literal["incremental", "full"]]
    notion_requests: int
    rows_read: int
    written: int
    unchanged: int
    deleted: int
    unmappable: int
    error: str | None


class ReconcileDispatch(_Strict):
    """Mirrors shared.sync.reconcile.ReconcileDispatch.to_dict()."""

    period_start: datetime
    tenants: int
    enqueued: int
    already_enqueued: int


class SchedulerBody(BaseModel):
    """What Cloud Scheduler posts (the local stack sends ``{}``); ignored."""

    model_config = ConfigDict(extra="allow")


class OAuthCallbackQuery(BaseModel):
    """Where Notion sends the browser back after the consent page."""

    code: str | None = Field(default=None, description="The authorisation code (absent when refused).")
    state: str | None = Field(default=None, description="The signed state from /oauth/start.")
    error: str | None = Field(default=None, description="access_denied when the user cancelled.")


# --- agent -----------------------------------------------------------------------------------------


class PlanTaskBody(BaseModel):
    """POST /tasks/plan (mirrors functions/agent/main.py's body model; unknown members are ignored)."""

    model_config = ConfigDict(extra="ignore")

    date: str = Field(description="The local date to plan, YYYY-MM-DD.")
    mode: Literal["daily", "replan"] = "daily"
    reason: str = Field(default="", max_length=200)


class AgentChatBody(BaseModel):
    """POST /chat (mirrors functions/agent/main.py's body model)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=4000)
    conversation_id: str | None = Field(default=None, max_length=64)


class WriteRecordView(_Strict):
    """Mirrors shared.agent.tools.WriteRecord.to_dict()."""

    action: Literal["created", "updated", "completed", "replanned"]
    title: str
    confirmation: str
    task_id: str | None
    url: str | None


class AgentChatReply(_Strict):
    """Mirrors shared.agent.chat.ChatReply.to_dict()."""

    conversation_id: str
    answer: str = Field(description="The model's answer, then one confirmation line per change made in Notion.")
    writes: list[WriteRecordView]
    steps: int
    tool_calls: int
    finished: bool


class PlanningDispatch(_Strict):
    """Mirrors shared.agent.dispatch.DispatchReport.to_dict()."""

    due: int
    enqueued: int
    already_enqueued: int
    advanced: int
    skipped: dict[str, int]


class PlanBlockView(BaseModel):
    kind: Literal["task", "routine"]
    item_id: str
    title: str
    start: datetime
    end: datetime
    minutes: int
    fixed: bool
    chunk: int
    chunks: int


class LeftOutView(BaseModel):
    kind: Literal["task", "routine"]
    item_id: str
    title: str
    reason: str
    message: str
    minutes: int


class PlanView(_Strict):
    """Mirrors shared.agent.plans.StoredPlan.public()."""

    date: str
    timezone: str
    mode: Literal["daily", "replan"]
    reason: str
    generated_at: datetime
    blocks: list[PlanBlockView]
    left_out: list[LeftOutView]
    page_url: str | None


class PlanRunReport(_Strict):
    """Mirrors shared.agent.planning_job.PlanReport.to_dict() without ``plan`` (POST /tasks/plan)."""

    tenant_id: str
    date: str
    mode: Literal["daily", "replan"]
    status: Literal["ok", "already_planned", "day_over", "not_connected", "needs_reauth", "quota_exceeded"]
    blocks: int
    left_out: int
    scheduled_written: int
    scheduled_cleared: int
    page: Literal["created", "adopted", "replaced", "unchanged", "none", "skipped"]
    page_url: str | None
    notification: Literal["none", "sent", "refused", "failed"]
    retry_after: int | None


class ReplanReport(PlanRunReport):
    """POST /plan/replan: the report with the stored plan's public form."""

    plan: PlanView | None
