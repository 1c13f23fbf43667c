"""Callback use cases over in-memory ports, and a stateful property test of the ledger."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chalicelib.bootstrap import load_routing_rules
from chalicelib.callbacks import model
from chalicelib.callbacks.model import Outcome, Status
from chalicelib.callbacks.service import (
    CallbackError,
    CallbackService,
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    QueueSettings,
)
from chalicelib.platform.clock import FixedClock
from tests.fakes import (
    FixedAgents,
    InMemoryLedger,
    RecordingDialer,
    ScriptedContacts,
    SequentialIds,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York, 07:00 in LA
RULES = load_routing_rules()
QUEUES = {
    name: QueueSettings(RULES.hours[q.hours], q.average_handle_seconds)
    for name, q in RULES.queues.items()
}
NEW_YORK = "+12125550142"
LOS_ANGELES = "+14155550101"


def build(
    free: int = 100,
) -> tuple[CallbackService, InMemoryLedger, RecordingDialer, ScriptedContacts, FixedClock]:
    clock = FixedClock(NOW)
    ledger, dialer, contacts = InMemoryLedger(), RecordingDialer(), ScriptedContacts()
    dialer.clock = clock
    service = CallbackService(
        ledger, dialer, FixedAgents(free), contacts, clock, QUEUES, SequentialIds()
    )
    return service, ledger, dialer, contacts, clock


# -- requests ---------------------------------------------------------------------------------


def test_a_request_answers_position_and_eta() -> None:
    service, *_ = build()
    first = service.request(NEW_YORK, "billing", contact_id="c-1")
    second = service.request("+12125550143", "billing", contact_id="c-2")
    assert (first.position, second.position) == (1, 2)
    assert second.attributes()["callback_eta_minutes"] == "10"
    assert first.callback.time_zones == ("America/New_York",)


def test_a_second_request_returns_the_first_and_keeps_its_place() -> None:
    service, ledger, *_ = build()
    first = service.request(NEW_YORK, "billing")
    service.request("+12125550143", "billing")
    again = service.request("(212) 555-0142", "billing")
    assert again.existing and again.callback.callback_id == first.callback.callback_id
    assert again.position == 1 and len(ledger.callbacks) == 2


def test_the_same_number_may_wait_in_two_queues() -> None:
    service, _ledger, *_ = build()
    service.request(NEW_YORK, "billing")
    assert not service.request(NEW_YORK, "technical").existing


def test_another_number_for_the_same_contact_replaces_the_first() -> None:
    service, ledger, *_ = build()
    first = service.request(NEW_YORK, "billing", contact_id="c-1")
    second = service.request("+12125550143", "billing", contact_id="c-1")
    assert second.callback.callback_id != first.callback.callback_id
    assert ledger.get(first.callback.callback_id).status is Status.CANCELLED
    assert service.request("+12125550143", "billing", contact_id="c-1").existing


@pytest.mark.parametrize(
    ("number", "queue", "slot", "code", "field"),
    [
        ("12", "billing", None, "invalid_number", "number"),
        (None, "billing", None, "invalid_number", "number"),
        ("+442071838750", "billing", None, "unsupported_country", "number"),
        (NEW_YORK, "nowhere", None, "unknown_queue", "queue"),
        (NEW_YORK, "billing", NOW - timedelta(hours=1), "slot_in_past", "slot"),
        (NEW_YORK, "billing", NOW + timedelta(days=30), "slot_too_far", "slot"),
        (
            NEW_YORK,
            "billing",
            datetime(2026, 11, 29, 17, 0, tzinfo=UTC),
            "slot_outside_hours",
            "slot",
        ),
        (NEW_YORK, "billing", datetime(2026, 11, 25, 15, 0), "invalid_slot", "slot"),
    ],
)
def test_bad_requests_are_refused_naming_the_field_and_store_nothing(
    number, queue, slot, code, field
) -> None:
    service, ledger, *_ = build()
    with pytest.raises(CallbackError) as refused:
        service.request(number, queue, slot=slot)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert ledger.callbacks == {}


def test_a_number_never_inside_calling_hours_is_refused() -> None:
    service, ledger, *_ = build()
    closed = replace(service, policy=replace(service.policy, calling_hours=(time(9), time(9))))
    with pytest.raises(CallbackError) as refused:
        closed.request(NEW_YORK, "billing")
    assert refused.value.code == "no_calling_window" and ledger.callbacks == {}


def test_a_slot_on_a_later_day_waits_for_it() -> None:
    service, _, dialer, _, clock = build()
    slot = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    standing = service.request(NEW_YORK, "billing", slot=slot)
    assert standing.callback.due_at == slot and standing.eta_minutes >= 24 * 60
    service.dispatch()
    assert dialer.dials == []
    clock.set(slot)
    assert service.dispatch().dialled == [standing.callback.callback_id]


# -- status and cancel ------------------------------------------------------------------------


def test_status_and_cancel() -> None:
    service, *_ = build()
    standing = service.request(NEW_YORK, "billing")
    assert service.status_for_number(NEW_YORK).callback.callback_id == standing.callback.callback_id
    cancelled = service.cancel(standing.callback.callback_id)
    assert cancelled.callback.status is Status.CANCELLED
    assert service.status_for_number(NEW_YORK) is None
    assert service.cancel("no-such-callback") is None
    assert service.status("not valid!") is None


# -- dispatch ---------------------------------------------------------------------------------


def test_dispatch_dials_at_most_one_per_free_agent_best_first() -> None:
    service, _, dialer, _, _ = build(free=2)
    low = service.request(NEW_YORK, "billing", priority=5)
    high = service.request("+12125550143", "billing", priority=1)
    later = service.request("+12125550144", "billing", priority=5)
    report = service.dispatch()
    assert report.dialled == [high.callback.callback_id, low.callback.callback_id]
    assert later.callback.callback_id not in {d[0] for d in dialer.dials}


def test_no_dial_before_8_in_the_callees_time_zone() -> None:
    service, ledger, dialer, _, clock = build()
    standing = service.request(LOS_ANGELES, "billing")  # 07:00 in California
    report = service.dispatch()
    assert report.deferred == [standing.callback.callback_id] and dialer.dials == []
    assert ledger.get(standing.callback.callback_id).due_at == datetime(
        2026, 11, 24, 16, 0, tzinfo=UTC
    )
    clock.set(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    assert service.dispatch().dialled == [standing.callback.callback_id]


@pytest.mark.parametrize(
    ("error", "status", "same_attempt"),
    [
        (DialNotPlacedError("ThrottlingException"), Status.RETRY_WAIT, True),
        (DialNotPlacedError("LimitExceededException"), Status.RETRY_WAIT, True),
        (DialRejectedError("DestinationNotAllowedException"), Status.FAILED, False),
        (DialUncertainError("timeout"), Status.DIALING, False),
    ],
)
def test_connect_errors(error, status, same_attempt) -> None:
    service, ledger, dialer, _, _ = build()
    standing = service.request(NEW_YORK, "billing")
    dialer.fail_with = error
    service.dispatch()
    stored = ledger.get(standing.callback.callback_id)
    assert stored.status is status and stored.redial_same_attempt is same_attempt


def test_outcomes_from_events_complete_or_retry() -> None:
    service, ledger, _, _, clock = build()
    standing = service.request(NEW_YORK, "billing")
    service.dispatch()
    service.record_outcome("contact-" + standing.callback.callback_id + "-1", Outcome.NO_ANSWER)
    waiting = ledger.get(standing.callback.callback_id)
    assert waiting.status is Status.RETRY_WAIT
    clock.set(waiting.due_at)
    service.dispatch()
    done = service.record_outcome(f"contact-{waiting.callback_id}-2", Outcome.CONNECTED)
    assert done.status is Status.COMPLETED
    assert service.record_outcome("someone-elses-contact", Outcome.CONNECTED) is None


def test_the_customer_declining_in_the_callback_flow_cancels() -> None:
    service, _ledger, *_ = build()
    standing = service.request(NEW_YORK, "billing")
    service.dispatch()
    cancelled = service.record_outcome(
        f"contact-{standing.callback.callback_id}-1", Outcome.DECLINED
    )
    assert cancelled.status is Status.CANCELLED


def test_reconciliation_looks_the_contact_up_and_never_redials_blind() -> None:
    service, _ledger, dialer, contacts, clock = build()
    standing = service.request(NEW_YORK, "billing")
    callback_id = standing.callback.callback_id
    service.dispatch()
    contact = f"contact-{callback_id}-1"
    contacts.outcomes[contact] = None  # still ringing
    clock.set(NOW + timedelta(minutes=4))
    assert service.reconcile()[0].status is Status.DIALING
    contacts.outcomes[contact] = Outcome.CONNECTED
    clock.set(NOW + timedelta(minutes=8))
    assert service.reconcile()[0].status is Status.COMPLETED
    assert len(dialer.dials) == 1


def test_expired_callbacks_are_closed_when_due() -> None:
    service, _ledger, dialer, _, clock = build()
    standing = service.request(NEW_YORK, "billing")
    clock.set(NOW + timedelta(days=1, minutes=1))
    assert service.dispatch().expired == [standing.callback.callback_id]
    assert dialer.dials == []


# -- the stateful property --------------------------------------------------------------------


class Crash(Exception):
    """A worker dying mid-dispatch."""


class CrashingDialer(RecordingDialer):
    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"

    def dial(self, callback):
        if self.mode == "before":
            raise Crash("died before calling Connect")
        contact = super().dial(callback)
        if self.mode == "after":
            raise Crash("died after Connect placed the call")
        return contact


NUMBERS = [NEW_YORK, "+12125550143", "+13055550105", LOS_ANGELES, "+16175550100"]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.service, self.ledger, _, self.contacts, self.clock = build(free=2)
        self.dialer = CrashingDialer()
        self.dialer.clock = self.clock
        self.service = replace(self.service, dialer=self.dialer)
        self.order_violations: list[str] = []

    @rule(
        number=st.sampled_from(NUMBERS),
        queue=st.sampled_from(["billing", "general"]),
        priority=st.sampled_from([1, 5]),
    )
    def request(self, number, queue, priority) -> None:
        self.service.request(number, queue, priority=priority)

    @rule(mode=st.sampled_from(["ok", "ok", "ok", "before", "after", "throttled", "uncertain"]))
    def dispatch(self, mode) -> None:
        self.dialer.mode = mode
        self.dialer.fail_with = {
            "throttled": DialNotPlacedError("ThrottlingException"),
            "uncertain": DialUncertainError("timeout"),
        }.get(mode)
        due_before = {q: self.ledger.due(q, self.clock.now(), 1000) for q in ("billing", "general")}
        dialled_before = len(self.dialer.dials)
        try:
            self.service.dispatch()
        except Crash:
            return
        self._check_order(due_before, dialled_before)

    def _check_order(self, due_before, dialled_before) -> None:
        dialled = {d[0] for d in self.dialer.dials[dialled_before:]}
        for queue, due in due_before.items():
            now = self.clock.now()
            lawful = [
                c
                for c in due
                if now < c.expires_at
                and model.lawful_at(now, c.time_zones, self.service.policy.calling_hours)
            ]
            picked = [i for i, c in enumerate(lawful) if c.callback_id in dialled]
            if picked and picked != list(range(len(picked))):
                self.order_violations.append(f"{queue}: dialled positions {picked}")

    @rule(minutes=st.sampled_from([1, 4, 16, 60, 240, 720]))
    def advance(self, minutes) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))

    @rule(data=st.data(), outcome=st.sampled_from(list(Outcome)), duplicate=st.booleans())
    def outcome_event(self, data, outcome, duplicate) -> None:
        if not self.dialer.dials:
            return
        _, token, _ = data.draw(st.sampled_from(self.dialer.dials))
        for _ in range(2 if duplicate else 1):
            self.service.record_outcome(f"contact-{token}", outcome)

    @rule(data=st.data())
    def cancel(self, data) -> None:
        if self.ledger.callbacks:
            self.service.cancel(data.draw(st.sampled_from(sorted(self.ledger.callbacks))))

    @rule(data=st.data(), outcome=st.sampled_from([None, *Outcome]))
    def reconcile(self, data, outcome) -> None:
        for _, token, _ in self.dialer.dials:
            self.contacts.outcomes.setdefault(f"contact-{token}", outcome)
        self.service.reconcile()

    @invariant()
    def at_most_one_dial_per_attempt(self) -> None:
        tokens = [token for _, token, _ in self.dialer.dials]
        assert len(tokens) == len(set(tokens))

    @invariant()
    def no_dial_outside_calling_hours(self) -> None:
        for callback_id, _, at in self.dialer.dials:
            callback = self.ledger.get(callback_id)
            assert model.lawful_at(at, callback.time_zones, self.service.policy.calling_hours)

    @invariant()
    def every_callback_is_final_or_legitimately_waiting(self) -> None:
        for callback in self.ledger.callbacks.values():
            assert callback.attempt <= callback.max_attempts
            if callback.status is Status.DIALING:
                assert callback.lease_until is not None
            if callback.status in model.WAITING:
                assert (
                    callback.due_at < callback.expires_at or self.clock.now() >= callback.expires_at
                )

    @invariant()
    def one_active_callback_per_number_and_queue(self) -> None:
        active = [(c.number, c.queue) for c in self.ledger.callbacks.values() if not c.final]
        assert len(active) == len(set(active))

    @invariant()
    def queue_order_is_kept(self) -> None:
        assert self.order_violations == []


LedgerMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_state_machine = LedgerMachine.TestCase
