"""In-memory implementations of every port, for the unit tests, the benchmarks and the demo:
each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from chalicelib.callbacks import model as callback_model
from chalicelib.callbacks.model import Callback, Outcome
from chalicelib.callbacks.service import AllowanceUsedError, Holders, QueueSettings
from chalicelib.dialer import model as dialer_model
from chalicelib.dialer.compliance import Consent, PastCall, Recipient
from chalicelib.dialer.contacts import Contact
from chalicelib.dialer.model import Campaign, DialRecord, Figures, Seen
from chalicelib.ivr.model import Account, AccountEvent, Customer, JourneyStep
from chalicelib.ivr.pin import PinGuard
from chalicelib.ivr.routing import QueueLoad
from chalicelib.ivr.service import LoadUnavailableError, PreviousJourney
from chalicelib.outbound.model import DialUncertainError, OutboundCall
from chalicelib.outbound.service import Commit, commit_or_stop
from chalicelib.platform.clock import Deadline, FixedClock
from chalicelib.platform.phone import CallerKeyError, CallerKeys
from chalicelib.qa.model import Rubric
from chalicelib.qa.records import ContactSeen, QaRecord, QaStatus, Tally, iso_week, week_of
from chalicelib.qa.review import Review

if TYPE_CHECKING:
    from chalicelib.qa.service import QaService


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


class _RecordingConnect:
    """StartOutboundVoiceContact as far as we rely on it, recording every call placed.

    A ClientToken whose contact is still going answers that contact's id and places nothing;
    once the contact has ended (`end`), the same token starts a new call, as the API
    reference says. `dials` holds every call placed: (the owner's ref, token, at)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.dials: list[tuple[str, str, datetime | None]] = []
        self.replays = 0  # requests answered with a contact already going
        self.live: dict[str, str] = {}  # token -> contact id of its call still going
        self.contacts: dict[str, tuple[str, str]] = {}  # contact id -> (ref, token)
        self.fail_with: Exception | None = None
        self.clock: FixedClock | None = None

    def _start(self, ref: str, token: str) -> str:
        with self._lock:
            if token in self.live:
                self.replays += 1
                return self.live[token]
            placed_before = sum(t == token for _, t, _ in self.dials)
            contact = f"contact-{token}" + (f"-again{placed_before}" if placed_before else "")
            self.dials.append((ref, token, self.clock.now() if self.clock else None))
            self.live[token] = contact
            self.contacts[contact] = (ref, token)
            return contact

    def end(self, contact: str) -> None:
        """The call hung up: its token would now start a new call."""
        with self._lock:
            _, token = self.contacts[contact]
            if self.live.get(token) == contact:
                del self.live[token]


class RecordingDialer(_RecordingConnect):
    """The callbacks' Dialer port on the recording Connect."""

    def dial(self, callback: Callback, commit: Commit) -> str:
        commit_or_stop(commit)  # as ConnectOutbound does, after its pacer's wait
        if self.fail_with is not None:  # what Connect answered
            raise self.fail_with
        return self.place(callback)

    def place(self, callback: Callback) -> str:
        return self._start(callback.callback_id, callback.dial_token)


class RecordingCalls(_RecordingConnect):
    """The dialer's Calls port on the recording Connect, and SearchContacts by name.

    `requests` keeps each call asked for. `lose_answer` places the call and then raises
    DialUncertainError, as a timeout after Connect acted does. A contact is found by name
    only once `index()` ran (Connect's search index lags)."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[OutboundCall] = []
        self.lose_answer = False
        self.named: dict[str, str] = {}  # name -> contact id
        self.indexed: set[str] = set()
        self.search_failure: Exception | None = None

    def start(self, call: OutboundCall, commit: Commit) -> str:
        commit_or_stop(commit)  # as ConnectOutbound does, after its pacer's wait
        self.requests.append(call)
        if self.fail_with is not None:  # what Connect answered
            raise self.fail_with
        contact = self._start(call.ref, call.token)
        self.named.setdefault(call.name, contact)
        if self.lose_answer:
            raise DialUncertainError("ReadTimeoutError")
        return contact

    def index(self) -> None:
        self.indexed.update(self.named)

    def find(self, name: str, since: datetime, until: datetime) -> str | None:
        if self.search_failure is not None:
            raise self.search_failure
        return self.named.get(name) if name in self.indexed else None


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


class InMemoryDialLedger:
    """The dialer's table as dicts: records by (campaign, number), each write conditional
    on the version read, and the figures each transition adds (`model.tally`), by UTC day.
    It is also the contact book ingest adds to."""

    def __init__(self, people: InMemoryRecipients | None = None) -> None:
        self._lock = threading.Lock()
        self.people = people  # whose do-not-call and consent the last write before a call checks
        self.records: dict[tuple[str, str], DialRecord] = {}
        self.days: dict[tuple[str, date], Counter[str]] = {}
        self.answers: dict[tuple[str, str, int], int | None] = {}  # (campaign, number, attempt)
        self.writes = 0

    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        added = []
        with self._lock:
            for contact in contacts:
                key = (campaign, contact.number)
                added.append(key not in self.records)
                if key not in self.records:
                    self.records[key] = DialRecord(
                        campaign,
                        contact.number,
                        contact.time_zones,
                        due_at=at,
                        subdivision=contact.subdivision,
                        version=1,
                    )
        return added

    def get(self, campaign: str, number: str) -> DialRecord | None:
        return self.records.get((campaign, number))

    def due(self, campaign: str, now: datetime, limit: int) -> list[DialRecord]:
        due = [
            r for (c, _), r in self.records.items() if c == campaign and dialer_model.is_due(r, now)
        ]
        return sorted(due, key=lambda r: (r.due_at, r.number))[:limit]

    def in_flight(self, campaign: str) -> int:
        return sum(
            1
            for (c, _), r in self.records.items()
            if c == campaign and r.status in dialer_model.IN_FLIGHT
        )

    def leases_ended(self, now: datetime, limit: int) -> list[DialRecord]:
        ended = [
            r
            for r in self.records.values()
            if r.status in dialer_model.LEASED
            and r.lease_until is not None
            and r.lease_until <= now
        ]
        return sorted(ended, key=lambda r: (r.lease_until, r.ref))[:limit]

    def transition(self, before: DialRecord, after: DialRecord) -> DialRecord | None:
        with self._lock:
            key = (before.campaign, before.number)
            current = self.records.get(key)
            if current is None or current.version != before.version:
                return None
            stored = _replace(after, version=before.version + 1)
            self.records[key] = stored
            day = (
                before.campaign,
                (stored.history[-1].at if stored.history else datetime.now(UTC)).date(),
            )
            self.days.setdefault(day, Counter()).update(dialer_model.tally(before, after))
            self.writes += 1
            return stored

    def send(self, before: DialRecord, after: DialRecord, person: Seen) -> DialRecord | None:
        if self.people is None:
            raise RuntimeError("made without the people whose word the last write checks")
        now = self.people.read(before.number).recipient
        seen = person.recipient
        if (now.internal_dnc_at, now.consent.revoked_at) != (
            seen.internal_dnc_at,
            seen.consent.revoked_at,
        ):
            return None
        return self.transition(before, after)

    def statuses(self, campaign: str) -> dict[str, int]:
        return dict(Counter(r.status.value for (c, _), r in self.records.items() if c == campaign))

    def answer(self, record: DialRecord, group: dialer_model.NpsGroup, score: int | None) -> bool:
        with self._lock:
            key = (record.campaign, record.number, record.attempt)
            if key in self.answers:
                return False
            self.answers[key] = score
            day = (record.campaign, (record.claimed_at or datetime.now(UTC)).date())
            self.days.setdefault(day, Counter())[group.value] += 1
            return True

    def figures(self, campaign: str, now: datetime) -> Figures:
        total: Counter[str] = Counter()
        rolling: Counter[str] = Counter()
        since = (now - dialer_model.ROLLING).date()
        for (c, day), counts in self.days.items():
            if c == campaign:
                total.update(counts)
                if day > since:
                    rolling.update(counts)
        return Figures(dialer_model.counts_of(total), dialer_model.counts_of(rolling))


class InMemoryRecipients:
    """People's state by number; a reservation is written only on the version checked."""

    def __init__(self, copy_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self.state: dict[str, tuple[Recipient, int, tuple[str, ...]]] = {}
        self.national_dnc: set[str] = set()
        self.copy_at = copy_at  # when the national registry copy was taken

    def read(self, number: str) -> Seen:
        with self._lock:
            recipient, version, _ = self.state.get(number, (Recipient(), 0, ()))
        return Seen(
            _replace(
                recipient,
                on_national_dnc=number in self.national_dnc,
                national_dnc_copy_at=self.copy_at,
            ),
            version,
        )

    def _write(
        self,
        number: str,
        change: Callable[[Recipient, tuple[str, ...]], tuple[Recipient, tuple[str, ...]]],
    ) -> None:
        with self._lock:
            recipient, version, tokens = self.state.get(number, (Recipient(), 0, ()))
            recipient, tokens = change(recipient, tokens)
            self.state[number] = (recipient, version + 1, tokens)

    def reserve(self, number: str, seen: Seen, call: PastCall, token: str) -> bool:
        with self._lock:
            recipient, version, tokens = self.state.get(number, (Recipient(), 0, ()))
            if version != seen.version:
                return False
            calls = (*recipient.calls, call)
            self.state[number] = (_replace(recipient, calls=calls), version + 1, (*tokens, token))
            return True

    def release(self, number: str, token: str) -> None:
        def without(
            recipient: Recipient, tokens: tuple[str, ...]
        ) -> tuple[Recipient, tuple[str, ...]]:
            keep = [i for i, t in enumerate(tokens) if t != token]
            return (
                _replace(recipient, calls=tuple(recipient.calls[i] for i in keep)),
                tuple(tokens[i] for i in keep),
            )

        self._write(number, without)

    def do_not_call(self, number: str, at: datetime) -> None:
        self._write(number, lambda r, t: (_replace(r, internal_dnc_at=r.internal_dnc_at or at), t))

    def set_consent(self, number: str, consent: Consent) -> None:
        self._write(number, lambda r, t: (_replace(r, consent=consent), t))


class InMemoryCallerIds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, date]] = Counter()

    def used(self, numbers: Sequence[str], day: date) -> dict[str, int]:
        return {n: self.counts[(n, day)] for n in numbers}

    def take(self, number: str, day: date, cap: int) -> bool:
        with self._lock:
            if self.counts[(number, day)] >= cap:
                return False
            self.counts[(number, day)] += 1
            return True


class FixedStaffing:
    """(staffed, available) agents, the same in every queue; None: figures unavailable."""

    def __init__(self, staffed: int = 10, available: int = 10) -> None:
        self.agents: tuple[int, int] | None = (staffed, available)

    def floor(self, queue: str) -> tuple[int, int] | None:
        return self.agents


class InMemoryCampaigns:
    def __init__(self, *campaigns: Campaign) -> None:
        self.campaigns = {c.name: c for c in campaigns}

    def get(self, name: str) -> Campaign | None:
        return self.campaigns.get(name)

    def all(self) -> list[Campaign]:
        return list(self.campaigns.values())

    def put(self, document_json: str, at: datetime) -> None:
        from chalicelib.dialer.schema import campaign_of, read_campaign

        campaign = campaign_of(read_campaign(json.loads(document_json)))
        self.campaigns[campaign.name] = campaign

    def set_paused(self, name: str, paused: bool, at: datetime) -> Campaign | None:
        if name not in self.campaigns:
            return None
        self.campaigns[name] = _replace(self.campaigns[name], paused=paused)
        return self.campaigns[name]


class InMemoryQaRecords:
    """QA records by contact id, each write conditional on the version read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, QaRecord] = {}
        self.reasons = InMemoryReasonCounts()

    def get(self, contact_id: str) -> QaRecord | None:
        return self.records.get(contact_id)

    def put(self, before: QaRecord | None, after: QaRecord, tallies: Sequence[Tally] = ()) -> bool:
        with self._lock:
            current = self.records.get(after.contact_id)
            if (current is None) != (before is None):
                return False
            if current is not None and before is not None and current.version != before.version:
                return False
            version = 1 if before is None else before.version + 1
            self.records[after.contact_id] = _replace(after, version=version)
            for tally in tallies:
                self.reasons.add(tally)
            return True

    def awaiting(self, limit: int) -> list[QaRecord]:
        waiting = [r for r in self.records.values() if r.status is QaStatus.AWAITING and r.agent_id]
        return sorted(
            waiting, key=lambda r: (r.ended_at or datetime.min.replace(tzinfo=UTC), r.contact_id)
        )[:limit]

    def of_agent(self, agent_id: str, week: str) -> list[QaRecord]:
        return [r for r in self.records.values() if r.agent_id == agent_id and week_of(r) == week]

    def missing(self, contact_ids: Sequence[str]) -> set[str]:
        return {c for c in contact_ids if c not in self.records}

    def of_queue(self, queue: str, week: str) -> list[QaRecord]:
        return [r for r in self.records.values() if r.queue == queue and week_of(r) == week]


class InMemoryReasonCounts:
    def __init__(self) -> None:
        self.count: Counter[tuple[str, str, datetime]] = Counter()
        self.contacts: dict[tuple[str, str, datetime], list[str]] = {}
        self.alerted: set[tuple[str, str, datetime]] = set()

    def add(self, tally: Tally) -> None:
        key = (tally.scope, tally.reason, tally.bucket)
        self.count[key] += 1
        self.contacts.setdefault(key, []).append(tally.contact_id)

    def counts(self, scope: str, reason: str, buckets: Sequence[datetime]) -> dict[datetime, int]:
        found = {b: self.count[(scope, reason, b)] for b in buckets}
        return {b: n for b, n in found.items() if n}

    def active(self, bucket: datetime) -> list[tuple[str, str]]:
        return sorted({(s, r) for (s, r, b) in self.count if b == bucket})

    def examples(self, scope: str, reason: str, bucket: datetime) -> tuple[str, ...]:
        return tuple(self.contacts.get((scope, reason, bucket), [])[:5])

    def first_alert(self, scope: str, reason: str, bucket: datetime) -> bool:
        if (scope, reason, bucket) in self.alerted:
            return False
        self.alerted.add((scope, reason, bucket))
        return True

    def forget_alert(self, scope: str, reason: str, bucket: datetime) -> None:
        self.alerted.discard((scope, reason, bucket))

    def raised(self, since: datetime, until: datetime) -> list[dict[str, object]]:
        return [
            {"bucket": b.isoformat(), "scope": s, "reason": r}
            for s, r, b in sorted(self.alerted, key=lambda a: (a[2], a[0], a[1]))
            if since <= b <= until
        ]


@dataclass
class InMemoryAnalysisFiles:
    files: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)

    def read(self, key: str) -> tuple[bytes, datetime] | None:
        return self.files.get(key)


@dataclass
class KnownContacts:
    """DescribeContact's answers, by contact id."""

    contacts: dict[str, ContactSeen] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def describe(self, contact_id: str) -> ContactSeen | None:
        self.asked.append(contact_id)
        return self.contacts.get(contact_id)

    def ended(self, since: datetime, until: datetime) -> list[ContactSeen]:
        return [
            seen
            for seen in self.contacts.values()
            if seen.agent_id and seen.ended_at is not None and since <= seen.ended_at < until
        ]


@dataclass
class RubricsByQueue:
    by_queue: dict[str, Rubric] = field(default_factory=dict)  # "*" for every other queue

    def for_queue(self, queue: str) -> Rubric | None:
        return self.by_queue.get(queue) or self.by_queue.get("*")

    def named(self, name: str) -> Rubric | None:
        return next((r for r in self.by_queue.values() if r.name == name), None)


@dataclass
class RecordedInterventions:
    """Callbacks asked for, one per contact as the callbacks ledger keeps it."""

    asked: dict[str, str] = field(default_factory=dict)  # contact id -> reason
    calls: int = 0

    def call_back(self, record: QaRecord, reason: str) -> str:
        self.calls += 1
        self.asked.setdefault(record.contact_id, reason)
        return f"callback-{record.contact_id}"


@dataclass
class RecordedAlerts:
    sent: list[tuple[str, Mapping[str, object]]] = field(default_factory=list)
    failing: int = 0  # the next sends that fail, as EventBridge can

    def send(self, kind: str, detail: Mapping[str, object]) -> None:
        if self.failing:
            self.failing -= 1
            raise RuntimeError(f"EventBridge refused the {kind!r} alert")
        self.sent.append((kind, dict(detail)))

    def of(self, kind: str) -> list[Mapping[str, object]]:
        return [detail for sent, detail in self.sent if sent == kind]


class InMemoryReviews:
    """Reviews by contact id and copy, each write conditional on the version read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reviews: dict[tuple[str, int], Review] = {}

    def get(self, contact_id: str, copy: int = 1) -> Review | None:
        return self.reviews.get((contact_id, copy))

    def copies(self, contact_id: str) -> list[Review]:
        return sorted(
            (r for (c, _), r in self.reviews.items() if c == contact_id), key=lambda r: r.copy
        )

    def free(self, now: datetime, limit: int) -> list[Review]:
        free = [r for r in self.reviews.values() if r.free(now)]
        return sorted(free, key=lambda r: (r.queued_at, r.contact_id, r.copy))[:limit]

    def put(self, before: Review | None, after: Review) -> bool:
        with self._lock:
            current = self.reviews.get((after.contact_id, after.copy))
            if (current is None) != (before is None):
                return False
            if current is not None and before is not None and current.version != before.version:
                return False
            self.reviews[(after.contact_id, after.copy)] = _replace(
                after, version=1 if before is None else before.version + 1
            )
            return True

    def calibrated(self, week: str) -> list[Review]:
        from chalicelib.qa.review import CALIBRATION, ReviewStatus

        return [
            r
            for r in self.reviews.values()
            if CALIBRATION in r.reasons
            and r.status is ReviewStatus.SUBMITTED
            and r.submitted_at is not None
            and iso_week(r.submitted_at) == week
        ]


@dataclass
class QaWorld:
    """A QA service on in-memory ports, and the ports, for tests to look into."""

    service: QaService
    records: InMemoryQaRecords
    reviews: InMemoryReviews
    files: InMemoryAnalysisFiles
    contacts: KnownContacts
    rubrics: RubricsByQueue
    interventions: RecordedInterventions
    alerts: RecordedAlerts


def qa_world(clock: FixedClock, rubrics: Mapping[str, Rubric] | None = None) -> QaWorld:
    from chalicelib.qa.service import QaService, ReviewQueue

    records, reviews = InMemoryQaRecords(), InMemoryReviews()
    files, contacts = InMemoryAnalysisFiles(), KnownContacts()
    by_queue = RubricsByQueue(dict(rubrics or {}))
    interventions, alerts = RecordedInterventions(), RecordedAlerts()
    service = QaService(
        records=records,
        clock=clock,
        files=files,
        contacts=contacts,
        rubrics=by_queue,
        reviews=ReviewQueue(reviews, clock),
        interventions=interventions,
        alerts=alerts,
        reasons=records.reasons,
    )
    return QaWorld(service, records, reviews, files, contacts, by_queue, interventions, alerts)
