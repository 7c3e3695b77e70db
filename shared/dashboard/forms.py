"""The dashboard's form bodies, validated with pydantic, and how a bad field becomes a message.

HTML forms send strings: an empty optional field arrives as ``""`` (read as absent), a checkbox as
``"on"`` or not at all, repeated fields (the working-day checkboxes) as several values. The CSRF
token and the submit button are part of every form and ignored here (the session guard checks the
token before any form is read).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.dashboard.errors import InvalidForm
from shared.errors import InvalidRequest
from shared.ids import validate_segment
from shared.models import UserConfig

F = TypeVar("F", bound=BaseModel)

# Fields a form may send several times; every other field keeps its first value.
_LIST_FIELDS = frozenset({"work_days"})
_NOTION_ID = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


class _Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    # Checked by the session guard before the form is read; declared so the OpenAPI document says so.
    csrf_token: str = Field(title="CSRF token", description="The session's CSRF token (hidden field of every form).")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        return None if value == "" else value


class ScheduleForm(_Form):
    """When to plan and when the user works (onboarding step 3; part of the settings)."""

    planning_time: time = Field(title="Planning time")
    timezone: str = Field(title="Time zone", max_length=64)
    work_start: time = Field(title="Working hours start")
    work_end: time = Field(title="Working hours end")
    work_days: list[int] = Field(default_factory=list, title="Working days")

    def apply(self, config: UserConfig) -> UserConfig:
        """``config`` with these fields (InvalidForm naming the field if the result is invalid)."""
        if not self.work_days:
            raise InvalidForm("Choose at least one working day.", field="work_days")
        data = config.model_dump(mode="python")
        data.update(planning_time=self.planning_time, timezone=self.timezone,
                    working_hours={"start": self.work_start, "end": self.work_end, "days": self.work_days})
        return _config(data)


class SettingsForm(ScheduleForm):
    """The settings page: the schedule plus notifications."""

    webhook_url: str | None = Field(default=None, title="Notification webhook URL", max_length=2000)
    notion_page: bool = Field(default=False, title="Write the daily plan page in Notion")

    def apply(self, config: UserConfig) -> UserConfig:
        data = super().apply(config).model_dump(mode="python")
        data["notifications"] = {"notion_page": self.notion_page, "webhook_url": self.webhook_url}
        return _config(data)


class SourcesForm(_Form):
    """Onboarding step 2, first way: the user's existing Tasks and Routines data sources."""

    tasks_data_source_id: str = Field(title="Tasks database", pattern=_NOTION_ID)
    routines_data_source_id: str | None = Field(default=None, title="Routines database", pattern=_NOTION_ID)


class TemplateForm(_Form):
    """Onboarding step 2, second way: create both databases from the templates under a page."""

    parent_page_id: str = Field(title="Page to hold the databases", pattern=_NOTION_ID)
    examples: bool = Field(default=False, title="Add example tasks and routines")


class FeedbackForm(_Form):
    kind: Literal["idea", "problem", "praise", "other"] = Field(default="other", title="Kind of feedback")
    message: str = Field(title="Message", min_length=1, max_length=4000)
    may_contact: bool = Field(default=False, title="You may contact me about this")


class ChatForm(_Form):
    message: str = Field(title="Message", min_length=1, max_length=2000)
    conversation_id: str | None = Field(default=None, title="Conversation", max_length=64)

    @field_validator("conversation_id")
    @classmethod
    def _safe_id(cls, value: str | None) -> str | None:
        return None if value is None else safe_conversation_id(value)


class DeleteForm(_Form):
    confirm: str = Field(title="Confirmation", max_length=20)

    @field_validator("confirm")
    @classmethod
    def _typed_delete(cls, value: str) -> str:
        if value.strip().upper() != "DELETE":
            raise ValueError("type DELETE to confirm")
        return value


def safe_conversation_id(value: str) -> str:
    """``value`` if it can be a document id, else ValueError (pydantic turns it into a field error)."""
    try:
        return validate_segment(value, field="conversation_id")
    except InvalidRequest:
        raise ValueError("use letters, digits, '-' and '_' only") from None


def form_data(form: Any) -> dict[str, Any]:
    """A werkzeug ``MultiDict`` (or a plain mapping) as the dict the form models read."""
    if hasattr(form, "getlist"):
        return {key: form.getlist(key) if key in _LIST_FIELDS else form.get(key) for key in form.keys()}
    return dict(form)


def parse_form(form: Any, model: type[F]) -> F:
    """Validate a submitted form as ``model``; :class:`InvalidForm` naming the first bad field."""
    data = form_data(form)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, model, data) from None


def _config(data: Mapping[str, Any]) -> UserConfig:
    try:
        return UserConfig.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        loc = [str(part) for part in first.get("loc", ())]
        reason = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
        field = {"timezone": "timezone", "working_hours": "work_end", "notifications": "webhook_url"}.get(
            loc[0] if loc else "", loc[0] if loc else None)
        if loc[:2] == ["working_hours", "days"] or (field == "work_end" and "days" in reason):
            field = "work_days"
        raise InvalidForm(f"{_LABELS.get(field or '', 'A field')}: {reason}.", field=field) from None


_LABELS = {name: info.title or name for model in (SettingsForm, SourcesForm, TemplateForm, FeedbackForm, ChatForm,
                                                  DeleteForm) for name, info in model.model_fields.items()}


def _invalid(exc: ValidationError, model: type[BaseModel], data: Mapping[str, Any]) -> InvalidForm:
    first = exc.errors(include_url=False, include_input=False)[0]
    field = str(first["loc"][0]) if first.get("loc") else None
    label = (model.model_fields[field].title if field in model.model_fields else None) or field or "A field"
    kind = first.get("type", "")
    blank = field is not None and str(data.get(field) or "").strip() == ""
    if kind == "missing" or (blank and kind.endswith("_type")):
        message = f"{label} is required."
    elif kind == "string_pattern_mismatch":
        message = f"{label}: choose one of the listed options."
    elif kind == "string_too_long":
        message = f"{label} is too long."
    elif kind == "string_too_short":
        message = f"{label} is required."
    elif kind.startswith("time"):
        message = f"{label} must be a time such as 09:00."
    else:
        reason = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
        message = f"{label}: {reason}."
    return InvalidForm(message, field=field)
