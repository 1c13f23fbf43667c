"""Outbound calls, pure: what a call asks Connect for, what can go wrong placing it, what an
ended contact means, and the token bucket that paces StartOutboundVoiceContact.

Every outbound capability (callbacks today, the dialer next) uses these; none keeps its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

# Set on every contact we place: the flow, DescribeContact and the contact record see who
# placed it. Contact events do not carry attributes, so the same owner is also kept by contact
# id (a `Route`), which is how an event finds its way back.
OWNER_ATTRIBUTE = "switchboard_owner"
_CONTACT_ID = re.compile(r"^[A-Za-z0-9-]{1,256}$")


@dataclass(frozen=True)
class OutboundCall:
    """One StartOutboundVoiceContact request. `token` is the attempt's ClientToken: sent
    again while its contact is going, Connect starts nothing and answers that contact."""

    number: str
    flow_id: str
    queue_id: str
    token: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    traffic_type: str = "GENERAL"
    owner: str = ""  # the capability placing it ("callbacks", "dialer")
    ref: str = ""  # the owner's id for what is being called (a callback id)
    attempt: int = 0
    source_number: str = ""  # the caller ID shown; "" for the queue's outbound number
    name: str = ""  # the contact's name: unique per attempt, it finds a contact by search
    answering_machine_detection: bool = False  # needs traffic_type CAMPAIGN

    def route(self) -> Route:
        return Route(self.owner, self.ref, self.attempt)

    def contact_attributes(self) -> dict[str, str]:
        return (
            {**self.attributes, OWNER_ATTRIBUTE: self.owner} if self.owner else {**self.attributes}
        )


@dataclass(frozen=True)
class Route:
    """Who placed a contact, and for what: where its outcome is delivered."""

    owner: str
    ref: str
    attempt: int


@dataclass(frozen=True)
class Leases:
    """How long an attempt is left alone before reconciliation looks at it."""

    # A claim whose contact id is not written within this was lost (the worker died, or
    # Connect's answer never came): reconciliation searches for its contact soon after.
    placement: timedelta = timedelta(seconds=30)
    # Connect rings for up to 60 s; the lease covers the ring, the flow and a margin.
    lease: timedelta = timedelta(minutes=3)
    # An outcome we could not learn (Connect throttled the look-up) is looked for again.
    look_again_after: timedelta = timedelta(minutes=1)
    # Connect refused before dialling (throttled): the same attempt, this much later.
    not_placed_backoff: timedelta = timedelta(seconds=30)


# -- one attempt's state machine: the same for every owner ------------------------------------


class Phase(Enum):
    """Where an attempt stands. An owner's own states (a callback's QUEUED, a campaign
    record's READY, ...) are all IDLE here; its DIALING and UNKNOWN are these two."""

    IDLE = "IDLE"  # no call in flight: waiting for the next claim, or finished
    DIALING = "DIALING"  # claimed: one worker may send its call, then wait for its outcome
    UNKNOWN = "UNKNOWN"  # the lease ended with no outcome: reconciliation settles it


# Every change of phase an attempt may make; anything else is a bug and raises. (Sending,
# learning the contact id and looking again later change the attempt within its phase.)
PHASES: Mapping[Phase, frozenset[Phase]] = {
    Phase.IDLE: frozenset({Phase.DIALING}),
    Phase.DIALING: frozenset({Phase.UNKNOWN, Phase.IDLE}),
    Phase.UNKNOWN: frozenset({Phase.DIALING, Phase.IDLE}),
}


class TransitionError(ValueError):
    """A move a state machine does not allow from where it stands: an attempt's, or its
    owner's (callbacks and the dialer raise this one too)."""


@dataclass(frozen=True)
class Attempt:
    """The attempt in hand of a callback or a campaign record: dialled at most once.

    It is claimed (IDLE -> DIALING) by the owner's one conditional write before anything is
    checked or dialled; `sent_at` is set by the owner's last write before the call, and the
    contact id once Connect answers. Every attempt in flight carries `lease_until`, when
    some run looks at it again: nothing is stranded."""

    ordinal: int = 0  # attempts claimed so far; the current one's number (1 for the first)
    token: str = ""  # the current attempt's ClientToken
    phase: Phase = Phase.IDLE
    claimed_at: datetime | None = None
    lease_until: datetime | None = None
    contact_id: str = ""  # the contact Connect started for it; "" until known
    # When the last write before StartOutboundVoiceContact was made; None while nothing has
    # been sent, which is what lets a stop still stop it.
    sent_at: datetime | None = None
    same_again: bool = False  # the last claim placed no call: the next claim re-uses it

    @property
    def in_flight(self) -> bool:
        return self.phase is not Phase.IDLE

    @property
    def call_in_progress(self) -> bool:
        """A call was sent and its outcome is not known: a stop now stops every later
        attempt, but not the call that is ringing."""
        return self.in_flight and self.sent_at is not None

    def is_current(self, ordinal: int, contact_id: str) -> bool:
        """An event of attempt `ordinal`'s contact is about this attempt, still in flight."""
        return self.in_flight and self.ordinal == ordinal and self.contact_id in ("", contact_id)

    def route(self, owner: str, ref: str) -> Route:
        return Route(owner, ref, self.ordinal)


def _go(attempt: Attempt, to: Phase, **changes: object) -> Attempt:
    if to not in PHASES[attempt.phase]:
        raise TransitionError(f"attempt {attempt.ordinal}: {attempt.phase.value} -> {to.value}")
    return replace(attempt, phase=to, **changes)  # type: ignore[arg-type]


def _require(attempt: Attempt, *phases: Phase) -> None:
    if attempt.phase not in phases:
        names = " or ".join(p.value for p in phases)
        raise TransitionError(f"attempt {attempt.ordinal} is {attempt.phase.value}, not {names}")


def claim(attempt: Attempt, ref: str, now: datetime, leases: Leases) -> Attempt:
    """The next attempt, or the same one again when the last claim placed no call. Its
    token is one per attempt, so a request Connect sees twice (a retry inside the SDK)
    starts one contact."""
    _require(attempt, Phase.IDLE)
    ordinal = attempt.ordinal if attempt.same_again else attempt.ordinal + 1
    return _go(
        attempt,
        Phase.DIALING,
        ordinal=ordinal,
        token=f"{ref}-{ordinal}",
        claimed_at=now,
        lease_until=now + leases.placement,
        contact_id="",
        sent_at=None,
        same_again=False,
    )


def send(attempt: Attempt, now: datetime) -> Attempt:
    """The owner's last write before Connect is asked to call (after the pacer's wait)."""
    _require(attempt, Phase.DIALING)
    if attempt.sent_at is not None:
        raise TransitionError(f"attempt {attempt.ordinal} was sent already")
    return replace(attempt, sent_at=now)


def dialled(attempt: Attempt, contact_id: str, now: datetime, leases: Leases) -> Attempt:
    """Connect started the contact: wait for its outcome for the length of a call."""
    _require(attempt, Phase.DIALING)
    return replace(attempt, contact_id=contact_id, lease_until=now + leases.lease)


def lease_expired(attempt: Attempt, now: datetime) -> Attempt:
    """DIALING heard nothing in time: UNKNOWN, looked at straight away."""
    _require(attempt, Phase.DIALING)
    if attempt.lease_until is None or now < attempt.lease_until:
        raise TransitionError(f"attempt {attempt.ordinal}: lease still held")
    return _go(attempt, Phase.UNKNOWN, lease_until=now)


def still_going(attempt: Attempt, now: datetime, leases: Leases) -> Attempt:
    """UNKNOWN, but Connect says the contact is in progress: wait another lease."""
    _require(attempt, Phase.UNKNOWN)
    return _go(attempt, Phase.DIALING, lease_until=now + leases.lease)


def found(attempt: Attempt, contact_id: str, now: datetime, leases: Leases) -> Attempt:
    """UNKNOWN with no contact id: the search by the call's name found its contact."""
    _require(attempt, Phase.UNKNOWN)
    return _go(attempt, Phase.DIALING, contact_id=contact_id, lease_until=now + leases.lease)


def look_again(attempt: Attempt, until: datetime) -> Attempt:
    """Nothing can be learned now (a throttled look-up, a search that lags): stay UNKNOWN,
    looked at again at `until`. An outcome that arrives meanwhile is still taken."""
    _require(attempt, Phase.UNKNOWN)
    return replace(attempt, lease_until=until)


def not_placed(attempt: Attempt) -> Attempt:
    """No call went out (throttled, outside the window, a worker that stopped before its
    last write): the attempt is not spent; the next claim takes it again."""
    _require(attempt, Phase.DIALING, Phase.UNKNOWN)
    return _go(attempt, Phase.IDLE, lease_until=None, same_again=True)


def over(attempt: Attempt, contact_id: str = "") -> Attempt:
    """The attempt is spent (it ended, was lost or refused) or its owner stopped it.
    `contact_id`, the contact its outcome came from, is kept when none was written (the
    placing worker died after Connect's answer)."""
    _require(attempt, Phase.DIALING, Phase.UNKNOWN)
    return _go(attempt, Phase.IDLE, lease_until=None, contact_id=attempt.contact_id or contact_id)


def contact_name(label: str, attempt: Attempt) -> str:
    """The name an attempt's contact is given: unique per attempt (its token's digest), so
    reconciliation finds a contact whose id was never written by searching for it, and free
    of the number, since agents see it."""
    digest = hashlib.sha256(attempt.token.encode()).hexdigest()[:12]
    return f"{label} #{attempt.ordinal} {digest}"


class DialNotPlacedError(Exception):
    """Connect refused before dialling (throttled, over a limit): safe to try the attempt again."""


class DialRejectedError(Exception):
    """Connect will never dial this (destination not allowed, invalid number)."""


class DialUncertainError(Exception):
    """We cannot tell whether Connect placed the call (timeout, internal error)."""


class DialStoppedError(Exception):
    """The owner's last write before the call found the attempt stopped since its claim (a
    cancel, a do-not-call, another worker's move): nothing was sent to Connect."""


class Outcome(Enum):
    """What became of a dial."""

    CONNECTED = "connected"  # the customer answered and took the call
    DECLINED = "declined"  # the customer answered and asked us not to connect
    NO_ANSWER = "no_answer"  # rang out, or answered and hung up before taking the call
    BUSY = "busy"  # answering-machine detection heard a busy tone
    VOICEMAIL = "voicemail"  # answering-machine detection heard a voicemail greeting
    DIAL_FAILED = "dial_failed"  # the network or Connect could not complete the call
    UNREACHABLE = "unreachable"  # the number cannot take a call (invalid, a fax): never retry


# Contact records' DisconnectReason for calls the network or Connect failed to place
# (../shared/reference/connect-contract.md §4: "re-dial with a new client token").
_DIAL_FAILURES = frozenset(
    {
        "OUTBOUND_DESTINATION_ENDPOINT_ERROR",
        "OUTBOUND_RESOURCE_ERROR",
        "OUTBOUND_ATTEMPT_FAILED",
        "TELECOM_PROBLEM",
        "EXPIRED",
    }
)
# AnsweringMachineDetectionStatus values (present only on calls with answering-machine
# detection, that is TrafficType=CAMPAIGN); the others say nothing beyond the disconnect reason.
_BY_AMD_STATUS = {
    "VOICEMAIL_BEEP": Outcome.VOICEMAIL,
    "VOICEMAIL_NO_BEEP": Outcome.VOICEMAIL,
    "SIT_TONE_BUSY": Outcome.BUSY,
    "SIT_TONE_INVALID_NUMBER": Outcome.UNREACHABLE,
    "FAX_MACHINE_DETECTED": Outcome.UNREACHABLE,
    "AMD_UNANSWERED": Outcome.NO_ANSWER,
}


def ended_outcome(
    connected_to_agent: object, disconnect_reason: str, amd_status: str = ""
) -> Outcome:
    """What an ended outbound contact means, from Connect's own DisconnectReason and
    AnsweringMachineDetectionStatus values."""
    if connected_to_agent:
        return Outcome.CONNECTED
    by_amd = _BY_AMD_STATUS.get(amd_status.upper())
    if by_amd is not None:
        return by_amd
    if disconnect_reason.upper() in _DIAL_FAILURES:
        return Outcome.DIAL_FAILED
    # CUSTOMER_DISCONNECT, CONTACT_FLOW_DISCONNECT, CUSTOMER_CONNECTION_NOT_ESTABLISHED, ...:
    # the customer was not put through to an agent, so the callback is not done.
    return Outcome.NO_ANSWER


@dataclass(frozen=True)
class ContactEnded:
    """An outbound contact of ours has ended, as its owner receives it."""

    contact_id: str
    outcome: Outcome
    route: Route


def ended_contact(detail: Mapping[str, object]) -> tuple[str, Outcome] | None:
    """The contact id and outcome a DISCONNECTED contact event reports; None for any other
    event, or one whose contact id could not be one we placed."""
    contact_id = detail.get("contactId")
    if detail.get("eventType") != "DISCONNECTED":
        return None
    if not isinstance(contact_id, str) or not _CONTACT_ID.match(contact_id):
        return None
    agent_info = detail.get("agentInfo")
    agent: Mapping[str, object] = agent_info if isinstance(agent_info, Mapping) else {}
    outcome = ended_outcome(
        agent.get("connectedToAgentTimestamp"),
        str(detail.get("disconnectReason", "")),
        str(detail.get("answeringMachineDetectionStatus", "")),
    )
    return contact_id, outcome


# -- pacing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenBucket:
    """`tokens` left at `at` (seconds); refills at `rate` a second up to `burst`."""

    tokens: float
    at: float

    def take(self, now: float, rate: float, burst: int) -> tuple[TokenBucket, float]:
        """Take one token at `now`: the bucket after, and how long to wait first (0 = go).

        A wait is a token taken on credit: the caller sleeps, then calls, and the next taker
        waits behind it. Time going backwards (another host's clock) refills nothing."""
        elapsed = max(0.0, now - self.at)
        tokens = min(float(burst), self.tokens + elapsed * rate) - 1
        wait = 0.0 if tokens >= 0 else -tokens / rate
        return TokenBucket(tokens, max(now, self.at)), wait


# -- calling hours: every capability that calls people checks them here -----------------------


def lawful_at(moment: datetime, time_zones: Sequence[str], hours: tuple[time, time]) -> bool:
    """Inside calling hours in every time zone the number may be in (the strictest wins)."""
    start, end = hours
    return bool(time_zones) and all(
        start <= moment.astimezone(ZoneInfo(zone)).time() < end for zone in time_zones
    )


def next_lawful(moment: datetime, time_zones: Sequence[str], hours: tuple[time, time]) -> datetime:
    """The first instant, on a 5-minute grid, when calling is lawful in every zone."""
    candidate = moment.replace(second=0, microsecond=0)
    for _ in range(2 * 24 * 12):  # two days of 5-minute steps always holds a lawful moment
        if lawful_at(candidate, time_zones, hours):
            return candidate
        candidate += timedelta(minutes=5)
    raise ValueError(f"no lawful calling time in {', '.join(time_zones)}")
