"""Chat history bounds (window plus summary of older turns) and task references, on both stores."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.agent.conversation import SUMMARY_LIMIT, Conversations, fold
from shared.agent.errors import InvalidConversation
from shared.agent.task_refs import ReferenceProblem, resolve
from shared.models import ConversationTurn, Task, TaskStatus

AT = datetime(2026, 3, 30, 9, 0, tzinfo=timezone.utc)


def test_older_turns_are_folded_into_the_summary_and_the_window_stays_bounded(store):
    conversations = Conversations(store, max_turns=4)
    for n in range(1, 6):
        state = conversations.record("default", tenant_id="tenant-a", user=f"question {n}", assistant=f"answer {n}",
                                     at=AT)
    assert [t.content for t in state.history] == ["question 4", "answer 4", "question 5", "answer 5"]
    assert state.summary.splitlines() == [
        "User: question 1", "Assistant: answer 1", "User: question 2", "Assistant: answer 2",
        "User: question 3", "Assistant: answer 3"]
    loaded = conversations.load("default", tenant_id="tenant-a")
    assert loaded == state
    prompt = Conversations.prompt(loaded)
    assert prompt[0].role == "system" and "User: question 1" in prompt[0].content
    assert [(m.role, m.content) for m in prompt[1:]] == [
        ("user", "question 4"), ("assistant", "answer 4"), ("user", "question 5"), ("assistant", "answer 5")]
    assert conversations.load("other", tenant_id="tenant-a").history == []  # conversations are separate
    assert conversations.load("default", tenant_id="tenant-b").history == []  # and so are tenants


def test_the_summary_is_capped_and_long_turns_are_shortened():
    turns = [ConversationTurn(role="user", content="word " * 100, at=AT) for _ in range(60)]
    summary = fold("", turns)
    assert len(summary) <= SUMMARY_LIMIT and summary.startswith("…")
    assert all(len(line) <= 170 for line in summary.splitlines())


@pytest.mark.parametrize("conversation_id", ["../x", "a/b", "", ".."])
def test_bad_conversation_ids_are_refused(store, conversation_id):
    with pytest.raises(InvalidConversation):
        Conversations(store).load(conversation_id, tenant_id="tenant-a")


TASKS = [
    Task(id="11111111-1111-1111-1111-111111111111", title="Write Q3 planning doc"),
    Task(id="22222222-2222-2222-2222-222222222222", title="Write report", status=TaskStatus.DONE),
    Task(id="33333333-3333-3333-3333-333333333333", title="Write report"),
    Task(id="44444444-4444-4444-4444-444444444444", title="Book dentist appointment"),
]


def test_references_resolve_strictly():
    assert resolve("write report", TASKS).id.startswith("3333")  # exact title, the open one first
    assert resolve("dentist", TASKS).id.startswith("4444")  # unique substring
    assert resolve("44444444444444444444444444444444", TASKS).title == "Book dentist appointment"
    with pytest.raises(ReferenceProblem, match="matches several tasks"):
        resolve("write", TASKS)
    with pytest.raises(ReferenceProblem, match="Did you mean “Book dentist appointment”"):
        resolve("Book dentist apointment", TASKS)
    with pytest.raises(ReferenceProblem, match="No task has that id"):
        resolve("55555555-5555-5555-5555-555555555555", TASKS)
