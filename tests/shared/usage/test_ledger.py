from datetime import date, datetime, timedelta, timezone

from shared.usage.ledger import DayLedger, ledger_expiry

NOW = datetime(2025, 3, 14, 12, tzinfo=timezone.utc)
DAY = date(2025, 3, 14)


def test_reserved_is_the_sum_of_live_holds_only():
    stored = {
        "tokens_used": 100,
        "plans_used": 1,
        "tokens_reserved": 999_999,  # informational: never trusted
        "reservations": {
            "live": {"tokens": 300, "hold_until": NOW + timedelta(seconds=1)},
            "lapsed": {"tokens": 500, "hold_until": NOW},
            "broken": {"tokens": 50},
        },
    }
    ledger = DayLedger.read(stored, day=DAY, now=NOW)
    assert ledger.tokens_reserved == 300
    assert set(ledger.reservations) == {"live"}
    written = ledger.document()
    assert written["reservations"] == {"live": {"tokens": 300, "hold_until": NOW + timedelta(seconds=1)}}
    assert written["tokens_reserved"] == 300
    assert written["expires_at"] == ledger_expiry(DAY) == datetime(2025, 3, 17, tzinfo=timezone.utc)


def test_missing_document_reads_as_empty_and_bad_numbers_as_zero():
    assert DayLedger.read(None, day=DAY, now=NOW).document()["tokens_used"] == 0
    ledger = DayLedger.read({"tokens_used": -4, "plans_used": True, "note": "kept"}, day=DAY, now=NOW)
    assert (ledger.tokens_used, ledger.plans_used) == (0, 0)
    assert ledger.document()["note"] == "kept"
