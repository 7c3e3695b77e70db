"""The one objective every planner in this package maximises (greedy, CP-SAT, exact optimum).

A plan is worth the sum, over its blocks, of::

    block_value = weight × (minutes × H − window_start)

* ``minutes`` is the block's length; ``window_start`` is where the *free window* holding the block
  begins, in minutes from local midnight of the first planned day (a free window is a maximal
  stretch of free working time between breaks, busy blocks and the ends of working hours); ``H``
  is the horizon's length in minutes (1440 for an ordinary day, 1380 or 1500 on a daylight-saving
  day). Since ``window_start < H``, every block is worth more than nothing: planned work always
  pays first. The ``− window_start`` term, in proportion to weight, gives the earlier windows (and
  earlier days) to the more valuable work, and charges each extra chunk of a split task once, so
  the plan does not fragment work for nothing.
* ``weight`` is per minute of work:

  - a task: ``PRIORITY_WEIGHT[priority] × (urgency + carry)``, where urgency is 8 if the task is
    due by the end of the first planned day, 6 by the end of the next, 5 within a week and 4
    otherwise (or without a due date), and carry adds 1 per day the task was already planned and
    left unfinished (at most 4);
  - a routine occurrence: ``PRIORITY_WEIGHT[priority] × 8``: an occurrence is due on its own day,
    so it weighs like a task of the same priority due today (a high-priority habit comes before
    most tasks, a low-priority one after them).

Inside one free window, the order of blocks does not change this value; the engine then orders
each window's blocks most valuable first, as deadlines and routine windows allow
(``shared.planning.sequence``). Keeping the objective at the level of windows is what lets CP-SAT
*prove* optimality on realistic days within seconds; a minute-level start penalty makes it a
weighted single-machine sequencing problem whose proofs did not finish in 10 minutes on a
24-task, 3-day instance.

The focus cap (task minutes per day) is a constraint, not a term. Values are integers, so the
solver optimises exactly this number and ratios between planners are exact.
"""

from __future__ import annotations

from shared.models import Priority

PRIORITY_WEIGHT = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 4, Priority.URGENT: 8}
BASE_URGENCY = 4
MAX_CARRY = 4


def urgency(days_left: int | None) -> int:
    """Urgency points for a deadline ``days_left`` planned days away (0 = due today)."""
    if days_left is None or days_left > 6:
        return BASE_URGENCY
    if days_left <= 0:
        return 8
    if days_left == 1:
        return 6
    return 5


def task_weight(priority: Priority, days_left: int | None, carried_over_days: int) -> int:
    """Value per minute of a task."""
    return PRIORITY_WEIGHT[Priority(priority)] * (urgency(days_left) + min(carried_over_days, MAX_CARRY))


def routine_weight(priority: Priority) -> int:
    """Value per minute of a routine occurrence (due on its day)."""
    return PRIORITY_WEIGHT[Priority(priority)] * urgency(0)


def block_value(weight: int, minutes: int, window_start: int, horizon_minutes: int) -> int:
    """Value of one planned block (see the module docstring)."""
    return weight * (minutes * horizon_minutes - window_start)
