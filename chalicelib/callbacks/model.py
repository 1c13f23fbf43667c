"""Callbacks: the ledger's pure domain and its state machine.

A callback is dialled at most once per attempt. The attempt in hand is the outbound core's
(`outbound.model.Attempt`): claimed (QUEUED or RETRY_WAIT -> DIALING) by one conditional write
before Connect is called, DIALING and UNKNOWN are its phases, and reconciliation never sends
its call again. What is callbacks' own: how many attempts, the backoff between them, the
window, cancelling. Every non-final state carries a time at which some run looks at it again
(`due_at` while waiting, the attempt's `lease_until` in flight): nothing is stranded.
Standard library only; time comes in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from enum import Enum

# What an ended contact means, the leases and the attempt itself are the outbound core's.
from chalicelib.outbound import model as outbound
from chalicelib.outbound.model import Attempt, Leases
from chalicelib.outbound.model import Outcome as Outcome
from chalicelib.outbound.model import TransitionError as TransitionError
from chalicelib.outbound.model import ended_outcome as ended_outcome
from chalicelib.outbound.model import lawful_at as lawful_at
from chalicelib.outbound.model import next_lawful as next_lawful
from chalicelib.platform.contact import flag


class Status(Enum):
    QUEUED = "QUEUED"
    DIALING = "DIALING"
    COMPLETED = "COMPLETED"
    RETRY_WAIT = "RETRY_WAIT"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


FINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.EXPIRED, Status.CANCELLED})
WAITING = frozenset({Status.QUEUED, Status.RETRY_WAIT})
CALLBACK_FLOW = "outbound-callback"  # the contact flow a callback is dialled into (flows/)
IN_FLIGHT = frozenset({Status.DIALING, Status.UNKNOWN})  # found again through `lease_until`

# Every transition the ledger allows; anything else is a bug and raises.
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.DIALING, Status.CANCELLED, Status.EXPIRED}),
    Status.RETRY_WAIT: frozenset({Status.DIALING, Status.CANCELLED, Status.EXPIRED}),
    Status.DIALING: frozenset(
        {Status.COMPLETED, Status.RETRY_WAIT, Status.FAILED, Status.UNKNOWN, Status.CANCELLED}
    ),
    Status.UNKNOWN: frozenset(
        {
            Status.COMPLETED,
            Status.RETRY_WAIT,
            Status.FAILED,
            Status.DIALING,
            Status.UNKNOWN,  # looked at again later
            Status.CANCELLED,
        }
    ),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset(),
    Status.EXPIRED: frozenset(),
    Status.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class Policy(Leases):
    """The outbound core's leases, and what is callbacks' own: attempts, backoff, window."""

    max_attempts: int = 3
    retry_backoff: tuple[timedelta, ...] = (
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=30),
    )
    window: timedelta = timedelta(days=1)  # a request expires this long after it was due
    retention: timedelta = timedelta(days=30)  # finished records are purged after this
    calling_hours: tuple[time, time] = (time(8, 0), time(21, 0))

    def backoff(self, attempt: int) -> timedelta:
        return self.retry_backoff[min(max(attempt, 1), len(self.retry_backoff)) - 1]


@dataclass(frozen=True)
class Transition:
    status: Status
    at: datetime
    reason: str


@dataclass(frozen=True)
class Callback:
    callback_id: str
    number: str  # E.164
    queue: str
    requested_at: datetime
    due_at: datetime  # not before (a chosen slot, or a retry's backoff)
    expires_at: datetime
    time_zones: tuple[str, ...]  # the callee's, from the number
    priority: int = 5
    status: Status = Status.QUEUED
    # The attempt in hand: DIALING and UNKNOWN are its phases.
    attempt: Attempt = field(default_factory=Attempt)
    max_attempts: int = 3
    contact_id: str = ""  # the contact that asked (InitialContactId), if from the IVR
    source: str = "ivr"
    journey: str = ""
    history: tuple[Transition, ...] = ()
    version: int = 0  # the stored version this value was read at (optimistic locking)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def is_due(self, now: datetime) -> bool:
        return self.status in WAITING and self.due_at <= now < self.expires_at


def _move(
    callback: Callback, to: Status, now: datetime, reason: str, **changes: object
) -> Callback:
    if to not in TRANSITIONS[callback.status]:
        raise TransitionError(
            f"callback {callback.callback_id}: {callback.status.value} -> "
            f"{to.value} is not allowed ({reason})"
        )
    history = (*callback.history, Transition(to, now, reason))[-20:]
    return replace(callback, status=to, history=history, **changes)  # type: ignore[arg-type]


def new_callback(
    callback_id: str,
    number: str,
    queue: str,
    now: datetime,
    time_zones: Sequence[str],
    policy: Policy,
    due_at: datetime | None = None,
    **details: object,
) -> Callback:
    start = max(due_at or now, now)
    return Callback(
        callback_id=callback_id,
        number=number,
        queue=queue,
        requested_at=now,
        due_at=start,
        expires_at=start + policy.window,
        time_zones=tuple(time_zones),
        max_attempts=policy.max_attempts,
        history=(Transition(Status.QUEUED, now, "requested"),),
        **details,  # type: ignore[arg-type]
    )


def claim(callback: Callback, now: datetime, policy: Policy) -> Callback:
    """Take the next attempt: the one write that makes this worker the only dialler."""
    if not callback.is_due(now):
        raise TransitionError(f"callback {callback.callback_id} is not due")
    attempt = outbound.claim(callback.attempt, callback.callback_id, now, policy)
    if attempt.ordinal > callback.max_attempts:
        raise TransitionError(f"callback {callback.callback_id} has no attempts left")
    return _move(callback, Status.DIALING, now, f"attempt {attempt.ordinal}", attempt=attempt)


def attempt_moved(callback: Callback, attempt: Attempt, now: datetime, reason: str) -> Callback:
    """The callback after its attempt moved in flight: its status is the attempt's phase."""
    return _move(callback, Status(attempt.phase.value), now, reason, attempt=attempt)


def _ended(
    callback: Callback, to: Status, now: datetime, reason: str, **changes: object
) -> Callback:
    """Out of flight (or never in it): the attempt in hand, if any, is over."""
    attempt = outbound.over(callback.attempt) if callback.attempt.in_flight else callback.attempt
    return _move(callback, to, now, reason, attempt=attempt, **changes)


def send(callback: Callback, now: datetime) -> Callback:
    """The last write before Connect is asked to call: made after the pacer's wait and
    conditional on the version the claim wrote, so a cancel that came meanwhile wins."""
    return replace(callback, attempt=outbound.send(callback.attempt, now))


def contact_name(callback: Callback) -> str:
    """The name the attempt's contact is given, which reconciliation searches for."""
    return outbound.contact_name("callback", callback.attempt)


def record_dial(callback: Callback, contact_id: str, now: datetime, policy: Policy) -> Callback:
    """Connect started the contact: wait for its outcome for the length of a call."""
    return replace(callback, attempt=outbound.dialled(callback.attempt, contact_id, now, policy))


def _retry_or_fail(callback: Callback, now: datetime, policy: Policy, reason: str) -> Callback:
    if callback.attempt.ordinal >= callback.max_attempts:
        return _ended(callback, Status.FAILED, now, f"{reason}; no attempts left")
    due = now + policy.backoff(callback.attempt.ordinal)
    if due >= callback.expires_at:
        return _ended(callback, Status.FAILED, now, f"{reason}; no time left in the window")
    return _ended(callback, Status.RETRY_WAIT, now, reason, due_at=due)


def record_outcome(callback: Callback, outcome: Outcome, now: datetime, policy: Policy) -> Callback:
    if callback.status not in IN_FLIGHT:
        raise TransitionError(f"callback {callback.callback_id} is not waiting for an outcome")
    if outcome is Outcome.CONNECTED:
        return _ended(callback, Status.COMPLETED, now, "connected")
    if outcome is Outcome.DECLINED:
        return cancel(callback, now, "the customer asked us not to connect")
    if outcome is Outcome.UNREACHABLE:
        return rejected(callback, now, "the number cannot take a call")
    return _retry_or_fail(callback, now, policy, outcome.value)


def not_placed(
    callback: Callback, now: datetime, policy: Policy, reason: str, until: datetime | None = None
) -> Callback:
    """Connect refused before dialling (throttled, outside calling hours): same attempt again."""
    due = until or now + policy.not_placed_backoff
    if due >= callback.expires_at:
        return _ended(callback, Status.FAILED, now, f"{reason}; no time left in the window")
    attempt = outbound.not_placed(callback.attempt)
    return _move(callback, Status.RETRY_WAIT, now, reason, due_at=due, attempt=attempt)


def rejected(callback: Callback, now: datetime, reason: str) -> Callback:
    """Connect will never dial this number (not allowed, invalid): a final failure."""
    return _ended(callback, Status.FAILED, now, reason)


def look_again(
    callback: Callback, now: datetime, policy: Policy, reason: str, until: datetime | None = None
) -> Callback:
    """The outcome cannot be learned now (a throttled look-up, calling hours): UNKNOWN, looked
    at again `until` (by default a minute later). It still takes an answer meanwhile.

    Once the callback's window is over, an outcome that still cannot be learned ends it."""
    if now >= callback.expires_at and callback.status is Status.UNKNOWN:
        return _ended(callback, Status.FAILED, now, f"{reason}; outcome never learned")
    attempt = outbound.look_again(callback.attempt, until or now + policy.look_again_after)
    return attempt_moved(callback, attempt, now, reason)


def reconcile_lost(callback: Callback, now: datetime, policy: Policy) -> Callback:
    """UNKNOWN and its contact cannot be recovered: the attempt counts as used."""
    if callback.status is not Status.UNKNOWN:
        raise TransitionError(f"callback {callback.callback_id} is not unknown")
    return _retry_or_fail(callback, now, policy, "attempt lost before Connect answered")


@dataclass(frozen=True)
class Rules:
    """Callbacks' side of an attempt's outcome (`outbound.service.Rules`): attempts and
    backoff from the policy, within the callback's window."""

    policy: Policy

    def moved(self, callback: Callback, attempt: Attempt, now: datetime, reason: str) -> Callback:
        return attempt_moved(callback, attempt, now, reason)

    def ended(self, callback: Callback, outcome: Outcome, now: datetime) -> Callback:
        return record_outcome(callback, outcome, now, self.policy)

    def lost(self, callback: Callback, now: datetime) -> Callback:
        return reconcile_lost(callback, now, self.policy)

    def refused(self, callback: Callback, now: datetime, reason: str) -> Callback:
        return rejected(callback, now, reason)

    def not_placed(
        self, callback: Callback, now: datetime, reason: str, until: datetime
    ) -> Callback:
        return not_placed(callback, now, self.policy, reason, until)

    def look_again(
        self, callback: Callback, now: datetime, reason: str, until: datetime
    ) -> Callback:
        return look_again(callback, now, self.policy, reason, until)


def defer(callback: Callback, until: datetime) -> Callback:
    """A waiting callback that may not be dialled yet (calling hours): same state, later."""
    if callback.status not in WAITING:
        raise TransitionError(f"callback {callback.callback_id} is not waiting")
    if until >= callback.expires_at:
        return _move(callback, Status.EXPIRED, until, "no lawful calling time left in its window")
    return replace(callback, due_at=max(until, callback.due_at))


def cancel(callback: Callback, now: datetime, reason: str = "cancelled by the caller") -> Callback:
    return _ended(callback, Status.CANCELLED, now, reason)


def expire(callback: Callback, now: datetime) -> Callback:
    if now < callback.expires_at:
        raise TransitionError(f"callback {callback.callback_id} has not expired")
    return _move(callback, Status.EXPIRED, now, "not reached within its window")


# -- requests per number ---------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """What creating a callback is charged to: at most `limit` per key in a fixed window.

    The charge is written with the callback, in one transaction: a request that creates
    nothing (a retry that finds its callback, a race lost to it) is never charged."""

    key: str
    limit: int
    window_ends: datetime


def hourly_allowance(number: str, now: datetime, limit: int) -> Allowance:
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Allowance(f"number:{number}#{start:%Y%m%dT%H}", limit, start + timedelta(hours=1))


# -- the caller's view ------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a callback stands, for the caller and the website."""

    callback: Callback
    position: int  # 1 = next; 0 when it is not waiting
    eta_minutes: int | None = None
    existing: bool = False  # a duplicate request found this one
    # Cancelled while a call already sent for it may still ring (the cancel stops the rest).
    call_in_progress: bool = False

    def attributes(self) -> dict[str, str]:
        callback = self.callback
        waiting = callback.status in WAITING
        return {
            "result": "ok",
            "callback_id": callback.callback_id,
            "callback_status": callback.status.value,
            "callback_queue": callback.queue,
            "callback_position": str(self.position) if waiting else "",
            "callback_eta_minutes": ""
            if self.eta_minutes is None or not waiting
            else str(self.eta_minutes),
            "callback_existing": flag(self.existing),
        }


def eta_minutes(
    position: int, due_at: datetime, now: datetime, handle_seconds: int, agents: int
) -> int:
    """Rough wait: the callbacks ahead shared by the agents, never before the chosen slot."""
    queue_wait = timedelta(seconds=position * handle_seconds / max(agents, 1))
    wait = max(queue_wait, due_at - now)
    return max(1, round(wait.total_seconds() / 60))


def replace_version(callback: Callback, version: int) -> Callback:
    return replace(callback, version=version)
