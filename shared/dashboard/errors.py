"""Errors of the dashboard (``shared.dashboard``). Pages render them as HTML; JSON endpoints as
the standard ``{"error": {...}}`` body.

    InvalidRequest (shared.errors)
    └── InvalidForm               400 invalid_form              a form field is missing or wrong (``field``)
        └── SourceNotUsable       400 source_not_usable         a chosen data source cannot be read
    Conflict (shared.errors)
    ├── NoParentPage              409 no_parent_page            no Notion page is shared with the
    │                                                           integration to hold new databases
    └── NotConfigured             409 not_configured            the Tasks data source is not chosen yet

Messages are written for the user; they name the field and never echo what was typed.
"""

from __future__ import annotations

from shared.errors import Conflict, InvalidRequest


class InvalidForm(InvalidRequest):
    code = "invalid_form"
    default_message = "The form has a missing or invalid field."


class SourceNotUsable(InvalidForm):
    code = "source_not_usable"
    default_message = "That Notion database cannot be read; share it with the integration and try again."


class NoParentPage(Conflict):
    code = "no_parent_page"
    default_message = ("No Notion page is shared with the planner, so there is nowhere to create the databases. "
                       "Share a page with the integration in Notion, then try again.")


class NotConfigured(Conflict):
    code = "not_configured"
    default_message = "Choose your Tasks database first."
