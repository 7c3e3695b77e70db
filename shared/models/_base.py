"""Base class and helpers shared by the domain models."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DomainModel(BaseModel):
    """Strict about unknown fields so that a typo in a request is a 400, not silently dropped."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=True)
