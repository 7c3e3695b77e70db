"""log_event: one structured line per event, named as the alert metrics expect, secrets scrubbed."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared import logs
from shared.observability import METRIC_EVENTS, PLAN_WRITTEN, SYNC_COMPLETED, ObservabilityError, log_event


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.CloudLoggingFormatter("proj-1"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_event_line_carries_the_name_fields_and_request_context(lines):
    token = logs.bind(trace_id="a" * 32, function="agent", request_id="r1", tenant_hash=logs.hash_tenant("t-1"))
    try:
        log_event(PLAN_WRITTEN, plan_date="2025-06-02", blocks=7)
    finally:
        logs.reset(token)
    (entry,) = lines()
    assert entry["event"] == "plan_written" and entry["plan_date"] == "2025-06-02" and entry["blocks"] == 7
    assert entry["severity"] == "INFO" and entry["message"] == "plan_written"
    assert entry["logging.googleapis.com/trace"] == "projects/proj-1/traces/" + "a" * 32
    assert entry["logging.googleapis.com/labels"] == {"request_id": "r1", "function": "agent",
                                                      "tenant": logs.hash_tenant("t-1")}


def test_numbers_stay_numbers_and_string_fields_are_scrubbed(lines):
    log_event(SYNC_COMPLETED, lag_seconds=42.5, note="token ntn_4Xq9secretTOKENvalue1234567890 leaked", level=logging.WARNING)
    (entry,) = lines()
    assert entry["lag_seconds"] == 42.5 and entry["severity"] == "WARNING"
    assert "ntn_4Xq9secret" not in json.dumps(entry)


@pytest.mark.parametrize("name, fields, field", [
    ("Plan Written", {}, "name"),
    ("plan_written", {"severity": "ERROR"}, "severity"),
    ("plan_written", {"httpRequest": {}}, "httpRequest"),
])
def test_bad_names_and_reserved_fields_are_refused(lines, name, fields, field):
    with pytest.raises(ObservabilityError) as caught:
        log_event(name, **fields)
    assert caught.value.field == field and caught.value.status == 400
    assert lines() == []


def test_metric_events_are_the_documented_three():
    assert METRIC_EVENTS == {"plan_written", "sync_completed", "notion_refresh_failed"}
