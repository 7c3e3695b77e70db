"""Errors of metering, quotas and usage reports.

    QuotaError (RateLimited, 429, Retry-After)
    ├── RequestRateExceeded   rate_limited        too many requests in this minute
    ├── QuotaExceeded         quota_exceeded      a daily quota (LLM tokens, plans) is used up
    └── TooManyInFlight       too_many_in_flight  too many LLM calls hold reservations at once
    InvalidUsageQuery (InvalidRequest, 400)       a filter, cursor or limit is malformed (names the field)
    UnknownTenant (NotFound, 404)                 the admin named a tenant that does not exist
"""

from __future__ import annotations

from shared.errors import InvalidRequest, NotFound, RateLimited


class QuotaError(RateLimited):
    """A limit of the tenant's tier was reached; ``retry_after`` says when it resets."""


class RequestRateExceeded(QuotaError):
    code = "rate_limited"
    default_message = "Too many requests this minute; slow down."


class QuotaExceeded(QuotaError):
    code = "quota_exceeded"
    default_message = "The daily quota of your plan is used up; it resets at midnight UTC."


class TooManyInFlight(QuotaError):
    code = "too_many_in_flight"
    default_message = "Too many requests are running at once; try again in a moment."


class InvalidUsageQuery(InvalidRequest):
    code = "invalid_usage_query"


class UnknownTenant(NotFound):
    code = "unknown_tenant"
    default_message = "No such tenant."
