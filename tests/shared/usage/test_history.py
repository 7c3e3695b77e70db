"""Usage log pages and export streams on both adapters (the query shapes Firestore must accept)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pydantic
import pytest

from shared.models import OperationType, UsageRecord
from shared.usage.cursor import decode_cursor, encode_cursor
from shared.usage.errors import InvalidUsageQuery
from shared.usage.history import LogFilter, LogQuery, iter_logs, list_logs
from shared.usage.meter import UsageMeter
from tests.shared.usage.conftest import TENANT

START = datetime(2025, 3, 10, 9, tzinfo=timezone.utc)


@pytest.fixture
def logged(clocked_store, clock) -> list[str]:
    """Nine records eight hours apart from 10 March 09:00 UTC, alternating llm_call and sync."""
    meter = UsageMeter(clocked_store, clock=clock)
    ids = []
    for index in range(9):
        operation = OperationType.LLM_CALL if index % 2 == 0 else OperationType.SYNC
        record = UsageRecord(operation=operation, tokens_in=index, timestamp=START + timedelta(hours=8 * index),
                             request_id=f"req-{index}")
        ids.append(meter.record(record, tenant_id=TENANT).log_id)
    return ids


def test_pages_run_newest_first_and_end_without_a_cursor(clocked_store, logged):
    seen = []
    cursor = None
    while True:
        page = list_logs(clocked_store, LogQuery(limit=4, cursor=cursor), tenant_id=TENANT)
        seen.extend(item.id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(logged))
    first = list_logs(clocked_store, LogQuery(limit=1), tenant_id=TENANT).items[0]
    assert (first.request_id, first.operation, first.tokens_in, first.cost_usd) == ("req-8", "llm_call", 8, "0")


def test_filters_by_operation_and_inclusive_utc_dates(clocked_store, logged):
    def ids(**args) -> list[str]:
        return [item.id for item in list_logs(clocked_store, LogQuery(**args), tenant_id=TENANT).items]

    # Records are at 09:00, 17:00, 01:00 (+1 day), ... : days 10th = 0,1 ; 11th = 2,3,4 ; 12th = 5,6,7 ; 13th = 8.
    assert ids(**{"from": date(2025, 3, 11), "to": date(2025, 3, 11)}) == [logged[4], logged[3], logged[2]]
    assert ids(operation="sync", **{"from": date(2025, 3, 11)}) == [logged[7], logged[5], logged[3]]
    assert ids(to=date(2025, 3, 10)) == [logged[1], logged[0]]
    assert ids(operation="plan") == []
    page = list_logs(clocked_store, LogQuery(operation="llm_call", limit=2), tenant_id=TENANT)
    rest = list_logs(clocked_store, LogQuery(operation="llm_call", limit=2, cursor=page.next_cursor), tenant_id=TENANT)
    assert [i.id for i in page.items + rest.items] == [logged[8], logged[6], logged[4], logged[2]]


def test_export_stream_pages_through_everything_within_its_bound(clocked_store, logged):
    def stream(where: LogFilter, **bounds) -> list:
        return list(iter_logs(clocked_store, where, tenant_id=TENANT, page_size=2, **bounds))

    assert [entry.id for entry in stream(LogFilter())] == list(reversed(logged))
    assert [entry.id for entry in stream(LogFilter(), max_rows=5)] == list(reversed(logged))[:5]
    syncs = [entry.request_id for entry in stream(LogFilter(operation="sync"))]
    assert syncs == ["req-7", "req-5", "req-3", "req-1"]


def test_cursor_round_trip_and_garbage():
    log_id = "20250314120000000000-0123456789ab"
    assert decode_cursor(encode_cursor(log_id)) == log_id
    for bad in ["", "!!!", "e30", encode_cursor("../../etc"), "A" * 300]:
        with pytest.raises(InvalidUsageQuery) as caught:
            decode_cursor(bad)
        assert caught.value.field == "cursor" and caught.value.status == 400


@pytest.mark.parametrize(
    ("args", "field"),
    [({"operation": "mining"}, "operation"), ({"from": "yesterday"}, "from"), ({"to": "2025-02-30"}, "to"),
     ({"from": "2025-03-02", "to": "2025-03-01"}, "to"), ({"limit": "101"}, "limit"), ({"limit": "0"}, "limit"),
     ({"sort": "asc"}, "sort")],
)
def test_bad_query_fields_are_named(args, field):
    with pytest.raises(pydantic.ValidationError) as caught:
        LogQuery.model_validate(args)
    assert caught.value.errors()[0]["loc"] == (field,)
