"""A tenant's configuration: which Notion data sources, when to plan, working hours, notifications."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, Field, field_validator, model_validator

from shared.models._base import DomainModel


class WorkingHours(DomainModel):
    start: time = time(9, 0)
    end: time = time(17, 0)
    # ISO weekdays (1 = Monday ... 7 = Sunday) on which the user works.
    days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])

    @model_validator(mode="after")
    def _ordered(self) -> "WorkingHours":
        if self.end <= self.start:
            raise ValueError("working hours must end after they start")
        if not self.days or any(d < 1 or d > 7 for d in self.days):
            raise ValueError("working days are ISO weekdays 1..7")
        self.__dict__["days"] = sorted(set(self.days))
        return self


class NotificationPreferences(DomainModel):
    notion_page: bool = True  # write the "Daily plan" page in Notion
    webhook_url: AnyHttpUrl | None = None  # e.g. a Slack incoming webhook (https only, SSRF-checked on use)

    @field_validator("webhook_url")
    @classmethod
    def _https_only(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and value.scheme != "https":
            raise ValueError("the notification webhook must use https")
        return value


class UserConfig(DomainModel):
    tasks_data_source_id: str | None = None
    routines_data_source_id: str | None = None
    planning_time: time = time(7, 30)  # local time at which the day's plan is written
    timezone: str = "UTC"  # IANA name
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    focus_cap_minutes: int = Field(default=330, ge=0, le=24 * 60)  # ~5.5 focused hours a day
    buffer_minutes: int = Field(default=5, ge=0, le=120)
    notifications: NotificationPreferences = Field(default_factory=NotificationPreferences)
    sync_interval_minutes: int = Field(default=15, ge=5, le=24 * 60)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("timezone must be an IANA name such as Europe/Paris") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
