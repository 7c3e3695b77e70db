"""Named events in the logs: the lines Cloud Monitoring's log-based metrics and alerts count.

``log_event("plan_written", plan_date="2025-06-02")`` writes one structured log line whose
``jsonPayload.event`` is the name (through :func:`shared.logs.log_fields`, so it also carries the
request's trace, function and hashed tenant). The log-based metrics in ``infra/alerts/metrics/``
match on these names, so the names are constants here and an unknown one is refused:

======================== ============================================ ===================================
event                    who logs it                                  metric / alert
======================== ============================================ ===================================
``plan_written``         the agent's planning job, after the plan was  planner_plans_written /
                         written to Notion (redeliveries that change   "no daily plan written for 25 h"
                         nothing should not log it)
``sync_completed``       the sync job when it finished, with           planner_sync_lag /
                         ``lag_seconds`` = now - the oldest change it  "sync lag above 15 min"
                         applied (webhook event timestamp, or the
                         reconcile's cursor)
``notion_refresh_failed`` shared/connections/tokens.py when a refresh  planner_notion_refresh_failed /
                         leaves the connection needing re-auth         "Notion token refreshes failing"
======================== ============================================ ===================================

Field values that are strings are scrubbed like log messages (tokens never reach the logs), and
field names may not shadow Cloud Logging's special fields.

Errors::

    ObservabilityError (InvalidRequest, 400)   invalid_event   unknown event name or reserved field
"""

from __future__ import annotations

import logging
import re
from typing import Any

from shared.errors import InvalidRequest
from shared.logs import log_fields, scrub

PLAN_WRITTEN = "plan_written"
SYNC_COMPLETED = "sync_completed"
NOTION_REFRESH_FAILED = "notion_refresh_failed"

# Events the alert policies count (infra/alerts/metrics/*.json filter on these names).
METRIC_EVENTS = frozenset({PLAN_WRITTEN, SYNC_COMPLETED, NOTION_REFRESH_FAILED})

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Keys Cloud Logging or shared.logs give a meaning to; an event field must not overwrite them.
_RESERVED = frozenset({
    "event", "severity", "message", "time", "logger", "httpRequest",
    "logging.googleapis.com/trace", "logging.googleapis.com/spanId",
    "logging.googleapis.com/trace_sampled", "logging.googleapis.com/labels",
})

_logger = logging.getLogger(__name__)


class ObservabilityError(InvalidRequest):
    """An event that cannot be logged as asked (a programming error, raised before logging)."""

    code = "invalid_event"
    default_message = "The event is invalid."


def log_event(name: str, /, *, level: int = logging.INFO, logger: logging.Logger | None = None,
              **fields: Any) -> None:
    """Write one log line with ``jsonPayload.event = name`` and ``fields`` beside it.

    ``name`` must be lowercase snake case; names the alerts rely on are the module constants.
    Numbers stay numbers (log-based distribution metrics extract them, e.g. ``lag_seconds``).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ObservabilityError("The event name must be lowercase letters, digits and underscores.", field="name")
    reserved = sorted(_RESERVED.intersection(fields))
    if reserved:
        raise ObservabilityError(f"The event field '{reserved[0]}' is reserved.", field=reserved[0])
    clean = {key: scrub(value) if isinstance(value, str) else value for key, value in fields.items()}
    (logger or _logger).log(level, name, extra=log_fields(event=name, **clean))
