"""The daily quota ledger: one document per tenant and UTC day, read and written in transactions.

``quota_daily/{YYYY-MM-DD}``::

    tokens_used      LLM tokens settled today (real figures)
    plans_used       plans started today
    reservations     {reservation_id: {"tokens": int, "hold_until": datetime}} — LLM calls in flight
    tokens_reserved  the live reservations' sum when last written (informational only)
    expires_at       two days after the day ends (Firestore TTL)

How ``reserved`` is recomputed: transactions cannot run queries, so the live reservations sit in
the day's own document. Every transaction reads that document and sums the entries whose
``hold_until`` is still in the future; an entry past it (a holder that crashed and never settled
nor released) no longer counts and is dropped at the next write. The stored ``tokens_reserved`` is
never trusted for a decision. This module is pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from shared.store.base import EXPIRES_AT
from shared.usage.periods import ONE_DAY, day_key, day_start

QUOTAS = "quota_daily"
RESERVATIONS = "quota_reservations"
KEEP_AFTER_DAY = timedelta(days=2)


def ledger_path(day: str) -> str:
    return f"{QUOTAS}/{day}"


def reservation_path(reservation_id: str) -> str:
    return f"{RESERVATIONS}/{reservation_id}"


def ledger_expiry(day: date) -> datetime:
    return day_start(day) + ONE_DAY + KEEP_AFTER_DAY


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass
class DayLedger:
    """One day's quota figures, as read at ``now`` (only live reservations are kept)."""

    day: date
    tokens_used: int = 0
    plans_used: int = 0
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, data: Mapping[str, Any] | None, *, day: date, now: datetime) -> DayLedger:
        data = dict(data or {})
        live: dict[str, dict[str, Any]] = {}
        for reservation_id, entry in (data.pop("reservations", None) or {}).items():
            if isinstance(entry, Mapping) and isinstance(entry.get("hold_until"), datetime) and entry["hold_until"] > now:
                live[reservation_id] = {"tokens": _count(entry.get("tokens")), "hold_until": entry["hold_until"]}
        return cls(
            day=day,
            tokens_used=_count(data.pop("tokens_used", 0)),
            plans_used=_count(data.pop("plans_used", 0)),
            reservations=live,
            extra={k: v for k, v in data.items() if k not in ("day", "tokens_reserved", EXPIRES_AT)},
        )

    @property
    def tokens_reserved(self) -> int:
        return sum(entry["tokens"] for entry in self.reservations.values())

    def hold(self, reservation_id: str, tokens: int, *, until: datetime) -> None:
        self.reservations[reservation_id] = {"tokens": tokens, "hold_until": until}

    def drop(self, reservation_id: str) -> None:
        self.reservations.pop(reservation_id, None)

    def document(self) -> dict[str, Any]:
        """The body to write back (a full replacement)."""
        return {
            **self.extra,
            "day": day_key(self.day),
            "tokens_used": self.tokens_used,
            "plans_used": self.plans_used,
            "reservations": {key: dict(value) for key, value in self.reservations.items()},
            "tokens_reserved": self.tokens_reserved,
            EXPIRES_AT: ledger_expiry(self.day),
        }
