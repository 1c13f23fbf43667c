"""The outbound core's use cases, with fakes: placing an attempt and settling one whose lease
ended, for any capability that dials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.outbound.model import (
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    Outcome,
    attempt_token,
    next_attempt,
)
from chalicelib.outbound.service import (
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
    Unsettled,
    commit_or_stop,
    place,
    settle,
    settle_by_search,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)


class Contacts:
    def __init__(self, answer: Outcome | Exception | None = None) -> None:
        self.answer, self.looked_up = answer, []

    def outcome(self, contact_id: str) -> Outcome | None:
        self.looked_up.append(contact_id)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class Replay:
    def __init__(self, answer: str | Exception = "contact-1") -> None:
        self.answer, self.sent = answer, 0

    def __call__(self) -> str:
        self.sent += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def lawful(moment: datetime) -> datetime | None:
    return None


def unlawful_until_later(moment: datetime) -> datetime | None:
    return LATER


def unsettled(
    contact_id: str = "",
    window_ends: datetime = NOW + timedelta(days=1),
    rule=lawful,
    sent: bool = True,
):
    return Unsettled(contact_id, sent, window_ends, rule)


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


def test_an_attempt_never_sent_is_neither_replayed_nor_searched_for() -> None:
    """Its worker stopped between the claim and the last write: no call exists."""
    replay, search = Replay(), Replay()
    assert settle(unsettled(sent=False), NOW, Contacts(), replay) == Unsent()
    settlement = settle_by_search("", False, NOW, Contacts(), search, gives_up_at=NOW)
    assert settlement == Unsent() and replay.sent == search.sent == 0


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
def test_a_known_contact_is_looked_up_never_dialled_again(answer, expected) -> None:
    contacts, replay = Contacts(answer), Replay()
    assert settle(unsettled("contact-9"), NOW, contacts, replay) == expected
    assert contacts.looked_up == ["contact-9"] and replay.sent == 0


def test_a_failed_look_up_is_tried_again_later() -> None:
    settlement = settle(unsettled("contact-9"), NOW, Contacts(OSError("throttled")), Replay())
    assert isinstance(settlement, LookAgain) and "look-up failed" in settlement.reason


def test_an_attempt_with_no_contact_id_replays_its_own_call_to_learn_it() -> None:
    replay = Replay("contact-1")
    assert settle(unsettled(), NOW, Contacts(), replay) == Recovered("contact-1")
    assert replay.sent == 1


def test_no_replay_outside_calling_hours_it_waits_for_them() -> None:
    replay = Replay()
    settlement = settle(unsettled(rule=unlawful_until_later), NOW, Contacts(), replay)
    assert settlement == LookAgain("outside calling hours", LATER) and replay.sent == 0


def test_no_replay_once_the_window_is_over() -> None:
    replay = Replay()
    assert settle(unsettled(window_ends=NOW), NOW, Contacts(), replay) == LookAgain("window over")
    assert replay.sent == 0


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (
            DialRejectedError("DestinationNotAllowedException"),
            Refused("DestinationNotAllowedException"),
        ),
        (
            DialNotPlacedError("ThrottlingException"),
            LookAgain("replay failed: ThrottlingException"),
        ),
        (DialUncertainError("timeout"), LookAgain("replay failed: timeout")),
    ],
)
def test_a_replay_that_fails_is_refused_or_tried_again(raised, expected) -> None:
    assert settle(unsettled(), NOW, Contacts(), Replay(raised)) == expected


@given(
    contact_id=st.sampled_from(["", "contact-9"]),
    window=st.integers(-120, 120),
    hours_open=st.booleans(),
)
def test_settling_replays_only_a_lost_contact_id_in_its_window_at_a_lawful_hour(
    contact_id, window, hours_open
) -> None:
    replay, contacts = Replay(), Contacts(Outcome.NO_ANSWER)
    rule = lawful if hours_open else unlawful_until_later
    attempt = unsettled(contact_id, NOW + timedelta(minutes=window), rule)
    settle(attempt, NOW, contacts, replay)
    assert replay.sent == int(not contact_id and window > 0 and hours_open)
    assert len(contacts.looked_up) == int(bool(contact_id))


@given(attempt=st.integers(0, 50), same_again=st.booleans())
def test_each_attempt_has_its_own_token_and_a_call_not_placed_keeps_it(attempt, same_again):
    taken = next_attempt(attempt, same_again)
    assert taken == (attempt if same_again else attempt + 1)
    assert attempt_token("cb-1", taken) != attempt_token("cb-1", taken + 1)
    assert attempt_token("cb-1", taken) == attempt_token("cb-1", next_attempt(taken, True))
