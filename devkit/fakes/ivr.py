"""The IVR's ports in memory.

Each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.ivr.model import Account, AccountEvent, Customer, JourneyStep
from chalicelib.ivr.pin import PinGuard
from chalicelib.ivr.routing import QueueLoad
from chalicelib.ivr.service import LoadUnavailableError, PreviousJourney
from chalicelib.platform.clock import Deadline
from chalicelib.platform.phone import CallerKeyError, CallerKeys

if TYPE_CHECKING:
    pass


@dataclass
class InMemoryCustomers:
    by_number: dict[str, Customer] = field(default_factory=dict)
    events: dict[str, list[AccountEvent]] = field(default_factory=dict)
    pins: dict[str, str] = field(default_factory=dict)

    def by_phone(self, e164: str) -> Customer | None:
        return self.by_number.get(e164)

    def recent_events(self, customer_id: str, since: datetime) -> Sequence[AccountEvent]:
        return [e for e in self.events.get(customer_id, []) if e.occurred_at >= since]

    def pin_hash(self, customer_id: str) -> str:
        return self.pins.get(customer_id, "")


@dataclass
class InMemoryJourneys:
    journeys: dict[str, dict[str, object]] = field(default_factory=dict)

    def previous(self, caller: str, since: datetime) -> Sequence[PreviousJourney]:
        return [
            PreviousJourney(contact, j["started_at"], str(j.get("last_intent", "")))  # type: ignore[arg-type]
            for contact, j in self.journeys.items()
            if j.get("caller") == caller and j["started_at"] >= since  # type: ignore[operator]
        ]

    def append(
        self, initial_contact_id: str, caller: str, step: JourneyStep, expires_at: datetime
    ) -> Sequence[JourneyStep]:
        journey = self.journeys.setdefault(
            initial_contact_id, {"caller": caller, "started_at": step.at, "steps": []}
        )
        journey["caller"] = journey["caller"] or caller  # like if_not_exists on DynamoDB
        steps: list[JourneyStep] = journey["steps"]  # type: ignore[assignment]
        if step.key not in {s.key for s in steps}:
            steps.append(step)
            if step.step == "intent":
                journey["last_intent"] = step.value
        return list(steps)


class RotatingKeys:
    """The caller-key secret as SSM holds it: rotate, retire, or be unreachable."""

    def __init__(self) -> None:
        self.secrets: tuple[bytes, ...] = (b"first-test-key-" * 3,)
        self.available = True

    def keys(self) -> CallerKeys:
        if not self.available:
            raise CallerKeyError("cannot read the caller key /test: ThrottlingException")
        return CallerKeys(self.secrets)

    def rotate(self, new: bytes) -> None:
        self.secrets = (new, *self.secrets)

    def retire(self) -> None:
        self.secrets = self.secrets[:1]


@dataclass
class InMemoryPinGuards:
    guards: dict[str, PinGuard] = field(default_factory=dict)
    writes: int = 0

    def load(self, customer_id: str) -> PinGuard:
        return self.guards.get(customer_id, PinGuard())

    def update(self, customer_id: str, change: Callable[[PinGuard], PinGuard]) -> PinGuard:
        before = self.load(customer_id)
        after = change(before)
        if after != before:
            self.writes += 1
            self.guards[customer_id] = after
        return after


@dataclass
class InMemoryAccounts:
    accounts: dict[str, Account] = field(default_factory=dict)

    def get(self, customer_id: str) -> Account | None:
        return self.accounts.get(customer_id)


@dataclass
class FakeQueueLoads:
    loads: dict[str, QueueLoad] = field(default_factory=dict)
    failure: str = ""
    asked: list[tuple[str, ...]] = field(default_factory=list)

    def current(self, queues: Sequence[str], deadline: Deadline) -> Mapping[str, QueueLoad]:
        self.asked.append(tuple(queues))
        if self.failure:
            raise LoadUnavailableError(self.failure)
        return {q: self.loads[q] for q in queues if q in self.loads}


# -- callbacks --------------------------------------------------------------------------------
