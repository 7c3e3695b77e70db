"""Quotas and rate limits per tier, enforced through the document store.

The protocol an LLM caller follows (names are a contract with the LLM code)::

    reservation = quotas.reserve_tokens(tenant_id=t, estimated_tokens=estimate)  # 429 if over
    try:
        answer = call_the_model(...)
    except Exception:
        quotas.release(reservation)          # frees the estimate
        raise
    quotas.settle(reservation, tokens_in=..., tokens_out=..., cost_usd=Decimal(...),
                  model=..., request_id=...)  # replaces the estimate with the real figure

Reserving reads the day's ledger (:mod:`shared.usage.ledger`) inside a store transaction and
refuses if ``used + reserved + estimate`` would exceed the tier's daily limit, so concurrent calls
can never overshoot it together. A reservation holds for ``hold`` (default 15 minutes, longer than
any function may run); a holder that crashes neither settles nor releases, and its hold simply
stops counting when it lapses. Settling and releasing are idempotent: the reservation's own
document (``quota_reservations/{id}``) records whether it is held, settled or released.

Exceeding a daily quota raises :class:`QuotaExceeded` (429, code ``quota_exceeded``, Retry-After
= seconds to UTC midnight); exceeding the request rate raises :class:`RequestRateExceeded` (429,
Retry-After = seconds to the end of the minute).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from shared.errors import InvalidRequest
from shared.ids import validate_segment, validate_tenant_id
from shared.models import OperationType, Tier, UsageRecord
from shared.store.base import EXPIRES_AT, DocumentStore
from shared.usage.errors import QuotaExceeded, RequestRateExceeded, TooManyInFlight
from shared.usage.ledger import DayLedger, ledger_expiry, ledger_path, reservation_path
from shared.usage.meter import UsageMeter
from shared.usage.money import usd_to_nanos
from shared.usage.periods import Clock, day_key, next_midnight, seconds_until, utc_day, utcnow
from shared.usage.rate import MinuteWindows
from shared.usage.tiers import TIERS, TierLimits, tier_of

logger = logging.getLogger(__name__)

DEFAULT_HOLD = timedelta(minutes=15)
MAX_IN_FLIGHT = 50  # bounds the ledger document's size as well as runaway parallelism
IN_FLIGHT_RETRY_SECONDS = 5
HELD, SETTLED, RELEASED = "held", "settled", "released"


@dataclass(frozen=True)
class Reservation:
    """Tokens held for one LLM call on one UTC ``day`` (``YYYY-MM-DD``)."""

    id: str
    tenant_id: str
    estimated_tokens: int
    day: str


@dataclass(frozen=True)
class QuotaFigure:
    """One limit as it stands: ``remaining = limit - used - reserved`` (never below 0)."""

    limit: int
    used: int
    reserved: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used - self.reserved)


@dataclass(frozen=True)
class QuotaStatus:
    tier: Tier
    requests_per_minute: QuotaFigure
    llm_tokens_per_day: QuotaFigure
    plans_per_day: QuotaFigure


def _non_negative_int(value: object, field: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
        kind = "a positive" if positive else "a non-negative"
        raise InvalidRequest(f"The {field} must be {kind} integer.", field=field)
    return value


class QuotaService:
    def __init__(
        self,
        store: DocumentStore,
        *,
        tiers: Mapping[Tier, TierLimits] = TIERS,
        clock: Clock = utcnow,
        meter: UsageMeter | None = None,
        hold: timedelta = DEFAULT_HOLD,
        max_in_flight: int = MAX_IN_FLIGHT,
        max_attempts: int = 10,
    ) -> None:
        self.store = store
        self.tiers = tiers
        self.clock = clock
        self.meter = meter or UsageMeter(store, clock=clock)
        self.hold = hold
        self.max_in_flight = max_in_flight
        # Firestore resolves contended transactions by aborting some: give them room to retry.
        self.max_attempts = max_attempts
        self._windows = MinuteWindows(store, clock=clock)

    # --- tiers ------------------------------------------------------------------------------------
    def tier(self, *, tenant_id: str) -> Tier:
        """The tenant's tier, from its root document (free by default)."""
        return tier_of(self.store.get("", tenant_id=validate_tenant_id(tenant_id)))

    def limits(self, *, tenant_id: str) -> TierLimits:
        return self.tiers[self.tier(tenant_id=tenant_id)]

    # --- requests per minute ----------------------------------------------------------------------
    def check_rate(self, *, tenant_id: str) -> QuotaFigure:
        """Count one request in the tenant's current minute; :class:`RequestRateExceeded` if over."""
        limit = self.limits(tenant_id=tenant_id).requests_per_minute
        now = self.clock()
        window = self._windows.hit(tenant_id=tenant_id, now=now)
        if window.count > limit:
            raise RequestRateExceeded(retry_after=seconds_until(window.window_end, now))
        return QuotaFigure(limit=limit, used=window.count, reserved=0, resets_at=window.window_end)

    # --- LLM tokens per day -----------------------------------------------------------------------
    def reserve_tokens(self, *, tenant_id: str, estimated_tokens: int) -> Reservation:
        """Hold ``estimated_tokens`` of today's LLM quota (429 :class:`QuotaExceeded` if it would
        overshoot, 429 :class:`TooManyInFlight` past ``max_in_flight`` concurrent holds)."""
        validate_tenant_id(tenant_id)
        estimate = _non_negative_int(estimated_tokens, "estimated_tokens", positive=True)
        limit = self.limits(tenant_id=tenant_id).llm_tokens_per_day
        now = self.clock()
        day = utc_day(now)
        reservation = Reservation(id=uuid.uuid4().hex, tenant_id=tenant_id, estimated_tokens=estimate, day=day_key(day))

        def reserve(txn) -> None:
            ledger = DayLedger.read(txn.get(ledger_path(reservation.day)), day=day, now=now)
            if ledger.tokens_used + ledger.tokens_reserved + estimate > limit:
                raise QuotaExceeded("The daily LLM token quota of your plan is used up.",
                                    retry_after=seconds_until(next_midnight(now), now))
            if len(ledger.reservations) >= self.max_in_flight:
                raise TooManyInFlight(retry_after=IN_FLIGHT_RETRY_SECONDS)
            ledger.hold(reservation.id, estimate, until=now + self.hold)
            txn.set(ledger_path(reservation.day), ledger.document())
            txn.set(reservation_path(reservation.id), {
                "state": HELD, "day": reservation.day, "estimated_tokens": estimate,
                "created_at": now, EXPIRES_AT: ledger_expiry(day),
            })

        self.store.transaction(reserve, tenant_id=tenant_id, max_attempts=self.max_attempts)
        return reservation

    def settle(
        self,
        reservation: Reservation,
        *,
        tokens_in: int,
        tokens_out: int,
        cost_usd: Decimal,
        model: str,
        request_id: str,
    ) -> bool:
        """Replace the reservation's estimate by the real figure (one transaction) and meter the
        call as an ``llm_call`` usage record. False (and nothing counted) if it was already settled
        or released. A settle after the hold lapsed still counts the real tokens."""
        tokens_in = _non_negative_int(tokens_in, "tokens_in")
        tokens_out = _non_negative_int(tokens_out, "tokens_out")
        usd_to_nanos(cost_usd)  # validates before anything is written
        now = self.clock()
        record = UsageRecord(operation=OperationType.LLM_CALL, tokens_in=tokens_in, tokens_out=tokens_out,
                             cost_usd=cost_usd, timestamp=now, request_id=request_id, detail=model)
        if not self._finish(reservation, SETTLED, used=tokens_in + tokens_out, now=now):
            return False
        self.meter.record(record, tenant_id=reservation.tenant_id)
        return True

    def release(self, reservation: Reservation) -> bool:
        """Give the reservation's tokens back (the call failed). False if already finished."""
        return self._finish(reservation, RELEASED, used=0, now=self.clock())

    def _finish(self, reservation: Reservation, state: str, *, used: int, now: datetime) -> bool:
        tenant_id = validate_tenant_id(reservation.tenant_id)
        validate_segment(reservation.id, field="reservation.id")
        day = date.fromisoformat(reservation.day)

        def finish(txn) -> bool:
            ledger = DayLedger.read(txn.get(ledger_path(reservation.day)), day=day, now=now)
            held = txn.get(reservation_path(reservation.id))
            if held is not None and held.get("state") != HELD:
                return False
            # An absent reservation document (retention passed) still counts: never lose usage.
            ledger.drop(reservation.id)
            ledger.tokens_used += used
            txn.set(ledger_path(reservation.day), ledger.document())
            txn.set(reservation_path(reservation.id), {
                "state": state, "day": reservation.day, "estimated_tokens": reservation.estimated_tokens,
                "tokens": used, "finished_at": now, EXPIRES_AT: ledger_expiry(day),
            })
            return True

        finished = self.store.transaction(finish, tenant_id=tenant_id, max_attempts=self.max_attempts)
        if not finished:
            logger.info("reservation was already finished; ignored")
        return finished

    # --- plans per day ----------------------------------------------------------------------------
    def reserve_plan(self, *, tenant_id: str) -> int:
        """Count one plan against today's limit and return today's count including it
        (429 :class:`QuotaExceeded` when the limit is reached; nothing is counted then)."""
        validate_tenant_id(tenant_id)
        limit = self.limits(tenant_id=tenant_id).plans_per_day
        now = self.clock()
        day = utc_day(now)

        def reserve(txn) -> int:
            ledger = DayLedger.read(txn.get(ledger_path(day_key(day))), day=day, now=now)
            if ledger.plans_used + 1 > limit:
                raise QuotaExceeded("The daily plan quota of your plan is used up.",
                                    retry_after=seconds_until(next_midnight(now), now))
            ledger.plans_used += 1
            txn.set(ledger_path(day_key(day)), ledger.document())
            return ledger.plans_used

        return self.store.transaction(reserve, tenant_id=tenant_id, max_attempts=self.max_attempts)

    # --- reporting --------------------------------------------------------------------------------
    def status(self, *, tenant_id: str) -> QuotaStatus:
        """Every limit of the tenant's tier with what is used, reserved and left (reads only)."""
        tier = self.tier(tenant_id=tenant_id)
        limits = self.tiers[tier]
        now = self.clock()
        day = utc_day(now)
        ledger = DayLedger.read(self.store.get(ledger_path(day_key(day)), tenant_id=tenant_id), day=day, now=now)
        window = self._windows.current(tenant_id=tenant_id, now=now)
        midnight = next_midnight(now)
        return QuotaStatus(
            tier=tier,
            requests_per_minute=QuotaFigure(limits.requests_per_minute, window.count, 0, window.window_end),
            llm_tokens_per_day=QuotaFigure(limits.llm_tokens_per_day, ledger.tokens_used, ledger.tokens_reserved, midnight),
            plans_per_day=QuotaFigure(limits.plans_per_day, ledger.plans_used, 0, midnight),
        )
