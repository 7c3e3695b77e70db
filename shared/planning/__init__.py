"""The planning engine (pure, no I/O): a day's tasks and routines in, a time-blocked plan out.

    plan = plan_day(PlanRequest.from_config(config, day=date(2026, 3, 30), tasks=tasks, routines=routines))

See docs/planning.md for the model, the objective and worked examples.
"""

from shared.planning.engine import plan_day
from shared.planning.errors import InvalidPlanRequest, PlanningError
from shared.planning.model import (
    Break,
    BusyBlock,
    ItemKind,
    Plan,
    PlanBlock,
    PlanRequest,
    ReasonCode,
    SolverOptions,
    Unscheduled,
    parse_request,
)

__all__ = [
    "Break",
    "BusyBlock",
    "InvalidPlanRequest",
    "ItemKind",
    "Plan",
    "PlanBlock",
    "PlanRequest",
    "PlanningError",
    "ReasonCode",
    "SolverOptions",
    "Unscheduled",
    "parse_request",
    "plan_day",
]
