"""Callback use cases: request, status, cancel, dispatch, outcomes and reconciliation.

All state changes go through `CallbackLedger.transition`, a conditional write on the version
that was read: two workers can race for a callback, only one wins, and the loser moves on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.callbacks import model
from chalicelib.callbacks.model import Callback, Outcome, Policy, Standing, Status
from chalicelib.outbound.model import DialNotPlacedError as DialNotPlacedError
from chalicelib.outbound.model import DialRejectedError as DialRejectedError
from chalicelib.outbound.model import DialUncertainError as DialUncertainError
from chalicelib.outbound.service import (
    Commit,
    ContactFinder,
    ContactLookup,
    LastWrite,
    NotPlaced,
    Placed,
    Refused,
    Stopped,
    Uncertain,
    lease_ended,
    place,
    settle,
    settled,
)
from chalicelib.platform.clock import Clock
from chalicelib.platform.hours import Hours
from chalicelib.platform.phone import NumberKind, normalise, region_of, time_zones

OWNER = "callbacks"  # the owner the outbound core routes our contacts' events to (capability)
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MAX_JOURNEY = 1000


class CallbackError(ValueError):
    """A request we refuse; `field` names what is wrong, `code` is for the flow and the API."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field = code, field


class AllowanceUsedError(Exception):
    """Creating the callback would go over its allowance; nothing was written."""


@dataclass(frozen=True)
class Holders:
    """The active callbacks holding a number in a queue, and an asking contact."""

    of_number: Callback | None = None
    of_contact: Callback | None = None


class CallbackLedger(Protocol):
    def create(
        self, callback: Callback, supersedes: Callback | None, allowance: model.Allowance
    ) -> tuple[Callback, bool]:
        """Store a new callback unless (number, queue) already has an active one, which is
        returned instead (created=False). `supersedes` is cancelled and the allowance charged
        in the same transaction; AllowanceUsedError if it is used up."""
        ...

    def holders(self, number: str, queue: str, contact_id: str) -> Holders:
        """Who holds (number, queue) and the contact (if not ""), in one read."""
        ...

    def get(self, callback_id: str) -> Callback | None: ...

    def active_for_number(self, number: str) -> Sequence[Callback]: ...

    def by_outbound_contact(self, contact_id: str) -> Callback | None: ...

    def due(self, queue: str, now: datetime, limit: int) -> Sequence[Callback]:
        """Waiting callbacks due by `now`, best first (priority, due time, request time)."""
        ...

    def position(self, callback: Callback) -> int: ...

    def leases_ended(self, now: datetime, limit: int) -> Sequence[Callback]: ...

    def transition(self, before: Callback, after: Callback) -> Callback | None:
        """Write `after` if the stored callback is still `before`; None if someone else won."""
        ...


class Dialer(Protocol):
    def dial(self, callback: Callback, commit: Commit) -> str:
        """Start the outbound call (ClientToken = the attempt's token); the contact id.
        `commit` is made after the pacer's wait, and the call is sent only if it is written.

        The call carries the attempt's name (`model.contact_name`): a contact whose id is lost
        is found by it, never by calling again."""
        ...


class Agents(Protocol):
    def available(self, queues: Sequence[str]) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class QueueSettings:
    hours: Hours
    handle_seconds: int = 300


@dataclass
class DispatchReport:
    dialled: list[str] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)  # Connect may have placed these
    deferred: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)  # cancelled after the claim: not called
    lost_races: int = 0
    left_for_next_run: int = 0  # due, with an agent free, but over this run's dial budget

    def placed(self) -> int:
        """Calls that may be ringing now: each one holds an agent."""
        return len(self.dialled) + len(self.uncertain)

    def merge(self, other: DispatchReport) -> None:
        for name in ("dialled", "uncertain", "deferred", "expired", "failed", "stopped"):
            getattr(self, name).extend(getattr(other, name))
        self.lost_races += other.lost_races
        self.left_for_next_run += other.left_for_next_run


@dataclass(frozen=True)
class CallbackService:
    ledger: CallbackLedger
    dialer: Dialer
    agents: Agents
    contacts: ContactLookup
    clock: Clock
    queues: Mapping[str, QueueSettings]
    new_id: IdFactory
    search: ContactFinder
    policy: Policy = field(default_factory=Policy)
    countries: frozenset[str] = frozenset({"US", "CA"})
    default_country: str = "US"
    requests_per_hour: int = 5  # callbacks created per number, across every source

    # -- requests ----------------------------------------------------------------------------

    def _number(self, raw: object) -> str:
        number = normalise(raw, self.default_country)
        if number.kind is not NumberKind.VALID:
            raise CallbackError(
                "invalid_number", "number", "the number is not a valid phone number"
            )
        region = region_of(number.e164)
        if region not in self.countries:
            raise CallbackError(
                "unsupported_country",
                "number",
                f"we do not call back numbers in {region or 'that country'}",
            )
        return number.e164

    def _slot(self, queue: str, slot: datetime | None, now: datetime) -> datetime | None:
        if slot is None:
            return None
        if slot.tzinfo is None:
            raise CallbackError("invalid_slot", "slot", "the slot needs a time zone")
        if slot < now - timedelta(minutes=1):
            raise CallbackError("slot_in_past", "slot", "the slot is in the past")
        if slot > now + timedelta(days=14):
            raise CallbackError("slot_too_far", "slot", "the slot is more than 14 days away")
        if not self.queues[queue].hours.is_open(slot):
            raise CallbackError("slot_outside_hours", "slot", "the queue is closed at that time")
        return slot

    def request(
        self,
        raw_number: object,
        queue: str,
        *,
        contact_id: str = "",
        source: str = "ivr",
        journey: str = "",
        slot: datetime | None = None,
        priority: int = 5,
    ) -> Standing:
        now = self.clock.now()
        if queue not in self.queues:
            raise CallbackError("unknown_queue", "queue", f"there is no queue {queue!r}")
        if contact_id and not _ID.match(contact_id):
            raise CallbackError("invalid_contact", "contact_id", "the contact id is malformed")
        if not 1 <= priority <= 10:
            raise CallbackError("invalid_priority", "priority", "priority must be 1 to 10")
        number = self._number(raw_number)
        held = self.ledger.holders(number, queue, contact_id)
        # A retried request (Connect's hook retry, a double click) gets its callback back.
        if held.of_number is not None:
            return self._standing(held.of_number, existing=True)
        zones = time_zones(number)
        try:
            model.next_lawful(now, zones, self.policy.calling_hours)
        except ValueError as error:
            raise CallbackError(
                "no_calling_window",
                "number",
                "no time of day is within calling hours everywhere this number may be",
            ) from error
        due = self._slot(queue, slot, now)
        callback = model.new_callback(
            self.new_id(),
            number,
            queue,
            now,
            zones,
            self.policy,
            due,
            priority=priority,
            contact_id=contact_id,
            source=source,
            journey=journey[:MAX_JOURNEY],
        )
        allowance = model.hourly_allowance(number, now, self.requests_per_hour)
        try:
            stored, created = self.ledger.create(callback, held.of_contact, allowance)
        except AllowanceUsedError as error:
            raise CallbackError(
                "rate_limited", "number", "too many callback requests for this number; try later"
            ) from error
        return self._standing(stored, existing=not created)

    def _standing(self, callback: Callback, existing: bool = False) -> Standing:
        if callback.status not in model.WAITING:
            return Standing(callback, 0, None, existing)
        position = self.ledger.position(callback)
        handle = (
            self.queues[callback.queue].handle_seconds if callback.queue in self.queues else 300
        )
        eta = model.eta_minutes(position, callback.due_at, self.clock.now(), handle, 1)
        return Standing(callback, position, eta, existing)

    # -- status and cancel -------------------------------------------------------------------

    def status(self, callback_id: str) -> Standing | None:
        callback = self.ledger.get(callback_id) if _ID.match(callback_id) else None
        return self._standing(callback) if callback else None

    def status_for_number(self, raw_number: object) -> Standing | None:
        number = normalise(raw_number, self.default_country)
        if number.kind is not NumberKind.VALID:
            return None
        active = sorted(self.ledger.active_for_number(number.e164), key=lambda c: c.requested_at)
        return self._standing(active[0]) if active else None

    def cancel(self, callback_id: str, reason: str = "cancelled by the caller") -> Standing | None:
        for _ in range(3):
            callback = self.ledger.get(callback_id) if _ID.match(callback_id) else None
            if callback is None:
                return None
            if callback.final:
                return self._standing(callback)
            # Conditional on the version read: it wins over a dispatcher's last write before
            # the call (model.send), or loses to it and reads the callback again.
            written = self.ledger.transition(
                callback, model.cancel(callback, self.clock.now(), reason)
            )
            if written is not None:
                return replace(
                    self._standing(written), call_in_progress=callback.attempt.call_in_progress
                )
        raise CallbackError("busy", "callback_id", "the callback kept changing; try again")

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, max_dials: int | None = None) -> DispatchReport:
        """Dial what is due: per queue, at most one call per free agent of that queue, and at
        most `max_dials` in all (what the run's time allows at the paced rate: a run cut off
        by its timeout would leave its claims to reconciliation); the due callbacks over that
        budget are counted for the next run."""
        report = DispatchReport()
        free = self.agents.available(sorted(self.queues))
        budget = max_dials if max_dials is not None else sum(free.values())
        for queue in sorted(self.queues):
            if free.get(queue, 0) <= 0:
                continue
            room = budget - report.placed()
            agents = min(free[queue], max(room, 0))
            if agents:
                self._dispatch_queue(queue, agents, report)
            report.left_for_next_run += self._left(queue, free[queue] - agents)
        return report

    def _left(self, queue: str, unserved_agents: int) -> int:
        if unserved_agents <= 0:
            return 0
        due = self.ledger.due(queue, self.clock.now(), limit=unserved_agents)
        return sum(1 for c in due if c.is_due(self.clock.now()))

    def _dispatch_queue(self, queue: str, agents: int, report: DispatchReport) -> None:
        now = self.clock.now()
        share = DispatchReport()  # this queue's part of the run
        for callback in self.ledger.due(queue, now, limit=agents * 2):
            if share.placed() >= agents:
                break
            if now >= callback.expires_at:
                self._write(callback, model.expire(callback, now), share.expired, share)
            elif not model.lawful_at(now, callback.time_zones, self.policy.calling_hours):
                later = model.next_lawful(now, callback.time_zones, self.policy.calling_hours)
                self._write(callback, model.defer(callback, later), share.deferred, share)
            else:
                self._attempt(callback, share)
        report.merge(share)

    def _write(
        self, before: Callback, after: Callback, bucket: list[str], report: DispatchReport
    ) -> Callback | None:
        written = self.ledger.transition(before, after)
        if written is None:
            report.lost_races += 1
        else:
            bucket.append(after.callback_id)
        return written

    def _attempt(self, callback: Callback, report: DispatchReport) -> None:
        now = self.clock.now()
        claimed = self.ledger.transition(callback, model.claim(callback, now, self.policy))
        if claimed is None:
            report.lost_races += 1
            return
        # Re-check on fresh data after the claim: the rules hold at the moment we dial.
        if not model.lawful_at(self.clock.now(), claimed.time_zones, self.policy.calling_hours):
            later = model.next_lawful(now, claimed.time_zones, self.policy.calling_hours)
            self._write(
                claimed,
                model.not_placed(claimed, now, self.policy, "outside calling hours", later),
                report.deferred,
                report,
            )
            return
        self._dial(claimed, report)

    def _dial(self, claimed: Callback, report: DispatchReport) -> None:
        commit = LastWrite(
            lambda: self.ledger.transition(claimed, model.send(claimed, self.clock.now()))
        )
        placement = place(lambda: self.dialer.dial(claimed, commit))
        claimed = commit.latest(claimed)
        now, policy = self.clock.now(), self.policy
        match placement:
            case Placed(contact_id):
                after = model.record_dial(claimed, contact_id, now, policy)
                self._write(claimed, after, report.dialled, report)
            case NotPlaced(reason):
                after = model.not_placed(claimed, now, policy, reason)
                self._write(claimed, after, report.deferred, report)
            case Refused(reason):
                self._write(claimed, model.rejected(claimed, now, reason), report.failed, report)
            case Uncertain():
                # Leave it DIALING: when the lease ends, reconciliation searches for its name.
                report.uncertain.append(claimed.callback_id)
            case Stopped():
                # A cancel (or another worker) moved it during the pacer's wait: not called.
                report.stopped.append(claimed.callback_id)

    # -- outcomes ----------------------------------------------------------------------------

    def record_outcome(
        self, outbound_contact_id: str, outcome: Outcome, *, callback_id: str = "", attempt: int = 0
    ) -> Callback | None:
        """An outcome from a contact event or the callback flow; unknown contacts are ignored.

        The callback flow also knows the contact's own attributes (`callback_id` and
        `callback_attempt`, set when it was dialled): with them, an answer is recorded even
        when the worker that dialled died before writing the contact id."""
        for _ in range(3):
            callback = self.ledger.by_outbound_contact(outbound_contact_id) or self._dialled_as(
                callback_id, attempt, outbound_contact_id
            )
            if callback is None or callback.status not in model.IN_FLIGHT:
                return callback
            now = self.clock.now()
            after = model.record_outcome(callback, outcome, now, self.policy)
            written = self.ledger.transition(callback, after)
            if written is not None:
                return written
        return None

    def _dialled_as(self, callback_id: str, attempt: int, contact_id: str) -> Callback | None:
        callback = self.ledger.get(callback_id) if callback_id and _ID.match(callback_id) else None
        if callback is None or not callback.attempt.is_current(attempt, contact_id):
            return None
        return callback

    def reconcile(self, limit: int = 100) -> list[Callback]:
        """Settle what is in flight past its lease: DIALING becomes UNKNOWN, then UNKNOWN is
        looked up, searched for by its name, or looked at again later; its call is never
        sent again (ADR 0009). A run that dies between the two writes leaves an UNKNOWN
        that the next run finds the same way."""
        settled_now = []
        now, rules = self.clock.now(), model.Rules(self.policy)
        for callback in self.ledger.leases_ended(now, limit):
            unknown: Callback | None = callback
            if callback.status is Status.DIALING:
                unknown = self.ledger.transition(callback, lease_ended(callback, now, rules))
            if unknown is None or unknown.status is not Status.UNKNOWN:
                continue
            settlement = settle(
                unknown.attempt,
                now,
                self.contacts,
                self.search,
                model.contact_name(unknown),
                unknown.attempt.route(OWNER, unknown.callback_id),
            )
            moved = settled(unknown, settlement, now, rules, self.policy)
            settled_now.append(self.ledger.transition(unknown, moved) or unknown)
        return settled_now


class IdFactory(Protocol):
    def __call__(self) -> str: ...
