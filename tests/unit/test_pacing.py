"""Pacing (issue 10): progressive never makes a caller wait; predictive dials ahead but keeps
abandonment under the 3 % the TSR allows, falling back to progressive at the limit; an
oracle that knows who answers bounds them both. On the simulated floor of devkit/dialer_sim."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chalicelib.dialer.pacing import LIMIT, Floor, Predictive, progressive
from devkit.cli import main
from devkit.dialer_sim import Day, simulate


def floor(**fields) -> Floor:
    values = {
        "agents": 10, "free_agents": 4, "dials_in_flight": 1, "dials": 1000, "answered": 250,
        "abandoned": 0, "handle_seconds": 200.0, **fields,
    }  # fmt: skip
    return Floor(**values)


def test_progressive_keeps_one_call_in_flight_per_free_agent() -> None:
    assert progressive(floor()) == 3
    assert progressive(floor(dials_in_flight=9)) == 0


def test_predictive_dials_ahead_while_its_abandonment_budget_allows() -> None:
    roomy = floor(agents=20, free_agents=4, dials_in_flight=1, answered=400, abandoned=0)
    assert Predictive().dials_now(roomy) > progressive(roomy)
    spent = floor(agents=20, free_agents=4, dials_in_flight=1, answered=400, abandoned=10)
    assert Predictive().dials_now(spent) == progressive(spent)  # 2.5 % of 400: none left


def test_predictive_is_progressive_on_a_small_floor_and_while_warming_up() -> None:
    small = floor(agents=5, answered=400)
    assert Predictive().dials_now(small) == progressive(small)
    cold = floor(agents=20, answered=5)
    assert Predictive().dials_now(cold) == progressive(cold)


def test_the_gain_falls_when_abandoning_above_target_and_rises_slowly_below() -> None:
    pacer = Predictive()
    pacer.dials_now(floor(answered=100, abandoned=2))  # 2 %: under the 2.5 % target
    pacer.dials_now(floor(answered=120, abandoned=2))
    assert pacer.gain == pytest.approx(1.03 * 1.03)
    pacer.dials_now(floor(answered=130, abandoned=2))  # under 20 more answered: no change
    assert pacer.gain == pytest.approx(1.03 * 1.03)
    pacer.dials_now(floor(answered=140, abandoned=5))  # 3.6 %: above
    assert pacer.gain == pytest.approx(1.03 * 1.03 * 0.85)


@pytest.mark.parametrize("agents", [10, 20, 50])
@pytest.mark.parametrize("answer_rate", [0.1, 0.25, 0.5])
def test_on_any_floor_predictive_stays_lawful_and_the_oracle_bounds_it(agents, answer_rate):
    for seed in (1, 2):
        day = Day(agents=agents, answer_rate=answer_rate, hours=2, seed=seed)
        slow, fast, best = (simulate(day, m) for m in ("progressive", "predictive", "oracle"))
        assert slow.abandoned == 0 and best.abandoned == 0
        assert fast.abandonment <= LIMIT
        assert best.occupancy >= fast.occupancy >= slow.occupancy * 0.98


def test_a_small_floor_dials_progressively_whatever_the_mode() -> None:
    day = Day(agents=5, hours=2, seed=1)
    assert simulate(day, "predictive").abandoned == 0


def test_a_day_is_the_same_for_the_same_seed() -> None:
    assert simulate(Day(seed=7, hours=1), "predictive") == simulate(
        Day(seed=7, hours=1), "predictive"
    )


def test_the_cli_prints_the_figures_as_json() -> None:
    result = CliRunner().invoke(
        main,
        ["dialer", "simulate", "--mode", "predictive", "--agents", "20", "--answer-rate", "0.25",
         "--aht", "180", "--hours", "1", "--seed", "3", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert set(figures) >= {"occupancy", "abandonment_rate", "contacts_per_agent_hour"}
    assert figures["abandonment_rate"] <= LIMIT
