"""Caller IDs: a number local to the callee when the pool has one, in turn, and never one
past its daily cap."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.dialer.model import CallerId, callee_for, caller_id_for
from chalicelib.dialer.schema import caller_id_pool, read_campaign

CARD = read_campaign(
    json.loads((Path(__file__).parents[2] / "campaigns" / "card-upgrade.json").read_text())
)
POOL = caller_id_pool(CARD)  # New York 212, Miami 305, Los Angeles 310
MIAMI = callee_for("+13055550100")
CHICAGO = callee_for("+13125550100")
LONDON = callee_for("+447911123456")


def test_the_pool_is_read_from_the_campaign() -> None:
    assert [(c.country, c.area) for c in POOL] == [("US", "212"), ("US", "305"), ("US", "310")]


def test_a_local_number_is_used_when_the_pool_has_one() -> None:
    chosen = caller_id_for(POOL, MIAMI, {}, daily_cap=100, turn=7)
    assert chosen is not None and chosen.area == "305"


def test_without_a_local_number_the_pool_takes_turns_within_the_country() -> None:
    chosen = [caller_id_for(POOL, CHICAGO, {}, 100, turn) for turn in range(4)]
    assert [c.area for c in chosen if c] == ["212", "305", "310", "212"]


def test_a_number_at_its_daily_cap_rests_and_a_full_pool_places_nothing() -> None:
    used = {"+13055550199": 100}
    chosen = caller_id_for(POOL, MIAMI, used, daily_cap=100, turn=0)
    assert chosen is not None and chosen.area != "305"  # the local one is at its cap
    everyone = {c.number: 100 for c in POOL}
    assert caller_id_for(POOL, MIAMI, everyone, daily_cap=100, turn=0) is None


def test_a_foreign_callee_gets_any_number_in_turn() -> None:
    assert caller_id_for(POOL, LONDON, {}, 100, 1) == POOL[1]


@given(
    st.dictionaries(st.sampled_from([c.number for c in POOL]), st.integers(0, 3)),
    st.sampled_from([MIAMI, CHICAGO, LONDON]),
    st.integers(0, 100),
)
def test_the_choice_is_always_under_its_cap_and_as_local_as_the_pool_allows(used, callee, turn):
    chosen = caller_id_for(POOL, callee, used, daily_cap=3, turn=turn)
    usable = [c for c in POOL if used.get(c.number, 0) < 3]
    if not usable:
        assert chosen is None
        return
    assert chosen in usable
    if any(c.area == callee.area and c.country == callee.country for c in usable):
        assert chosen.area == callee.area
    elif any(c.country == callee.country for c in usable):
        assert chosen.country == callee.country


def test_a_caller_id_is_a_plain_value() -> None:
    assert CallerId("+12125550199", "US", "212") == POOL[0]
