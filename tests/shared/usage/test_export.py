from datetime import datetime, timezone

from shared.usage.export import csv_lines
from shared.usage.history import LogEntry


def entry(**overrides) -> LogEntry:
    values = dict(id="20250314120000000000-0123456789ab", timestamp=datetime(2025, 3, 14, 12, tzinfo=timezone.utc),
                  operation="llm_call", tokens_in=10, tokens_out=5, cost_usd="0.0001", request_id="req-1",
                  detail="gpt-4o-mini")
    values.update(overrides)
    return LogEntry(**values)


def test_header_then_one_crlf_line_per_entry():
    lines = list(csv_lines([entry(), entry(detail='say "hi", then go')]))
    assert lines[0] == "timestamp,operation,tokens_in,tokens_out,cost_usd,request_id,detail,id\r\n"
    assert lines[1] == ("2025-03-14T12:00:00+00:00,llm_call,10,5,0.0001,req-1,gpt-4o-mini,"
                        "20250314120000000000-0123456789ab\r\n")
    assert '"say ""hi"", then go"' in lines[2]


def test_formula_like_cells_are_defused():
    line = list(csv_lines([entry(detail="=HYPERLINK(\"http://x\")", request_id="@SUM(A1)")]))[1]
    assert ",'@SUM(A1)," in line
    assert "\"'=HYPERLINK(\"\"http://x\"\")\"" in line
