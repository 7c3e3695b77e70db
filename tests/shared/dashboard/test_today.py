"""Today's plan for display: the stored plan first, else a preview from the synced copy, else
from Notion (a stand-in reader here; tests/functions/test_web.py reads the sandbox)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from shared.agent.plans import StoredBlock, StoredPlan, save_plan
from shared.dashboard.today import today_view
from shared.models import Priority, Routine, Task, UserConfig, WorkingHours
from shared.store.sqlite import SqliteDocumentStore

TENANT = "ws-0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 3, 9, 7, 0, tzinfo=timezone.utc)  # a Monday, 08:00 in Paris
CONFIG = UserConfig(timezone="Europe/Paris", working_hours=WorkingHours(start=time(9), end=time(12), days=[1, 2, 3, 4, 5]))


def store(tmp_path):
    return SqliteDocumentStore(tmp_path / "d.sqlite3")


async def test_the_stored_plan_wins(tmp_path):
    docs = store(tmp_path)
    start = datetime(2026, 3, 9, 9, 0, tzinfo=CONFIG.zone)
    save_plan(docs, StoredPlan(date=date(2026, 3, 9), timezone="Europe/Paris", generated_at=NOW, page_url="https://notion.so/p",
                               blocks=[StoredBlock(kind="task", item_id="t1", title="Write", start=start,
                                                   end=start.replace(hour=10), minutes=60)]), tenant_id=TENANT)
    docs.set("tasks/t2", Task(id="t2", title="Other").model_dump(mode="json"), tenant_id=TENANT)
    view = await today_view(docs, CONFIG, tenant_id=TENANT, now=NOW)
    assert view.source == "stored" and [(b.start, b.end, b.title) for b in view.blocks] == [("09:00", "10:00", "Write")]
    assert view.page_url == "https://notion.so/p" and view.planned_minutes == 60
    docs.close()


async def test_a_preview_from_the_synced_copy_then_from_notion(tmp_path):
    docs = store(tmp_path)
    calls = []

    async def from_notion():
        calls.append(1)
        return [Task(id="n1", title="From Notion", estimate_minutes=30, priority=Priority.HIGH)], []

    empty = await today_view(docs, CONFIG, tenant_id=TENANT, now=NOW, read_notion=from_notion)
    assert empty.source == "preview" and empty.items_from == "notion" and calls == [1]
    assert [b.title for b in empty.blocks] == ["From Notion"] and empty.blocks[0].start == "09:00"

    docs.set("tasks/t1", Task(id="t1", title="Synced task", estimate_minutes=45).model_dump(mode="json"), tenant_id=TENANT)
    docs.set("tasks/bad", {"title": 5}, tenant_id=TENANT)  # one odd document does not hide the plan
    docs.set("routines/r1", Routine(id="r1", title="Inbox", window_start=time(9), window_end=time(12),
                                    duration_minutes=15).model_dump(mode="json"), tenant_id=TENANT)
    synced = await today_view(docs, CONFIG, tenant_id=TENANT, now=NOW, read_notion=from_notion)
    assert synced.items_from == "synced" and calls == [1]
    assert {b.title for b in synced.blocks} == {"Synced task", "Inbox"}
    fresh = await today_view(docs, CONFIG, tenant_id=TENANT, now=NOW, read_notion=from_notion, fresh=True)
    assert fresh.items_from == "notion" and calls == [1, 1]
    docs.close()


async def test_left_out_items_say_why(tmp_path):
    docs = store(tmp_path)
    late = datetime(2026, 3, 9, 11, 50, tzinfo=timezone.utc)  # 12:50 in Paris: the working day is over

    async def items():
        return [Task(id="t", title="Too late today", estimate_minutes=60)], []

    view = await today_view(docs, CONFIG, tenant_id=TENANT, now=late, read_notion=items)
    assert view.blocks == [] and [i.title for i in view.left_out] == ["Too late today"]
    assert view.left_out[0].message
    docs.close()
