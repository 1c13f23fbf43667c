"""Outbound calls, pure: what a call asks Connect for, what can go wrong placing it, what an
ended contact means, and the token bucket that paces StartOutboundVoiceContact.

Every outbound capability (callbacks today, the dialer next) uses these; none keeps its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


def next_attempt(attempt: int, same_again: bool) -> int:
    """The attempt a claim takes: the same one when the last claim placed no call."""
    return attempt if same_again else attempt + 1


def attempt_token(ref: str, attempt: int) -> str:
    """The attempt's ClientToken: one per attempt, so a request Connect sees twice (a retry
    inside the SDK) starts one contact."""
    return f"{ref}-{attempt}"


def contact_name(label: str, attempt: int, token: str) -> str:
    """The name an attempt's contact is given: unique per attempt (its token's digest), so
    reconciliation finds a contact whose id was never written by searching for it, and free
    of the number, since agents see it."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:12]
    return f"{label} #{attempt} {digest}"


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
