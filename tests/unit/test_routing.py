"""Routing rules, hours and holidays across time zones and DST, overflow and callback offers."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.bootstrap import ROUTING_RULES_PATH, load_routing_rules
from chalicelib.ivr.routing import (
    Decision,
    QueueLoad,
    RouteRequest,
    RoutingRulesError,
    candidate_queues,
    decide_route,
    estimated_wait,
    parse_routing_rules,
    resolve_intent,
)
from chalicelib.platform.hooks import render_response

EASTERN = ZoneInfo("America/New_York")
RULES = load_routing_rules()
RAW = json.loads(ROUTING_RULES_PATH.read_text())
TUESDAY_10AM = datetime(2026, 11, 24, 10, 0, tzinfo=EASTERN)
QUIET = QueueLoad(contacts_in_queue=1, agents_available=2, agents_staffed=4)


def route(request: RouteRequest, at: datetime = TUESDAY_10AM, loads=None, error: str = ""):
    loads = {name: QUIET for name in RULES.queues} if loads is None else loads
    return decide_route(RULES, request, at, loads, error)


# -- the rules file ---------------------------------------------------------------------------


def test_shipped_rules_file_is_valid() -> None:
    assert RULES.default_queue == "general"
    assert {rule.queue for rule in RULES.rules} <= set(RULES.queues)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["rules"][1].update(queue="vipp"), "rule 'vip': queue 'vipp' is not defined"),
        (lambda r: r["rules"][0].update(priority=0), "rule 'green-channel': priority"),
        (lambda r: r["rules"][2]["when"].update(mood="angry"), "rule 'gold-billing': unknown"),
        (lambda r: r["rules"][0]["when"].update(elderly="yes"), "must be true or false"),
        (lambda r: r["queues"]["billing"].update(backup="nowhere"), "backup 'nowhere'"),
        (lambda r: r["queues"]["billing"].update(hours="never"), "hours 'never' are not defined"),
        (lambda r: r["hours"]["contact-centre"].update(timezone="Mars/Olympus"), "timezone"),
        (lambda r: r["hours"]["contact-centre"]["weekly"].update(mon=["20:00-08:00"]), "split"),
        (lambda r: r["hours"]["contact-centre"]["weekly"].update(mon=["8am-5pm"]), "HH:MM"),
        (lambda r: r["hours"]["contact-centre"].update(holidays=["Christmas"]), "YYYY-MM-DD"),
        (lambda r: r["rules"].append(dict(r["rules"][0])), "defined more than once"),
        (lambda r: r.pop("default_queue"), "default_queue is required"),
        (lambda r: r["menu"].update({"12": "payment"}), "menu '12'"),
    ],
)
def test_invalid_rules_are_rejected_with_a_message_naming_the_rule(mutate, message) -> None:
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(RoutingRulesError) as error:
        parse_routing_rules(raw)
    assert any(message in problem for problem in error.value.problems), error.value.problems


def test_every_problem_is_reported_at_once() -> None:
    raw = copy.deepcopy(RAW)
    raw["rules"][1]["queue"] = "vipp"
    raw["queues"]["billing"]["backup"] = "nowhere"
    with pytest.raises(RoutingRulesError) as error:
        parse_routing_rules(raw)
    assert len(error.value.problems) == 2


def test_rules_that_are_not_an_object_are_rejected() -> None:
    with pytest.raises(RoutingRulesError):
        parse_routing_rules(["not", "rules"])


# -- rule choice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "queue", "priority", "rule"),
    [
        (RouteRequest(intent="payment", elderly=True, tier="vip"), "care", 1, "green-channel"),
        (RouteRequest(intent="technical", tier="vip"), "vip", 1, "vip"),
        (RouteRequest(intent="payment", tier="gold"), "billing", 2, "gold-billing"),
        (RouteRequest(intent="technical", tier="gold"), "technical", 5, "technical"),
        (RouteRequest(intent="payment", language="es"), "spanish", 4, "spanish"),
        (RouteRequest(intent="account"), "billing", 5, "billing"),
        (RouteRequest(intent=""), "general", 5, "everyone-else"),
    ],
)
def test_first_matching_rule_decides_queue_and_priority(request_, queue, priority, rule) -> None:
    decision = route(request_)
    assert (decision.queue, decision.priority, decision.rule) == (queue, priority, rule)


def test_spoken_intent_wins_over_key_press_and_junk_input_means_no_intent() -> None:
    assert resolve_intent(RULES, "technical", "1") == "technical"
    assert resolve_intent(RULES, "", "1") == "payment"
    assert resolve_intent(RULES, "", "Timeout") == ""
    assert resolve_intent(RULES, "DROP TABLE", "#*9") == ""


# -- hours, holidays, time zones --------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        (datetime(2026, 11, 24, 7, 59), False),  # Tuesday, before opening
        (datetime(2026, 11, 24, 8, 0), True),
        (datetime(2026, 11, 24, 19, 59), True),
        (datetime(2026, 11, 24, 20, 0), False),
        (datetime(2026, 11, 28, 16, 30), True),  # Saturday hours
        (datetime(2026, 11, 29, 12, 0), False),  # Sunday
        (datetime(2026, 11, 26, 12, 0), False),  # Thanksgiving
        (datetime(2026, 12, 25, 12, 0), False),  # Christmas
    ],
)
def test_contact_centre_hours_in_its_own_time_zone(local: datetime, open_: bool) -> None:
    assert RULES.hours["contact-centre"].is_open(local.replace(tzinfo=EASTERN)) is open_


def test_the_same_instant_is_judged_in_the_queue_time_zone_not_utc() -> None:
    # 00:30 UTC on Wednesday is still 19:30 on Tuesday in New York: open.
    assert RULES.hours["contact-centre"].is_open(datetime(2026, 11, 25, 0, 30, tzinfo=UTC))
    # 13:30 UTC is 08:30 in New York but 05:30 in Los Angeles.
    raw = copy.deepcopy(RAW)
    raw["hours"]["contact-centre"]["timezone"] = "America/Los_Angeles"
    pacific = parse_routing_rules(raw).hours["contact-centre"]
    assert not pacific.is_open(datetime(2026, 11, 24, 13, 30, tzinfo=UTC))


def test_opening_follows_local_clock_across_dst_changes() -> None:
    hours = RULES.hours["contact-centre"]
    # 12:30 UTC is 08:30 EDT in October but 07:30 EST in November (DST ended 1 Nov 2026).
    assert hours.is_open(datetime(2026, 10, 27, 12, 30, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 11, 3, 12, 30, tzinfo=UTC))
    # And back the other way in March (DST starts 8 Mar 2026).
    assert not hours.is_open(datetime(2026, 3, 3, 12, 30, tzinfo=UTC))
    assert hours.is_open(datetime(2026, 3, 10, 12, 30, tzinfo=UTC))


def test_holiday_is_a_local_date_not_a_utc_date() -> None:
    raw = copy.deepcopy(RAW)
    raw["hours"]["night-desk"]["holidays"] = ["2026-11-26"]
    night = parse_routing_rules(raw).hours["night-desk"]
    # 02:00 UTC on the 27th is 21:00 on the 26th in New York: the holiday, closed.
    assert not night.is_open(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    # 02:00 UTC on the 26th is 21:00 on the 25th: an ordinary evening, open.
    assert night.is_open(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))


def test_after_hours_goes_to_the_night_queue_when_it_is_open() -> None:
    decision = route(RouteRequest(intent="payment"), datetime(2026, 11, 24, 21, 0, tzinfo=EASTERN))
    assert (decision.decision, decision.queue, decision.after_hours) == (
        Decision.QUEUE,
        "night",
        True,
    )


def test_closed_when_neither_the_queue_nor_the_night_desk_is_open() -> None:
    decision = route(RouteRequest(intent="payment"), datetime(2026, 11, 29, 12, 0, tzinfo=EASTERN))
    assert decision.decision is Decision.CLOSED
    assert decision.closed_message == RULES.closed_message
    assert (
        candidate_queues(RULES, RouteRequest(), datetime(2026, 11, 29, 12, 0, tzinfo=EASTERN)) == ()
    )


# -- load: overflow, waits, callback offers ---------------------------------------------------


def test_saturated_queue_overflows_to_its_backup() -> None:
    loads = {"billing": QueueLoad(10, 0, 3), "general": QueueLoad(2, 1, 6)}
    decision = route(RouteRequest(intent="payment"), loads=loads)
    assert (decision.queue, decision.overflow_from) == ("general", "billing")
    assert not decision.offer_callback


def test_saturated_queue_with_saturated_backup_stays_and_offers_a_callback() -> None:
    loads = {"billing": QueueLoad(12, 0, 3), "general": QueueLoad(30, 0, 4)}
    decision = route(RouteRequest(intent="payment"), loads=loads)
    assert (decision.queue, decision.overflow_from, decision.offer_callback) == (
        "billing",
        "",
        True,
    )


def test_long_estimated_wait_offers_a_callback() -> None:
    loads = {"general": QueueLoad(12, 0, 4)}
    decision = route(RouteRequest(), loads=loads)
    assert decision.estimated_wait_seconds == estimated_wait(
        RULES.queues["general"], loads["general"]
    )
    assert decision.estimated_wait_seconds > RULES.callback_offer_above_seconds
    assert decision.offer_callback


def test_free_agent_means_no_wait() -> None:
    assert estimated_wait(RULES.queues["general"], QueueLoad(0, 2, 4)) == 0


def test_without_metrics_the_route_is_still_decided_and_says_why() -> None:
    decision = decide_route(RULES, RouteRequest(intent="payment"), TUESDAY_10AM, None, "timeout")
    assert decision.queue == "billing"
    assert decision.load_status == "unavailable:timeout"
    assert not decision.offer_callback and not decision.overflow_from
    assert decision.attributes()["estimated_wait_seconds"] == ""


# -- properties -------------------------------------------------------------------------------

words = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
requests = st.builds(
    RouteRequest,
    intent=st.one_of(words, st.sampled_from(["payment", "technical", "account", "agent"])),
    tier=st.one_of(words, st.sampled_from(["standard", "gold", "vip"])),
    language=st.one_of(words, st.sampled_from(["en", "es"])),
    predicted_reason=words,
    elderly=st.booleans(),
    repeat_caller=st.booleans(),
)
loads = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(sorted(RULES.queues)),
        st.builds(QueueLoad, st.integers(0, 500), st.integers(0, 50), st.integers(0, 50)),
    ),
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


@given(requests, instants, loads)
def test_every_routing_input_yields_a_queue_or_a_closed_decision(request_, at, load) -> None:
    decision = decide_route(RULES, request_, at, load, "error" if load is None else "")
    if decision.decision is Decision.QUEUE:
        assert decision.queue in RULES.queues
        assert 1 <= decision.priority <= 10
    else:
        assert decision.closed_message and not decision.queue
    response = render_response(decision.attributes())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in response.items())
    assert len(json.dumps(response).encode()) < 32 * 1024
