"""The objective's documented numbers."""

from __future__ import annotations

import pytest

from shared.models import Priority
from shared.planning.objective import block_value, routine_weight, task_weight, urgency


@pytest.mark.parametrize(("days_left", "points"), [(None, 4), (-1, 8), (0, 8), (1, 6), (2, 5), (6, 5), (7, 4), (30, 4)])
def test_urgency_points(days_left, points):
    assert urgency(days_left) == points


def test_weights_double_with_priority_and_grow_with_urgency_and_carry():
    assert [task_weight(p, None, 0) for p in Priority] == [4, 8, 16, 32]
    assert task_weight(Priority.MEDIUM, 0, 0) == 16  # due today: twice the weight
    assert task_weight(Priority.MEDIUM, None, 2) == 12  # carried over twice: +2 points
    assert task_weight(Priority.MEDIUM, None, 10) == task_weight(Priority.MEDIUM, None, 4) == 16  # carry is capped
    assert routine_weight(Priority.HIGH) == task_weight(Priority.HIGH, 0, 0) == 32  # due on its day


def test_any_block_is_worth_more_than_nothing_and_earlier_windows_more():
    horizon = 1440
    assert block_value(4, 1, horizon - 1, horizon) > 0
    assert block_value(8, 60, 540, horizon) > block_value(8, 60, 840, horizon)
    # One minute more work always outweighs the latest window start.
    assert block_value(1, 31, horizon - 1, horizon) > block_value(1, 30, 0, horizon)
    assert block_value(8, 60, 540, horizon) == 8 * (60 * 1440 - 540)
