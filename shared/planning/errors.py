"""Errors raised by the planning engine.

    PlanningError (AppError, 500)        an engine bug surfaced on purpose (never expected)
    InvalidPlanRequest (InvalidRequest)  the request is malformed: names the offending field

The engine itself never fails for lack of time or a busy day: such days give an empty plan in
which every item carries a reason.
"""

from __future__ import annotations

from shared.errors import AppError, InvalidRequest


class PlanningError(AppError):
    code = "planning_error"
    default_message = "The plan could not be computed."


class InvalidPlanRequest(InvalidRequest):
    code = "invalid_plan_request"
    default_message = "The planning request is invalid."
