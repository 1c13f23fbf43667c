"""In-memory implementations of every port, for the unit tests, the benchmarks and the demo:
each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import datetime

from chalicelib.callbacks import model as callback_model
from chalicelib.callbacks.model import Callback, Outcome
from chalicelib.callbacks.service import AllowanceUsedError, Holders, QueueSettings
from chalicelib.dialer.contacts import Contact
from chalicelib.ivr.model import Account, AccountEvent, Customer, JourneyStep
from chalicelib.ivr.pin import PinGuard
from chalicelib.ivr.routing import QueueLoad
from chalicelib.ivr.service import LoadUnavailableError, PreviousJourney
from chalicelib.platform.clock import Deadline
from chalicelib.platform.phone import CallerKeyError, CallerKeys


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


class InMemoryLedger:
    """The ledger's contract in memory: conditional writes on the version, one active
    callback per (number, queue) and per asking contact, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.callbacks: dict[str, Callback] = {}
        self.charged: Counter[str] = Counter()
        self.writes = 0

    def _active(self) -> list[Callback]:
        return [c for c in self.callbacks.values() if not c.final]

    def create(
        self,
        callback: Callback,
        supersedes: Callback | None,
        allowance: callback_model.Allowance,
    ) -> tuple[Callback, bool]:
        with self._lock:
            for other in self._active():
                if (other.number, other.queue) == (callback.number, callback.queue) and (
                    supersedes is None or other.callback_id != supersedes.callback_id
                ):
                    return other, False
            if self.charged[allowance.key] >= allowance.limit:
                raise AllowanceUsedError(allowance.key)
            self.charged[allowance.key] += 1
            if supersedes is not None:
                current = self.callbacks.get(supersedes.callback_id)
                if current is None or current.version != supersedes.version:
                    raise RuntimeError("superseded callback changed meanwhile")
                cancelled = callback_model.cancel(
                    current, callback.requested_at, "replaced by a request for another number"
                )
                self.callbacks[current.callback_id] = _replace(
                    cancelled, version=current.version + 1
                )
            stored = _replace(callback, version=1)
            self.callbacks[callback.callback_id] = stored
            self.writes += 1
            return stored, True

    def get(self, callback_id: str) -> Callback | None:
        return self.callbacks.get(callback_id)

    def active_for_number(self, number: str) -> list[Callback]:
        return [c for c in self._active() if c.number == number]

    def holders(self, number: str, queue: str, contact_id: str) -> Holders:
        active = self._active()
        return Holders(
            next((c for c in active if (c.number, c.queue) == (number, queue)), None),
            next((c for c in active if contact_id and c.contact_id == contact_id), None),
        )

    def by_outbound_contact(self, contact_id: str) -> Callback | None:
        return next(
            (c for c in self.callbacks.values() if c.outbound_contact_id == contact_id), None
        )

    @staticmethod
    def _order(callback: Callback) -> tuple[object, ...]:
        return (callback.priority, callback.due_at, callback.requested_at, callback.callback_id)

    def due(self, queue: str, now: datetime, limit: int) -> list[Callback]:
        with self._lock:
            waiting = [
                c
                for c in self.callbacks.values()
                if c.queue == queue and c.status in callback_model.WAITING and c.due_at <= now
            ]
        return sorted(waiting, key=self._order)[:limit]

    def position(self, callback: Callback) -> int:
        with self._lock:
            waiting = [
                c
                for c in self.callbacks.values()
                if c.queue == callback.queue and c.status in callback_model.WAITING
            ]
        return 1 + sum(self._order(c) < self._order(callback) for c in waiting)

    def leases_ended(self, now: datetime, limit: int) -> list[Callback]:
        return [
            c
            for c in self.callbacks.values()
            if c.status in callback_model.IN_FLIGHT
            and c.lease_until is not None
            and c.lease_until <= now
        ][:limit]

    def transition(self, before: Callback, after: Callback) -> Callback | None:
        with self._lock:
            current = self.callbacks.get(before.callback_id)
            if current is None or current.version != before.version:
                return None
            stored = _replace(after, version=before.version + 1)
            self.callbacks[before.callback_id] = stored
            self.writes += 1
            return stored


class RecordingDialer:
    """Connect's StartOutboundVoiceContact as far as callbacks rely on it, recording every call.

    A ClientToken whose contact is still going answers that contact's id and places nothing;
    once the contact has ended (`end`), the same token starts a new call, as the API
    reference says. `dials` holds every call placed: (callback id, token, at)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dials: list[tuple[str, str, datetime | None]] = []
        self.replays = 0  # requests answered with a contact already going
        self.live: dict[str, str] = {}  # token -> contact id of its call still going
        self.contacts: dict[str, tuple[str, str]] = {}  # contact id -> (callback id, token)
        self.fail_with: Exception | None = None
        self.clock = None

    def dial(self, callback: Callback) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        return self.place(callback)

    def place(self, callback: Callback) -> str:
        with self._lock:
            token = callback.dial_token
            if token in self.live:
                self.replays += 1
                return self.live[token]
            placed_before = sum(t == token for _, t, _ in self.dials)
            contact = f"contact-{token}" + (f"-again{placed_before}" if placed_before else "")
            self.dials.append(
                (callback.callback_id, token, self.clock.now() if self.clock else None)
            )
            self.live[token] = contact
            self.contacts[contact] = (callback.callback_id, token)
            return contact

    def end(self, contact: str) -> None:
        """The call hung up: its token would now start a new call."""
        with self._lock:
            _, token = self.contacts[contact]
            if self.live.get(token) == contact:
                del self.live[token]


class FixedAgents:
    """Free agents: the same number in every queue, or a number per queue."""

    def __init__(self, free: int | Mapping[str, int] = 100) -> None:
        self.free = free

    def available(self, queues: Sequence[str]) -> dict[str, int]:
        if isinstance(self.free, int):
            return dict.fromkeys(queues, self.free)
        return {q: self.free.get(q, 0) for q in queues}


class ScriptedContacts:
    """DescribeContact: an outcome per contact (None while going); `failure` makes every
    look-up fail as a throttled Connect would."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome | None] = {}
        self.failure: Exception | None = None

    def outcome(self, contact_id: str) -> Outcome | None:
        if self.failure is not None:
            raise self.failure
        if contact_id not in self.outcomes:
            raise KeyError(contact_id)
        return self.outcomes[contact_id]


class SequentialIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self) -> str:
        with self._lock:
            self.count += 1
            return f"cb-{self.count:06d}"


def callback_queues() -> dict[str, QueueSettings]:
    """Each queue of the routing rules with its hours and handle time, as production has."""
    from chalicelib.bootstrap import load_routing_rules

    rules = load_routing_rules()
    return {
        name: QueueSettings(rules.hours[q.hours], q.average_handle_seconds)
        for name, q in rules.queues.items()
    }


class InMemoryContactBook:
    """The dialer's contact book as a dict: (campaign, number) -> the contact."""

    def __init__(self) -> None:
        self.contacts: dict[tuple[str, str], Contact] = {}

    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        added = []
        for contact in contacts:
            key = (campaign, contact.number)
            added.append(key not in self.contacts)
            self.contacts.setdefault(key, contact)
        return added
