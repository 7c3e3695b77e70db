"""Test helper: what Cloud Logging makes of a JSON line a Cloud Run function prints, and the small
subset of the Logging query language our log-based metrics use (``A AND B``, ``path="text"``,
``path>=number``), so tests can check that the metric filters match the lines the code writes.
Anything outside that subset raises, so a filter cannot silently escape the check."""

from __future__ import annotations

import json
import re
from typing import Any

# Special JSON fields the logging agent lifts out of jsonPayload into the LogEntry.
_LIFTED = {
    "severity": "severity",
    "httpRequest": "httpRequest",
    "logging.googleapis.com/labels": "labels",
    "logging.googleapis.com/trace": "trace",
    "logging.googleapis.com/spanId": "spanId",
    "logging.googleapis.com/trace_sampled": "traceSampled",
    "time": "timestamp",
}
_TERM = re.compile(r'^([A-Za-z_][A-Za-z0-9_.]*)(=|>=)(".*"|-?[0-9.]+)$')


def log_entry(line: str, *, project: str, function: str) -> dict[str, Any]:
    """The LogEntry Cloud Logging stores for one stdout line of a gen2 function."""
    payload = json.loads(line)
    entry: dict[str, Any] = {
        "logName": f"projects/{project}/logs/run.googleapis.com%2Fstdout",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": function}},
        "jsonPayload": {},
    }
    for key, value in payload.items():
        if key in _LIFTED:
            entry[_LIFTED[key]] = value
        else:
            entry["jsonPayload"][key] = value
    return entry


def _get(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def matches(log_filter: str, entry: dict[str, Any]) -> bool:
    for term in log_filter.split(" AND "):
        match = _TERM.match(term.strip())
        if not match:
            raise ValueError(f"filter term outside the tested subset: {term!r}")
        path, op, raw = match.groups()
        value = _get(entry, path)
        if op == "=":
            if value != json.loads(raw):
                return False
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < float(raw):
            return False
    return True


def extract(expression: str, entry: dict[str, Any]) -> Any:
    match = re.fullmatch(r"EXTRACT\(([A-Za-z0-9_.]+)\)", expression)
    if not match:
        raise ValueError(f"extractor outside the tested subset: {expression!r}")
    return _get(entry, match.group(1))
