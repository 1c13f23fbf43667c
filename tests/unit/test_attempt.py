"""The one state machine of a dial attempt (`outbound.model.Attempt`), which callbacks and the
dialer both hold: driven through every sequence of moves, it keeps its promises."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.outbound import model as outbound
from chalicelib.outbound.model import PHASES, Attempt, Leases, Phase, TransitionError

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
LEASES = Leases()
LATER = NOW + timedelta(hours=1)  # past every lease

Move = Callable[[Attempt], Attempt]
MOVES: dict[str, Move] = {
    "claim": lambda a: outbound.claim(a, "ref", NOW, LEASES),
    "send": lambda a: outbound.send(a, NOW),
    "dialled": lambda a: outbound.dialled(a, "contact-1", NOW, LEASES),
    "lease_expired": lambda a: outbound.lease_expired(a, LATER),
    "still_going": lambda a: outbound.still_going(a, NOW, LEASES),
    "found": lambda a: outbound.found(a, "contact-2", NOW, LEASES),
    "look_again": lambda a: outbound.look_again(a, LATER),
    "not_placed": outbound.not_placed,
    "over": outbound.over,
}


def _walk(names: list[str]) -> list[tuple[str, Attempt, Attempt]]:
    """Apply the moves in turn, skipping those the machine refuses: (move, before, after)."""
    attempt, taken = Attempt(), []
    for name in names:
        try:
            after = MOVES[name](attempt)
        except TransitionError:
            continue
        taken.append((name, attempt, after))
        attempt = after
    return taken


walks = st.lists(st.sampled_from(sorted(MOVES)), max_size=40)


@given(walks)
def test_every_change_of_phase_is_one_the_table_allows(names: list[str]) -> None:
    for name, before, after in _walk(names):
        within = name in ("send", "dialled", "look_again")
        assert after.phase == before.phase if within else after.phase in PHASES[before.phase]


@given(walks)
def test_an_attempt_in_flight_always_has_a_lease_and_an_idle_one_never(names: list[str]) -> None:
    """Nothing is stranded: a run finds every attempt in flight by its lease's end."""
    for _, _, after in _walk(names):
        assert (after.lease_until is not None) == after.in_flight


@given(walks)
def test_only_a_claim_changes_the_token_and_one_that_placed_no_call_keeps_it(
    names: list[str],
) -> None:
    for name, before, after in _walk(names):
        if name != "claim":
            assert (after.ordinal, after.token) == (before.ordinal, before.token)
        elif before.same_again:
            assert (after.ordinal, after.token) == (before.ordinal, f"ref-{before.ordinal}")
        else:
            assert (after.ordinal, after.token) == (before.ordinal + 1, f"ref-{before.ordinal + 1}")


@given(walks)
def test_an_attempt_is_sent_at_most_once_and_a_claim_starts_unsent(names: list[str]) -> None:
    for name, before, after in _walk(names):
        if name == "send":
            assert before.sent_at is None and after.sent_at == NOW
        if name == "claim":
            assert (after.sent_at, after.contact_id) == (None, "")


@given(walks)
def test_the_attempts_spent_are_the_claims_that_were_not_given_back(names: list[str]) -> None:
    """A call not placed (a crash before the last write, throttling) does not spend one."""
    taken = _walk(names)
    claims = sum(1 for name, before, _ in taken if name == "claim" and not before.same_again)
    final = taken[-1][2] if taken else Attempt()
    assert final.ordinal == claims


@pytest.mark.parametrize("phase", list(Phase))
def test_each_phase_refuses_the_moves_it_does_not_allow(phase: Phase) -> None:
    start = {
        Phase.IDLE: Attempt(),
        Phase.DIALING: MOVES["claim"](Attempt()),
        Phase.UNKNOWN: MOVES["lease_expired"](MOVES["claim"](Attempt())),
    }[phase]
    refused = {name for name, move in MOVES.items() if _refuses(move, start)}
    expected = {
        Phase.IDLE: set(MOVES) - {"claim"},
        Phase.DIALING: {"claim", "still_going", "found", "look_again"},
        Phase.UNKNOWN: {"claim", "send", "dialled", "lease_expired"},
    }[phase]
    assert refused == expected


def _refuses(move: Move, attempt: Attempt) -> bool:
    try:
        move(attempt)
    except TransitionError:
        return True
    return False


def test_a_lease_still_held_does_not_expire() -> None:
    claimed = MOVES["claim"](Attempt())
    with pytest.raises(TransitionError, match="lease still held"):
        outbound.lease_expired(claimed, NOW)


def test_an_outcome_that_names_its_contact_keeps_it_when_none_was_written() -> None:
    claimed = outbound.send(MOVES["claim"](Attempt()), NOW)
    assert outbound.over(claimed, "contact-9").contact_id == "contact-9"
    dialled = outbound.dialled(claimed, "contact-1", NOW, LEASES)
    assert outbound.over(dialled, "contact-9").contact_id == "contact-1"


def test_an_event_belongs_to_the_attempt_in_flight_with_that_number_and_contact() -> None:
    dialled = outbound.dialled(MOVES["claim"](Attempt()), "contact-1", NOW, LEASES)
    assert dialled.is_current(1, "contact-1")
    assert not dialled.is_current(2, "contact-1")
    assert not dialled.is_current(1, "contact-2")
    assert not outbound.over(dialled).is_current(1, "contact-1")
