"""Metadata cleaning: Chroma's scalar types only, lists as comma strings, None dropped."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from shared.memory.documents import MemoryDocument, check_documents, clean_metadata
from shared.memory.errors import InvalidMemoryDocument


class Priority(enum.Enum):
    HIGH = "high"


def test_values_become_chroma_scalars():
    cleaned = clean_metadata({
        "status": "todo", "minutes": 45, "weight": 0.5, "done": False,
        "tags": ["work", "q3"], "people": ("ann", None, 3, True), "labels": {"b", "a"},
        "due": date(2026, 1, 5), "edited": datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc),
        "cost": Decimal("12.50"), "priority": Priority.HIGH, "extra": {"k": [1, 2]}, "parent": None,
    })
    assert cleaned == {
        "status": "todo", "minutes": 45, "weight": 0.5, "done": False,
        "tags": "work,q3", "people": "ann,3,true", "labels": "a,b",
        "due": "2026-01-05", "edited": "2026-01-05T09:30:00+00:00",
        "cost": "12.50", "priority": "high", "extra": '{"k": [1, 2]}',
    }


@pytest.mark.parametrize(("metadata", "field"), [
    ({"n": float("inf")}, "metadata.n"),
    ({"obj": object()}, "metadata.obj"),
    ({"": 1}, "metadata"),
    ({"#internal": 1}, "metadata"),
    ({"chroma:document": "x"}, "metadata"),
    ({3: "x"}, "metadata"),
])
def test_unstorable_metadata_is_refused_by_field(metadata, field):
    with pytest.raises(InvalidMemoryDocument) as error:
        clean_metadata(metadata)
    assert error.value.field == field
    assert error.value.status == 400


def test_documents_are_validated_with_their_index():
    ok = check_documents([MemoryDocument("a", "text", {"x": None, "y": [1]})])
    assert ok == [MemoryDocument("a", "text", {"y": "1"})]
    for documents, field in [
        ("not a list", "documents"),
        ([MemoryDocument("a", "t"), {"id": "b"}], "documents[1]"),
        ([MemoryDocument("a\n", "t")], "documents[0].id"),
        ([MemoryDocument("a", None)], "documents[0].text"),  # type: ignore[arg-type]
        ([MemoryDocument("a", "t", ["x"])], "documents[0].metadata"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(InvalidMemoryDocument) as error:
            check_documents(documents)  # type: ignore[arg-type]
        assert error.value.field == field
