"""The outbound core's use cases, with fakes: placing an attempt and settling one whose lease
ended, for any capability that dials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.outbound.model import (
    Attempt,
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    Outcome,
    Phase,
    Route,
    contact_name,
)
from chalicelib.outbound.service import (
    SEARCH_HORIZON,
    Ended,
    LastWrite,
    LookAgain,
    Lost,
    NotPlaced,
    Placed,
    Recovered,
    Refused,
    StillGoing,
    Stopped,
    Uncertain,
    Unsent,
    commit_or_stop,
    place,
    settle,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class Contacts:
    def __init__(self, answer: Outcome | Exception | None = None) -> None:
        self.answer, self.looked_up = answer, []

    def outcome(self, contact_id: str) -> Outcome | None:
        self.looked_up.append(contact_id)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Replay:
    """A dial (for `place`): answers a contact id or raises."""

    def __init__(self, answer: str | Exception = "contact-1") -> None:
        self.answer, self.sent = answer, 0

    def __call__(self) -> str:
        self.sent += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Search:
    """SearchContacts by name: what it finds, or the error it raises; every search kept."""

    def __init__(self, found: str | Exception | None = None) -> None:
        self.found, self.asked, self.adopted = found, [], {}

    def adopt(self, contact_id: str, route: Route) -> None:
        self.adopted[contact_id] = route

    def find(self, name: str, since: datetime, until: datetime) -> str | None:
        self.asked.append((name, since, until))
        if isinstance(self.found, Exception):
            raise self.found
        return self.found


def unknown(contact_id: str, sent_at: datetime | None) -> Attempt:
    """Attempt 1 whose lease ended: with its contact id or not, sent or not."""
    return Attempt(1, "cb-1-1", Phase.UNKNOWN, contact_id=contact_id, sent_at=sent_at)


NAME = contact_name("callback", unknown("", None))
ROUTE = Route("callbacks", "cb-1", 1)
SENT = NOW - timedelta(minutes=4)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (None, Placed("contact-1")),
        (DialNotPlacedError("ThrottlingException"), NotPlaced("ThrottlingException")),
        (
            DialRejectedError("DestinationNotAllowedException"),
            Refused("DestinationNotAllowedException"),
        ),
        (DialUncertainError("InternalServiceException"), Uncertain("InternalServiceException")),
    ],
)
def test_placing_names_what_connect_answered(raised, expected) -> None:
    assert place(Replay(raised or "contact-1")) == expected


def test_an_error_that_is_not_a_dial_error_is_not_swallowed() -> None:
    with pytest.raises(RuntimeError):
        place(Replay(RuntimeError("bug")))


def test_an_attempt_never_sent_is_not_searched_for() -> None:
    """Its worker stopped between the claim and the last write: no call exists."""
    search = Search("contact-1")
    assert settle(unknown("", None), NOW, Contacts(), search, NAME, ROUTE) == Unsent()
    assert search.asked == []


# -- the last write before the call ---------------------------------------------------------------


def dial_after(commit: LastWrite[str]) -> str:
    """What the outbound core does after the pacer's wait: the last write, then the call."""
    commit_or_stop(commit)
    return "contact-1"


def test_the_call_goes_out_only_when_the_last_write_is_made() -> None:
    made = LastWrite(lambda: "claimed, sent")
    assert place(lambda: dial_after(made)) == Placed("contact-1")
    assert made.latest("claimed") == "claimed, sent"  # later writes start from it


def test_a_stop_that_won_the_last_write_sends_nothing() -> None:
    lost = LastWrite[str](lambda: None)  # its condition failed: a cancel was written first
    assert place(lambda: dial_after(lost)) == Stopped("stopped after its claim")
    assert lost.latest("claimed") == "claimed"


def test_a_last_write_that_fails_leaves_the_attempt_unspent() -> None:
    def throttled() -> str:
        raise ConnectionError("ProvisionedThroughputExceededException")

    placement = place(lambda: dial_after(LastWrite(throttled)))
    assert isinstance(placement, NotPlaced) and "last write" in placement.reason


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, StillGoing()),
        (Outcome.CONNECTED, Ended(Outcome.CONNECTED)),
        (Outcome.VOICEMAIL, Ended(Outcome.VOICEMAIL)),
        (KeyError("contact-9"), Lost()),
    ],
)
def test_a_known_contact_is_looked_up_never_searched_for(answer, expected) -> None:
    contacts, search = Contacts(answer), Search("contact-1")
    assert settle(unknown("contact-9", SENT), NOW, contacts, search, NAME, ROUTE) == expected
    assert contacts.looked_up == ["contact-9"] and search.asked == []


def test_a_failed_look_up_is_tried_again_later() -> None:
    failing = Contacts(OSError("throttled"))
    settlement = settle(unknown("contact-9", SENT), NOW, failing, Search(), NAME, ROUTE)
    assert isinstance(settlement, LookAgain) and "look-up failed" in settlement.reason


def test_a_contact_id_never_written_is_searched_for_by_the_attempts_name() -> None:
    search = Search("contact-1")
    assert settle(unknown("", SENT), NOW, Contacts(), search, NAME, ROUTE) == Recovered("contact-1")
    [(name, since, until)] = search.asked
    assert name == NAME and since < SENT and until > NOW  # around the call, with slack
    assert search.adopted == {"contact-1": ROUTE}  # its contact events now reach the owner


@pytest.mark.parametrize(
    ("found", "at", "expected"),
    [
        (None, SENT + timedelta(minutes=4), LookAgain("contact not found yet")),
        (None, SENT + SEARCH_HORIZON, Lost()),
        (OSError("throttled"), SENT + SEARCH_HORIZON, "search failed"),
    ],
)
def test_a_contact_not_found_is_looked_for_again_until_the_horizon(found, at, expected) -> None:
    settlement = settle(unknown("", SENT), at, Contacts(), Search(found), NAME, ROUTE)
    if isinstance(expected, str):  # a failed search never gives up: it says nothing
        assert isinstance(settlement, LookAgain) and expected in settlement.reason
    else:
        assert settlement == expected


@given(
    contact_id=st.sampled_from(["", "contact-9"]),
    sent=st.booleans(),
    minutes=st.integers(0, 60),
    found=st.sampled_from([None, "contact-9"]),
)
def test_settling_never_sends_a_call(contact_id, sent, minutes, found) -> None:
    """Whatever the attempt's state, settling reads (a look-up or a search) and never dials:
    there is no dial to give it."""
    contacts, search = Contacts(Outcome.NO_ANSWER), Search(found)
    sent_at = SENT if sent else None
    settle(
        unknown(contact_id, sent_at),
        SENT + timedelta(minutes=minutes),
        contacts,
        search,
        NAME,
        ROUTE,
    )
    assert len(contacts.looked_up) == int(bool(contact_id))
    assert len(search.asked) == int(not contact_id and sent)


def test_each_attempts_contact_has_its_own_name_without_the_number() -> None:
    names = {contact_name("callback", Attempt(a, f"cb-1-{a}")) for a in range(1, 6)}
    assert len(names) == 5
    assert all("+1" not in name for name in names)
