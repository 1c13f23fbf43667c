"""What every dialling capability does with an attempt once it has claimed it: place the call,
and settle an attempt whose lease ended with no outcome. Pure over ports; each capability
turns the answer into a move of its own state machine (callbacks: `callbacks.service`).

Settling never sends a call again. A known contact is looked up; an attempt whose last write
before the call was never made had no call, and is not spent (`Unsent`); one whose contact id
was never written is searched for by the name the call was given, which is unique to the
attempt (`outbound.model.contact_name`). Replaying the attempt's ClientToken is not a way to
learn it: once the first contact has ended, Connect starts a new call for the same token, a
second call of one attempt (ADR 0009).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from chalicelib.outbound import model
from chalicelib.outbound.model import (
    Attempt,
    DialNotPlacedError,
    DialRejectedError,
    DialStoppedError,
    DialUncertainError,
    Leases,
    Outcome,
    Route,
)

T = TypeVar("T")


class Attempted(Protocol):
    """An item dialled by attempts (a callback, a campaign record): it holds its attempt."""

    @property
    def attempt(self) -> Attempt: ...


Item = TypeVar("Item", bound=Attempted)


class Commit(Protocol):
    def __call__(self) -> bool:
        """The owner's last write before Connect is asked to call, conditional on the state a
        cancel or a do-not-call writes: True when written (the call goes out now), False when
        the attempt was stopped or moved since its claim (nothing is sent)."""
        ...


class ContactFinder(Protocol):
    def find(self, name: str, since: datetime, until: datetime) -> str | None:
        """The id of the contact with this name started in [since, until]; None if none is
        found (yet); any error when the search itself failed."""
        ...

    def adopt(self, contact_id: str, route: Route) -> None:
        """Deliver the events of a contact found by search to its owner (best effort)."""
        ...


class ContactLookup(Protocol):
    def outcome(self, contact_id: str) -> Outcome | None:
        """What became of the contact; None while it is still going; KeyError if Connect
        does not know it; any other error when the look-up itself failed (try later)."""
        ...


# -- placing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    contact_id: str


@dataclass(frozen=True)
class NotPlaced:
    """Connect refused before dialling (throttled, over a limit): the same attempt again."""

    reason: str


@dataclass(frozen=True)
class Refused:
    """Connect will never place this call (destination not allowed, invalid number)."""

    reason: str


@dataclass(frozen=True)
class Uncertain:
    """Connect may have placed it: leave the attempt in flight for reconciliation."""

    reason: str


@dataclass(frozen=True)
class Stopped:
    """The attempt was stopped after its claim (its last write before the call failed its
    condition): nothing was sent, and whoever stopped it has already moved it on."""

    reason: str


Placement = Placed | NotPlaced | Refused | Uncertain | Stopped


def place(dial: Callable[[], str]) -> Placement:
    """Send the attempt's call (`dial` returns the contact id or raises a Dial*Error).

    Between the claim and the call lies the pacer's wait, in which a caller can cancel or
    say "do not call me". So `dial` makes the owner's last write (`Commit`) after the wait
    and immediately before StartOutboundVoiceContact, conditional on the state a stop
    writes; when it fails, nothing is sent (`Stopped`)."""
    try:
        return Placed(dial())
    except DialNotPlacedError as error:
        return NotPlaced(str(error))
    except DialRejectedError as error:
        return Refused(str(error))
    except DialUncertainError as error:
        return Uncertain(str(error))
    except DialStoppedError as error:
        return Stopped(str(error))


class LastWrite(Generic[T]):
    """A `Commit` made of one conditional write that answers the value written (None when its
    condition failed), keeping that value: every later write of the attempt starts from it."""

    def __init__(self, write: Callable[[], T | None]) -> None:
        self._write = write
        self.written: T | None = None

    def __call__(self) -> bool:
        self.written = self._write()
        return self.written is not None

    def latest(self, before: T) -> T:
        """What the attempt's next write starts from: the last write's value once made."""
        return before if self.written is None else self.written


def commit_or_stop(commit: Commit) -> None:
    """Make the owner's last write; raise unless the call may now be sent."""
    try:
        written = commit()
    except Exception as error:  # the write failed, so nothing is sent: the attempt is unspent
        raise DialNotPlacedError(f"last write before the call failed: {error!r}") from error
    if not written:
        raise DialStoppedError("stopped after its claim")


# -- settling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ended:
    outcome: Outcome


@dataclass(frozen=True)
class StillGoing:
    """Connect says the contact is in progress: wait another lease, same attempt."""


@dataclass(frozen=True)
class Lost:
    """Connect does not know the contact: the attempt counts as used."""


@dataclass(frozen=True)
class Unsent:
    """No contact id and no last write: the worker stopped between the claim and the last
    write, so no call exists. The attempt is not spent; nothing needs looking up."""


@dataclass(frozen=True)
class Recovered:
    """Searching for the attempt's name found its contact."""

    contact_id: str


@dataclass(frozen=True)
class LookAgain:
    """Nothing can be learned now: look at the attempt again at `until` (None: soon)."""

    reason: str
    until: datetime | None = None


Settlement = Ended | StillGoing | Lost | Recovered | Refused | LookAgain | Unsent


SEARCH_SLACK = timedelta(minutes=1)  # clocks differ between us and Connect
SEARCH_HORIZON = timedelta(minutes=15)  # Connect's search index lags the contact


def settle(
    attempt: Attempt,
    now: datetime,
    contacts: ContactLookup,
    search: ContactFinder,
    name: str,
    route: Route,
) -> Settlement:
    """What became of an attempt whose lease ended, without ever sending its call again. Its
    contact is looked up; a contact id that was never written is searched for by the name
    the call was given, around `sent_at` (its last write before the call; None when never
    made: no call). Connect's search index lags, so a miss is looked at again until
    SEARCH_HORIZON after the call, when the attempt counts as used. A contact found is given
    the attempt's `route`, so its contact events reach the owner."""
    if attempt.contact_id:
        return _look_up(attempt.contact_id, contacts)
    sent_at = attempt.sent_at
    if sent_at is None:
        return Unsent()
    try:
        found = search.find(name, sent_at - SEARCH_SLACK, now + SEARCH_SLACK)
    except Exception as error:  # a failed search defers, like a failed look-up
        return LookAgain(f"search failed: {error!r}")
    if found:
        search.adopt(found, route)
        return Recovered(found)
    return Lost() if now >= sent_at + SEARCH_HORIZON else LookAgain("contact not found yet")


def _look_up(contact_id: str, contacts: ContactLookup) -> Settlement:
    try:
        outcome = contacts.outcome(contact_id)
    except KeyError:
        return Lost()
    except Exception as error:  # a failed look-up defers; it never strands the attempt
        return LookAgain(f"look-up failed: {error!r}")
    return StillGoing() if outcome is None else Ended(outcome)


# -- what an owner decides, and what the core decides for it ----------------------------------


class Rules(Protocol[Item]):
    """What a capability that dials decides for its items (a callback, a campaign record)
    when an attempt's outcome is known: its retry rules and its own states. Everything
    else about the attempt is the core's (`settled`)."""

    def moved(self, item: Item, attempt: Attempt, now: datetime, reason: str) -> Item:
        """The item once its attempt moved in flight (DIALING <-> UNKNOWN, a new lease)."""
        ...

    def ended(self, item: Item, outcome: Outcome, now: datetime) -> Item:
        """The attempt's call ended so: done, or when the next attempt is due."""
        ...

    def lost(self, item: Item, now: datetime) -> Item:
        """The attempt's contact was never found: the attempt counts as used."""
        ...

    def refused(self, item: Item, now: datetime, reason: str) -> Item:
        """Connect will never place a call to this number."""
        ...

    def not_placed(self, item: Item, now: datetime, reason: str, until: datetime) -> Item:
        """No call went out: the same attempt, from `until`."""
        ...

    def look_again(self, item: Item, now: datetime, reason: str, until: datetime) -> Item:
        """Nothing can be learned now: the attempt is looked at again at `until`."""
        ...


def lease_ended(item: Item, now: datetime, rules: Rules[Item]) -> Item:
    """A DIALING attempt that heard nothing in time: UNKNOWN, looked at straight away."""
    attempt = model.lease_expired(item.attempt, now)
    return rules.moved(item, attempt, now, "no outcome before the lease ended")


def settled(
    item: Item, settlement: Settlement, now: datetime, rules: Rules[Item], leases: Leases
) -> Item:
    """The item's move for what settling learned of its UNKNOWN attempt."""
    attempt = item.attempt
    match settlement:
        case Ended(outcome):
            return rules.ended(item, outcome, now)
        case StillGoing():
            going = model.still_going(attempt, now, leases)
            return rules.moved(item, going, now, "contact still in progress")
        case Recovered(contact_id):
            found = model.found(attempt, contact_id, now, leases)
            return rules.moved(item, found, now, "contact found by the call's name")
        case Lost():
            return rules.lost(item, now)
        case Refused(reason):
            return rules.refused(item, now, reason)
        case LookAgain(reason, until):
            return rules.look_again(item, now, reason, until or now + leases.look_again_after)
        case Unsent():
            # Its worker stopped before the last write: not spent, the same attempt again.
            return rules.not_placed(item, now, "stopped before the call", now)
    raise TypeError(f"unknown settlement {settlement!r}")
