"""The PynamoDB adapters on moto: conditional writes, version races, indexes, TTL."""

from __future__ import annotations

import threading
from datetime import timedelta

from chalicelib.ivr.model import JourneyStep
from chalicelib.ivr.pin import PinGuard, PinOutcome
from chalicelib.ivr.store import (
    DynamoCustomerDirectory,
    DynamoJourneyLog,
    DynamoPinGuards,
    JourneyRecord,
)
from tests.integration.conftest import NOW


def test_customer_found_by_phone_through_the_index(tables) -> None:
    customer = DynamoCustomerDirectory().by_phone("+14155550101")
    assert customer is not None and customer.customer_id == "C-1001"
    assert DynamoCustomerDirectory().by_phone("+10000000000") is None


def test_recent_events_are_newest_first_and_bounded_by_the_window(tables) -> None:
    directory = DynamoCustomerDirectory()
    events = directory.recent_events("C-1003", NOW - timedelta(days=7))
    assert [e.kind for e in events] == ["payment_failed", "bill_issued"]
    assert directory.recent_events("C-1003", NOW - timedelta(hours=12)) == []


def test_concurrent_journey_steps_are_all_kept_and_duplicates_stored_once(
    tables, atomic_moto
) -> None:
    log = DynamoJourneyLog()
    steps = [JourneyStep("leg-1", "said", f"utterance {n}", NOW) for n in range(6)]
    work = [*steps, *steps]  # each step delivered twice, concurrently

    threads = [threading.Thread(target=log.append, args=("contact-1", "key", s, NOW)) for s in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record = JourneyRecord.get("contact-1")
    assert sorted(s.value for s in record.steps) == sorted(s.value for s in steps)
    assert record.step_keys == {s.key for s in steps}


def test_withheld_callers_journeys_stay_out_of_the_caller_index(tables) -> None:
    log = DynamoJourneyLog()
    log.append("withheld-1", "", JourneyStep("withheld-1", "menu", "1", NOW), NOW)
    log.append("known-1", "caller-key", JourneyStep("known-1", "menu", "1", NOW), NOW)
    assert [j.initial_contact_id for j in log.previous("caller-key", NOW - timedelta(hours=1))] == [
        "known-1"
    ]
    assert JourneyRecord.get("withheld-1").caller_key is None


def test_pin_guard_races_lose_no_failure(tables, atomic_moto) -> None:
    """Three wrong PINs at once, forced into the worst interleaving: all three read the same
    version before any of them writes. Only the version condition keeps all three failures."""
    guards = DynamoPinGuards()
    everyone_has_read = threading.Barrier(3, timeout=30)

    def fail(attempt: str) -> None:
        first_try = [True]

        def change(guard: PinGuard) -> PinGuard:
            if first_try[0]:
                first_try[0] = False
                everyone_has_read.wait()
            return guard.record(attempt, PinOutcome.WRONG, NOW, "")

        guards.update("C-1004", change)

    threads = [threading.Thread(target=fail, args=(str(n),)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    guard = guards.load("C-1004")
    assert len(guard.failures) == 3
    assert guard.is_locked(NOW)


def test_unchanged_guard_is_not_written(tables) -> None:
    guards = DynamoPinGuards()
    assert guards.update("C-1001", lambda g: g) == PinGuard()
    assert guards.load("C-1001") == PinGuard()
