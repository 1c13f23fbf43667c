"""The IVR's pure domain: who is calling, what they can look up, the caller's journey.
Where they go is `routing.py`; the PIN guard is `pin.py`.

Standard library only. Time comes in as an argument; nothing here reads a clock or a table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from chalicelib.platform.contact import flag


class Tier(Enum):
    STANDARD = "standard"
    GOLD = "gold"
    VIP = "vip"


class CallerType(Enum):
    KNOWN = "known"
    UNKNOWN = "unknown"  # a valid number we have no customer for
    WITHHELD = "withheld"
    INVALID = "invalid"  # something in the ANI that is not a dialable number


# ---------------------------------------------------------------------------------------------
# Identify the caller


@dataclass(frozen=True)
class Customer:
    customer_id: str
    display_name: str
    tier: Tier = Tier.STANDARD
    language: str = "en"
    elderly: bool = False
    assigned_agent: str = ""
    last_agent: str = ""


@dataclass(frozen=True)
class AccountEvent:
    kind: str
    occurred_at: datetime


@dataclass(frozen=True)
class CallerProfile:
    caller_type: CallerType
    customer: Customer | None = None
    repeat_caller: bool = False
    predicted_reason: str = ""
    last_intent: str = ""
    history: str = ""  # "checked", "unavailable" (no caller key), "" (no usable number)

    def attributes(self) -> dict[str, str]:
        customer = self.customer or ANONYMOUS
        return {
            "result": "ok",
            "caller_type": self.caller_type.value,
            "customer_found": flag(self.customer is not None),
            "customer_id": customer.customer_id,
            "display_name": customer.display_name,
            "tier": customer.tier.value,
            "language": customer.language,
            "elderly": flag(customer.elderly),
            "assigned_agent": customer.assigned_agent,
            "last_agent": customer.last_agent,
            "repeat_caller": flag(self.repeat_caller),
            "predicted_reason": self.predicted_reason,
            "last_intent": self.last_intent,
            "history_status": self.history,
        }


ANONYMOUS = Customer(customer_id="", display_name="")

# Which recent account event suggests which reason for calling, and how strongly.
REASON_BY_EVENT: Mapping[str, tuple[str, int]] = {
    "payment_failed": ("payment", 3),
    "card_declined": ("payment", 3),
    "service_outage": ("technical", 3),
    "order_delayed": ("delivery", 2),
    "bill_issued": ("billing", 1),
    "plan_changed": ("account", 1),
}
PREDICTION_WINDOW = timedelta(days=7)
REPEAT_WINDOW = timedelta(hours=24)


def predict_reason(events: Iterable[AccountEvent], now: datetime) -> str:
    """The likeliest reason for the call: the strongest recent signal, the newest on a tie."""
    scored = [
        (REASON_BY_EVENT[e.kind][1], e.occurred_at, REASON_BY_EVENT[e.kind][0])
        for e in events
        if e.kind in REASON_BY_EVENT and now - PREDICTION_WINDOW <= e.occurred_at <= now
    ]
    return max(scored)[2] if scored else ""


def is_repeat_caller(previous_starts: Iterable[datetime], now: datetime) -> bool:
    return any(now - REPEAT_WINDOW <= started <= now for started in previous_starts)


# ---------------------------------------------------------------------------------------------
# Self-service account look-up


@dataclass(frozen=True)
class Account:
    customer_id: str
    balance_cents: int
    currency: str
    next_bill_date: date | None
    policy_status: str

    def attributes(self) -> dict[str, str]:
        units, cents = divmod(abs(self.balance_cents), 100)
        sign = "minus " if self.balance_cents < 0 else ""
        return {
            "result": "ok",
            "balance": f"{'-' if self.balance_cents < 0 else ''}{units}.{cents:02d}",
            "currency": self.currency,
            "balance_spoken": f"{sign}{units} {self.currency} and {cents} cents",
            "next_bill_date": self.next_bill_date.isoformat() if self.next_bill_date else "",
            "policy_status": self.policy_status,
        }


# ---------------------------------------------------------------------------------------------
# The caller's journey


MAX_SUMMARY_CHARS = 1000
JOURNEY_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class JourneyStep:
    contact_id: str
    step: str
    value: str
    at: datetime

    @property
    def key(self) -> str:
        """Same contact, same step, same value: the same step, however often Connect retries."""
        digest = hashlib.sha256(f"{self.step}\x00{self.value}".encode()).hexdigest()[:16]
        return f"{self.contact_id}:{digest}"


def summarise(steps: Sequence[JourneyStep]) -> str:
    """What the agent reads: the caller's steps in order, newest kept if it gets long."""
    parts = [f"{s.step}={s.value}" if s.value else s.step for s in steps]
    text = " > ".join(parts)
    return text if len(text) <= MAX_SUMMARY_CHARS else "... " + text[-(MAX_SUMMARY_CHARS - 4) :]
