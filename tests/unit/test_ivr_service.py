"""The IVR use cases over in-memory ports: identify, PIN lockout, self-service, journeys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.bootstrap import load_routing_rules
from chalicelib.ivr.model import (
    Account,
    AccountEvent,
    Customer,
    JourneyStep,
    Tier,
    predict_reason,
    summarise,
)
from chalicelib.ivr.pin import LOCK_WINDOW, PinGuard, PinOutcome, hash_pin, pin_matches
from chalicelib.ivr.routing import QueueLoad
from chalicelib.ivr.service import IvrService
from chalicelib.platform.clock import Deadline, FixedClock
from chalicelib.platform.contact import ContactContext, HookError
from devkit.fakes.ivr import (
    FakeQueueLoads,
    InMemoryAccounts,
    InMemoryCustomers,
    InMemoryJourneys,
    InMemoryPinGuards,
    RotatingKeys,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
ANI = "+14155550101"
CHEAP = 2**4  # scrypt cost for tests: the format carries it, so production hashes stay slow
INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/abc"


def contact(address: object = ANI, contact_id: str = "c-1", initial: str = "", **params: str):
    return ContactContext(
        contact_id=contact_id,
        initial_contact_id=initial or contact_id,
        channel="VOICE",
        initiation_method="INBOUND",
        customer_address=address,
        instance_arn=INSTANCE,
        parameters=params,
    )


@pytest.fixture
def world():
    customers = InMemoryCustomers()
    customers.by_number[ANI] = Customer("C-1", "Victoria", Tier.VIP, "en", assigned_agent="maria")
    customers.pins["C-1"] = hash_pin("4321", b"salt", CHEAP)
    clock = FixedClock(NOW)
    service = IvrService(
        rules=load_routing_rules(),
        customers=customers,
        journeys=InMemoryJourneys(),
        pins=InMemoryPinGuards(),
        accounts=InMemoryAccounts(
            {"C-1": Account("C-1", -1234, "USD", date(2026, 12, 6), "active")}
        ),
        loads=FakeQueueLoads({"general": QueueLoad(1, 1, 3), "vip": QueueLoad(0, 1, 2)}),
        clock=clock,
        queue_ids={name: f"id-{name}" for name in load_routing_rules().queues},
        caller_keys=RotatingKeys(),
    )
    return service, customers, clock


def deadline() -> Deadline:
    return Deadline(2.0)


# -- identify_caller --------------------------------------------------------------------------


def test_known_caller_gets_their_profile(world) -> None:
    service, _, _ = world
    answer = service.identify_caller(contact(), deadline())
    assert answer["customer_id"] == "C-1"
    assert answer["tier"] == "vip"
    assert answer["assigned_agent"] == "maria"
    assert answer["caller_type"] == "known"


def test_number_in_national_format_is_normalised_before_lookup(world) -> None:
    service, _, _ = world
    assert service.identify_caller(contact("(415) 555-0101"), deadline())["customer_id"] == "C-1"


@pytest.mark.parametrize(
    ("address", "caller_type"),
    [
        (None, "withheld"),
        ("anonymous", "withheld"),
        ("", "withheld"),
        ("+1999", "invalid"),
        ("not a number", "invalid"),
        ("+12125550199", "unknown"),
    ],
)
def test_unknown_or_withheld_numbers_get_an_anonymous_profile(world, address, caller_type) -> None:
    service, _, _ = world
    answer = service.identify_caller(contact(address), deadline())
    assert answer["result"] == "ok"
    assert answer["caller_type"] == caller_type
    assert answer["customer_found"] == "false"
    assert answer["customer_id"] == ""


def test_repeat_caller_within_24_hours_but_not_for_a_retry_of_the_same_contact(world) -> None:
    service, _, clock = world
    service.record_journey(contact(contact_id="first", step="intent", value="payment"), deadline())
    assert (
        service.identify_caller(contact(contact_id="first"), deadline())["repeat_caller"] == "false"
    )
    clock.set(NOW + timedelta(hours=3))
    answer = service.identify_caller(contact(contact_id="second"), deadline())
    assert answer["repeat_caller"] == "true"
    assert answer["last_intent"] == "payment"
    clock.set(NOW + timedelta(hours=25))
    assert (
        service.identify_caller(contact(contact_id="third"), deadline())["repeat_caller"] == "false"
    )


def test_a_repeat_caller_is_still_recognised_after_the_caller_key_is_rotated(world) -> None:
    service, _, clock = world
    keys = service.caller_keys
    service.record_journey(contact(contact_id="before", step="intent", value="payment"), deadline())
    keys.rotate(b"second-test-key-" * 3)
    clock.set(NOW + timedelta(hours=2))
    answer = service.identify_caller(contact(contact_id="after"), deadline())
    assert (answer["repeat_caller"], answer["last_intent"]) == ("true", "payment")
    service.record_journey(contact(contact_id="after", step="menu", value="2"), deadline())
    stored = {c: j["caller"] for c, j in service.journeys.journeys.items()}
    assert stored["after"] == keys.keys().current(ANI) != stored["before"]  # written: new key
    keys.retire()  # what `switchboard caller-key retire` does, 24 hours on
    clock.set(NOW + timedelta(hours=3))
    answer = service.identify_caller(contact(contact_id="third"), deadline())
    assert (answer["repeat_caller"], answer["last_intent"]) == ("true", "")  # "after" only


def test_without_the_caller_key_the_call_goes_on_without_caller_history(world) -> None:
    service, _, _ = world
    service.caller_keys.available = False
    answer = service.identify_caller(contact(), deadline())
    assert (answer["customer_id"], answer["repeat_caller"]) == ("C-1", "false")
    assert answer["history_status"] == "unavailable"
    service.record_journey(contact(step="menu", value="1"), deadline())
    assert service.journeys.journeys["c-1"]["caller"] == ""  # the step is kept all the same
    service.caller_keys.available = True
    service.record_journey(contact(step="intent", value="billing"), deadline())
    assert service.journeys.journeys["c-1"]["caller"] == service.caller_keys.keys().current(ANI)
    assert service.identify_caller(contact(), deadline())["history_status"] == "checked"


def test_transferred_contact_is_not_its_own_repeat(world) -> None:
    service, _, clock = world
    service.record_journey(contact(contact_id="leg-1", step="menu", value="1"), deadline())
    clock.set(NOW + timedelta(minutes=5))
    transferred = contact(contact_id="leg-2", initial="leg-1")
    assert service.identify_caller(transferred, deadline())["repeat_caller"] == "false"


def test_predicted_reason_comes_from_recent_account_events(world) -> None:
    service, customers, _ = world
    customers.events["C-1"] = [
        AccountEvent("bill_issued", NOW - timedelta(hours=2)),
        AccountEvent("payment_failed", NOW - timedelta(days=1)),
    ]
    assert service.identify_caller(contact(), deadline())["predicted_reason"] == "payment"


def test_prediction_prefers_strong_signals_then_recency_and_ignores_old_or_unknown() -> None:
    old = AccountEvent("payment_failed", NOW - timedelta(days=8))
    assert predict_reason([old, AccountEvent("login", NOW)], NOW) == ""
    events = [
        AccountEvent("order_delayed", NOW - timedelta(hours=1)),
        AccountEvent("service_outage", NOW - timedelta(days=2)),
    ]
    assert predict_reason(events, NOW) == "technical"
    assert (
        predict_reason(
            [
                AccountEvent("plan_changed", NOW - timedelta(hours=1)),
                AccountEvent("bill_issued", NOW - timedelta(hours=5)),
            ],
            NOW,
        )
        == "account"
    )


# -- route_call -------------------------------------------------------------------------------


def test_route_answers_the_queue_arn_built_from_the_contacts_instance(world) -> None:
    service, _, _ = world
    answer = service.route_call(contact(tier="vip", menu_choice="1"), deadline())
    assert answer["queue"] == "vip"
    assert answer["queue_arn"] == f"{INSTANCE}/queue/id-vip"
    assert answer["load_status"] == "live"


def test_route_reads_load_only_for_the_target_and_its_backup(world) -> None:
    service, _, _ = world
    service.route_call(contact(tier="vip"), deadline())
    assert service.loads.asked == [("vip", "general")]


def test_route_without_metrics_still_routes_and_says_why(world) -> None:
    service, _, _ = world
    service.loads.failure = "throttled"
    answer = service.route_call(contact(menu_choice="2"), deadline())
    assert (answer["queue"], answer["load_status"]) == ("technical", "unavailable:throttled")


def test_route_to_a_queue_without_an_id_is_a_declined_hook(world) -> None:
    service, _, _ = world
    service = replace(service, queue_ids={})
    with pytest.raises(HookError, match="unknown_queue_id"):
        service.route_call(contact(), deadline())


# -- verify_pin -------------------------------------------------------------------------------


def verify(service: IvrService, pin: str, attempt: str, contact_id: str = "c-1") -> dict[str, str]:
    return service.verify_pin(
        contact(contact_id=contact_id, customer_id="C-1", pin=pin, attempt=attempt), deadline()
    )


def test_correct_pin_verifies_and_opens_self_service(world) -> None:
    service, _, _ = world
    assert verify(service, "4321", "1")["pin_result"] == "ok"
    balance = service.account_lookup(contact(customer_id="C-1"), deadline())
    assert balance["balance"] == "-12.34"
    assert balance["next_bill_date"] == "2026-12-06"


def test_three_failures_lock_for_the_window_even_with_the_right_pin(world) -> None:
    service, _, clock = world
    assert verify(service, "1111", "1") == {
        "result": "ok",
        "pin_result": "wrong",
        "attempts_left": "2",
        "next_attempt": "2",
    }
    assert verify(service, "2222", "2")["attempts_left"] == "1"
    assert verify(service, "3333", "3")["pin_result"] == "locked"
    clock.set(NOW + timedelta(minutes=14))
    assert verify(service, "4321", "1", contact_id="c-2")["pin_result"] == "locked"
    clock.set(NOW + LOCK_WINDOW + timedelta(seconds=1))
    assert verify(service, "4321", "1", contact_id="c-3")["pin_result"] == "ok"


def test_failures_outside_the_window_do_not_add_up(world) -> None:
    service, _, clock = world
    verify(service, "1111", "1")
    verify(service, "2222", "2")
    clock.set(NOW + timedelta(minutes=16))
    assert verify(service, "3333", "3")["pin_result"] == "wrong"


def test_a_retried_attempt_is_counted_once(world) -> None:
    service, _, _ = world
    for _ in range(4):  # Connect's first try and three retries
        assert verify(service, "1111", "1")["attempts_left"] == "2"
    assert service.pins.writes == 1


def test_same_input_without_attempt_number_counts_once_other_input_counts_again(world) -> None:
    service, _, _ = world
    assert verify(service, "1111", "")["attempts_left"] == "2"
    assert verify(service, "1111", "")["attempts_left"] == "2"
    assert verify(service, "1112", "")["attempts_left"] == "1"


@pytest.mark.parametrize("junk", ["", "12", "abcd", "1234567890", "12#4", "Timeout", "١٢٣٤"])
def test_malformed_pin_is_a_wrong_attempt(world, junk) -> None:
    service, _, _ = world
    assert verify(service, junk, "1")["pin_result"] == "wrong"


def test_self_service_refused_without_verification(world) -> None:
    service, _, _ = world
    answer = service.account_lookup(contact(customer_id="C-1"), deadline())
    assert answer == {"result": "not_verified", "reason": "pin_required"}
    verify(service, "4321", "1", contact_id="other-call")
    assert (
        service.account_lookup(contact(customer_id="C-1"), deadline())["result"] == "not_verified"
    )


def test_verification_follows_a_transfer_via_initial_contact_id(world) -> None:
    service, _, _ = world
    verify(service, "4321", "1", contact_id="leg-1")
    transferred = contact(contact_id="leg-2", initial="leg-1", customer_id="C-1")
    assert service.account_lookup(transferred, deadline())["result"] == "ok"


def test_customer_without_a_pin_cannot_use_self_service(world) -> None:
    service, customers, _ = world
    customers.pins.clear()
    assert verify(service, "4321", "1")["pin_result"] == "no_pin"


def test_pin_hash_is_salted_slow_and_self_describing() -> None:
    encoded = hash_pin("4321", b"salt-a", CHEAP)
    assert encoded.startswith(f"scrypt${CHEAP}$")
    assert "4321" not in encoded
    assert encoded != hash_pin("4321", b"salt-b", CHEAP)
    assert pin_matches("4321", encoded) and not pin_matches("4322", encoded)
    assert not pin_matches("4321", "md5$abc") and not pin_matches("4321", "garbage")


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40)), max_size=30))
def test_guard_never_allows_more_than_three_failures_in_a_window(steps) -> None:
    guard, now = PinGuard(), NOW
    for index, (right, minutes_later) in enumerate(steps):
        now += timedelta(minutes=minutes_later)
        if guard.is_locked(now):
            continue
        guard = guard.record(str(index), PinOutcome.OK if right else PinOutcome.WRONG, now, "c")
        recent = [f for f in guard.failures if now - f < LOCK_WINDOW]
        assert len(recent) <= 3
        assert (len(recent) == 3) == guard.is_locked(now)


# -- record_journey ---------------------------------------------------------------------------


def test_journey_steps_accumulate_and_retries_are_stored_once(world) -> None:
    service, _, _ = world
    first = contact(step="menu", value="1")
    for _ in range(4):
        service.record_journey(first, deadline())
    answer = service.record_journey(contact(step="intent", value="payment"), deadline())
    assert answer["journey_steps"] == "2"
    assert answer["journey_summary"] == "menu=1 > intent=payment"


def test_journey_follows_the_caller_across_transfers(world) -> None:
    service, _, _ = world
    service.record_journey(contact(contact_id="leg-1", step="menu", value="1"), deadline())
    answer = service.record_journey(
        contact(contact_id="leg-2", initial="leg-1", step="transfer", value="billing"), deadline()
    )
    assert answer["journey_summary"] == "menu=1 > transfer=billing"


@pytest.mark.parametrize("step", ["", "Menu Choice", "x" * 40, "1menu", "menu;drop"])
def test_journey_rejects_a_malformed_step_name(world, step) -> None:
    service, _, _ = world
    with pytest.raises(HookError, match="invalid_step"):
        service.record_journey(contact(step=step), deadline())


def test_journey_summary_stays_short_keeping_the_newest_steps() -> None:
    steps = [JourneyStep("c", "said", f"utterance {i} " + "x" * 50, NOW) for i in range(40)]
    summary = summarise(steps)
    assert len(summary) <= 1000
    assert summary.endswith(steps[-1].value)
