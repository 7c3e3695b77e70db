"""Usage logs as CSV, produced line by line so an export streams instead of filling memory.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage
return) are prefixed with an apostrophe: a log's detail or request id must not become code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from shared.usage.history import LogEntry

COLUMNS = ("timestamp", "operation", "tokens_in", "tokens_out", "cost_usd", "request_id", "detail", "id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_START) else text


def _line(cells: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_cell(cell) for cell in cells])
    return buffer.getvalue()


def csv_lines(entries: Iterable[LogEntry]) -> Iterator[str]:
    """The header, then one CSV line (RFC 4180, CRLF) per entry."""
    yield _line(COLUMNS)
    for entry in entries:
        yield _line(getattr(entry, column) for column in COLUMNS)
