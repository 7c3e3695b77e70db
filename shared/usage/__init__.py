"""Usage metering, quotas and rate limits per tier, and usage reports.

    meter      UsageMeter: usage logs and atomic daily aggregates
    tiers      the limits of each tier (the one place they are configured)
    quotas     QuotaService: requests per minute, LLM token reservations, plans per day
    ledger     the daily quota document and how live reservations are summed
    rate       fixed one-minute request windows
    summary    today / last 30 days / per operation / remaining quota
    history    usage log pages (cursor) and export streams; cursor, export: their formats
    admin      changing a tenant's tier
    money      costs as integer nano-dollars
"""

from shared.usage.errors import (
    InvalidUsageQuery,
    QuotaError,
    QuotaExceeded,
    RequestRateExceeded,
    TooManyInFlight,
    UnknownTenant,
)
from shared.usage.meter import UsageMeter
from shared.usage.quotas import QuotaFigure, QuotaService, QuotaStatus, Reservation
from shared.usage.tiers import TIERS, TierLimits

__all__ = [
    "TIERS",
    "InvalidUsageQuery",
    "QuotaError",
    "QuotaExceeded",
    "QuotaFigure",
    "QuotaService",
    "QuotaStatus",
    "RequestRateExceeded",
    "Reservation",
    "TierLimits",
    "TooManyInFlight",
    "UnknownTenant",
    "UsageMeter",
]
