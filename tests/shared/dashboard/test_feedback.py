"""Feedback stored per tenant, newest first, isolated between tenants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.dashboard.feedback import recent_feedback, save_feedback
from shared.dashboard.forms import FeedbackForm
from shared.store.sqlite import SqliteDocumentStore

A = "ws-0123456789abcdef0123456789abcdef"
B = "ws-fedcba9876543210fedcba9876543210"


def test_saved_per_tenant_and_listed_newest_first(tmp_path):
    store = SqliteDocumentStore(tmp_path / "d.sqlite3")
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for minutes, text in ((0, "first"), (5, "second")):
        save_feedback(store, FeedbackForm(csrf_token="t", kind="idea", message=text), tenant_id=A,
                      clock=lambda m=minutes: base + timedelta(minutes=m))
    save_feedback(store, FeedbackForm(csrf_token="t", message="other tenant"), tenant_id=B)
    mine = recent_feedback(store, tenant_id=A)
    assert [f.message for f in mine] == ["second", "first"] and mine[0].kind == "idea"
    assert mine[0].id.startswith("20260101T000500")
    assert [f.message for f in recent_feedback(store, tenant_id=B)] == ["other tenant"]
    assert "csrf_token" not in store.get(f"feedback/{mine[0].id}", tenant_id=A)
    store.close()
