"""A usage record: one metered operation (LLM call, Notion batch, sync, plan)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

from pydantic import Field, field_serializer

from shared.models._base import DomainModel, utcnow


class OperationType(str, Enum):
    LLM_CALL = "llm_call"
    NOTION_REQUESTS = "notion_requests"
    SYNC = "sync"
    PLAN = "plan"
    CHAT = "chat"


class UsageRecord(DomainModel):
    operation: OperationType
    tokens_in: int = Field(default=0, ge=0)
    tokens_out: int = Field(default=0, ge=0)
    cost_usd: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=8)
    timestamp: datetime = Field(default_factory=utcnow)
    request_id: str = ""
    detail: str = ""  # e.g. the model name or the number of Notion requests

    @field_serializer("cost_usd")
    def _cost_as_string(self, value: Decimal) -> str:
        # Stores hold Decimal as a string: floats would lose cents over many additions.
        return format(value, "f")
