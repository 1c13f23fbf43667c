"""Callback use cases over in-memory ports, and a stateful property test of the ledger."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chalicelib.bootstrap import load_routing_rules
from chalicelib.callbacks import model
from chalicelib.callbacks.model import Outcome, Status
from chalicelib.callbacks.service import (
    CallbackError,
    CallbackService,
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
)
from chalicelib.outbound.service import commit_or_stop, lease_ended
from chalicelib.platform.clock import FixedClock
from devkit.fakes.callbacks import InMemoryLedger, RecordingDialer, SequentialIds, callback_queues
from devkit.fakes.outbound import FixedAgents, ScriptedContacts

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York, 07:00 in LA
RULES = load_routing_rules()
QUEUES = callback_queues()
NEW_YORK = "+12125550142"
LOS_ANGELES = "+14155550101"


def build(
    free: int | dict[str, int] = 100,
) -> tuple[CallbackService, InMemoryLedger, RecordingDialer, ScriptedContacts, FixedClock]:
    clock = FixedClock(NOW)
    ledger, dialer, contacts = InMemoryLedger(), RecordingDialer(), ScriptedContacts()
    dialer.clock = clock
    service = CallbackService(
        ledger, dialer, FixedAgents(free), contacts, clock, QUEUES, SequentialIds(), dialer
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


def test_a_run_dials_no_more_than_its_time_allows_and_says_what_it_left() -> None:
    """Four agents free in two queues, five callbacks due, time for three dials: three are
    dialled best first, the two it could not reach are counted for the next run."""
    service, _, dialer, _, _ = build(free={"billing": 2, "general": 2})
    billing = [service.request(f"+1212555014{n}", "billing") for n in range(3)]
    general = [service.request(f"+1212555015{n}", "general") for n in range(2)]
    report = service.dispatch(max_dials=3)
    assert len(report.dialled) == 3 and len(dialer.dials) == 3
    assert report.left_for_next_run == 1  # billing's third waits for an agent, not the budget
    assert [c.callback.callback_id for c in billing[:2]] == report.dialled[:2]
    dialled = {d[0] for d in dialer.dials}
    assert general[0].callback.callback_id in dialled
    assert general[1].callback.callback_id not in dialled
    report = service.dispatch(max_dials=0)  # no time at all: both still due are counted
    assert report.dialled == [] and report.left_for_next_run == 2


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


def test_each_queue_dials_as_many_as_its_own_free_agents() -> None:
    """One free agent in billing and one in general, one callback waiting in each: both are
    dialled (the run used to count every queue's dials against each queue)."""
    service, _, dialer, _, _ = build(free={"billing": 1, "general": 1})
    billing = service.request(NEW_YORK, "billing")
    general = service.request("+12125550143", "general")
    service.request("+12125550144", "general")
    report = service.dispatch()
    assert sorted(report.dialled) == sorted(
        [billing.callback.callback_id, general.callback.callback_id]
    )
    assert len(dialer.dials) == 2


def test_a_dial_connect_may_have_placed_holds_its_agent() -> None:
    """An uncertain dial may be ringing: it counts against the queue's free agents."""
    service, ledger, dialer, _, _ = build(free={"billing": 1})
    first = service.request(NEW_YORK, "billing")
    service.request("+12125550143", "billing")
    dialer.fail_with = DialUncertainError("ReadTimeoutError")
    report = service.dispatch()
    assert report.uncertain == [first.callback.callback_id] and report.dialled == []
    assert [c.status for c in ledger.callbacks.values()].count(Status.DIALING) == 1


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
    assert stored.status is status and stored.attempt.same_again is same_attempt


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


class DiesAfterConnect(RecordingDialer):
    """Connect places the call, then the first worker dies before the contact id is written."""

    def __init__(self) -> None:
        super().__init__()
        self.dying = True

    def dial(self, callback, commit):
        commit_or_stop(commit)
        contact = self.place(callback)
        if self.dying:
            self.dying = False
            raise RuntimeError("worker died after Connect accepted the call")
        return contact


def _died_after_connect() -> tuple[
    CallbackService, InMemoryLedger, DiesAfterConnect, ScriptedContacts, FixedClock, str
]:
    service, ledger, _, contacts, clock = build()
    dialer = DiesAfterConnect()
    service = replace(service, dialer=dialer, search=dialer)
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    with pytest.raises(RuntimeError):
        service.dispatch()
    assert ledger.get(callback_id).attempt.contact_id == ""
    return service, ledger, dialer, contacts, clock, callback_id


def test_a_call_placed_by_a_worker_that_died_is_found_by_its_name_not_placed_again() -> None:
    service, _, dialer, contacts, clock, callback_id = _died_after_connect()
    contact = f"contact-{callback_id}-1"
    contacts.outcomes[contact] = None  # the customer is still on that call

    clock.set(NOW + timedelta(minutes=1))
    waiting = service.reconcile()[0]  # Connect's search index has not caught up yet
    assert waiting.status is Status.UNKNOWN and waiting.attempt.lease_until > clock.now()
    dialer.index()
    clock.set(waiting.attempt.lease_until)
    recovered = service.reconcile()[0]
    assert (recovered.status, recovered.attempt.contact_id) == (Status.DIALING, contact)
    assert recovered.attempt.ordinal == 1 and len(dialer.dials) == 1 and dialer.replays == 0

    contacts.outcomes[contact] = Outcome.CONNECTED
    clock.set(NOW + timedelta(minutes=5))
    assert service.reconcile()[0].status is Status.COMPLETED
    clock.set(NOW + timedelta(hours=2))
    service.dispatch()
    service.reconcile()
    assert len(dialer.dials) == 1  # one customer, one call


def test_a_lost_call_that_already_ended_is_never_dialled_again_for_its_attempt() -> None:
    """The case a replayed ClientToken gets wrong: the first contact has ended, so Connect
    would start a new call for the same token. The search names the ended contact, and its
    outcome settles the attempt; the next attempt is a new one, when the policy says."""
    service, _, dialer, contacts, clock, callback_id = _died_after_connect()
    contact = f"contact-{callback_id}-1"
    dialer.end(contact)  # it rang out
    dialer.index()
    contacts.outcomes[contact] = Outcome.NO_ANSWER
    clock.set(NOW + timedelta(minutes=4))
    found = service.reconcile()[0]
    assert (found.status, found.attempt.contact_id, len(dialer.dials)) == (
        Status.DIALING, contact, 1,
    )  # fmt: skip
    clock.set(found.attempt.lease_until)
    retried = service.reconcile()[0]
    assert (retried.status, retried.attempt.ordinal, len(dialer.dials)) == (Status.RETRY_WAIT, 1, 1)


def test_a_lost_call_never_found_counts_its_attempt_as_used_without_a_second_call() -> None:
    service, ledger, dialer, _, clock, callback_id = _died_after_connect()
    sent_at = ledger.get(callback_id).attempt.sent_at
    clock.set(NOW + timedelta(minutes=4))
    assert service.reconcile()[0].status is Status.UNKNOWN  # not found yet: looked at again
    clock.set(sent_at + timedelta(minutes=15))  # outbound.service.SEARCH_HORIZON
    lost = service.reconcile()[0]
    assert (lost.status, lost.attempt.ordinal, len(dialer.dials)) == (Status.RETRY_WAIT, 1, 1)


def test_an_answer_heard_by_the_callback_flow_is_kept_even_if_the_contact_id_was_lost() -> None:
    service, ledger, dialer, _, clock, callback_id = _died_after_connect()
    contact = f"contact-{callback_id}-1"
    # The customer pressed 1; the flow's hook knows the contact's attributes.
    assert service.record_outcome(contact, Outcome.CONNECTED) is None
    done = service.record_outcome(contact, Outcome.CONNECTED, callback_id=callback_id, attempt=1)
    assert done.status is Status.COMPLETED
    dialer.end(contact)
    clock.set(NOW + timedelta(minutes=5))
    assert service.reconcile() == [] and len(dialer.dials) == 1
    # An answer naming another attempt of the callback is not taken for this one.
    assert service.record_outcome("x", Outcome.DECLINED, callback_id=callback_id, attempt=2) is None
    assert ledger.get(callback_id).status is Status.COMPLETED


def test_a_lost_attempt_is_searched_for_at_any_hour_and_answers_still_count() -> None:
    """Settling sends nothing, so it need not wait for calling hours; the next attempt does."""
    service, _, _, _, clock = build()
    dialer = DiesAfterConnect()
    service = replace(service, dialer=dialer, search=dialer)
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    clock.set(datetime(2026, 11, 25, 1, 59, 30, tzinfo=UTC))  # 20:59:30 in New York
    with pytest.raises(RuntimeError):
        service.dispatch()
    clock.set(datetime(2026, 11, 25, 2, 1, tzinfo=UTC))  # 21:01
    dialer.index()
    found = service.reconcile()[0]  # at 21:01: a search calls nobody
    assert found.status is Status.DIALING and dialer.replays == 0
    morning = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 in New York
    # The customer had answered; pressing 1 at 21:02 still completes the callback.
    contact = f"contact-{callback_id}-1"
    done = service.record_outcome(contact, Outcome.CONNECTED, callback_id=callback_id, attempt=1)
    assert done.status is Status.COMPLETED
    clock.set(morning + timedelta(minutes=5))
    service.dispatch()
    service.reconcile()
    assert len(dialer.dials) == 1


def test_a_throttled_look_up_defers_and_a_later_run_settles_it() -> None:
    service, _, _, contacts, clock = build()
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    service.dispatch()
    contacts.failure = RuntimeError("ThrottlingException")
    clock.set(NOW + timedelta(minutes=4))
    deferred = service.reconcile()[0]
    assert deferred.status is Status.UNKNOWN and deferred.attempt.lease_until > clock.now()
    assert service.reconcile() == []  # not before it is due to be looked at again
    contacts.failure = None
    contacts.outcomes[f"contact-{callback_id}-1"] = Outcome.CONNECTED
    clock.set(deferred.attempt.lease_until)
    assert service.reconcile()[0].status is Status.COMPLETED
    assert service.request(NEW_YORK, "billing").callback.callback_id != callback_id


def test_a_run_that_dies_between_the_two_writes_leaves_nothing_stranded() -> None:
    service, ledger, dialer, contacts, clock = build()
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    service.dispatch()
    clock.set(NOW + timedelta(minutes=4))
    dialling = ledger.get(callback_id)
    ledger.transition(
        dialling, lease_ended(dialling, clock.now(), model.Rules(service.policy))
    )  # then it died
    assert ledger.get(callback_id).status is Status.UNKNOWN
    # While UNKNOWN it still holds the number, the caller can still cancel it...
    assert service.request(NEW_YORK, "billing").callback.callback_id == callback_id
    # ...and the next run finds it and settles it.
    contacts.outcomes[f"contact-{callback_id}-1"] = Outcome.NO_ANSWER
    assert service.reconcile()[0].status is Status.RETRY_WAIT
    assert len(dialer.dials) == 1


def test_an_unknown_callback_can_be_cancelled_by_the_caller() -> None:
    service, ledger, *_ = build()
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    service.dispatch()
    dialling = ledger.get(callback_id)
    ledger.transition(
        dialling, lease_ended(dialling, NOW + timedelta(minutes=4), model.Rules(service.policy))
    )
    assert service.cancel(callback_id).callback.status is Status.CANCELLED
    assert not service.request(NEW_YORK, "billing").existing


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

    def dial(self, callback, commit):
        if self.mode == "before":
            raise Crash("died before calling Connect")
        if self.mode == "throttled":
            raise DialNotPlacedError("ThrottlingException")
        commit_or_stop(commit)
        contact = self.place(callback)
        if self.mode == "after":
            raise Crash("died after Connect placed the call")
        if self.mode == "uncertain":  # the worst case: placed, but the answer never came
            raise DialUncertainError("ReadTimeoutError")
        return contact


NUMBERS = [NEW_YORK, "+12125550143", "+13055550105", LOS_ANGELES, "+16175550100"]
ANSWERS = (Outcome.CONNECTED, Outcome.DECLINED)  # heard by the callback flow's hook


class LedgerMachine(RuleBasedStateMachine):
    """Requests, dispatches (crashing before and after Connect, throttled, uncertain), hang-ups
    with their events delivered, duplicated or lost, cancels, reconciliations and time."""

    def __init__(self) -> None:
        super().__init__()
        self.service, self.ledger, _, self.contacts, self.clock = build()
        self.dialer = CrashingDialer()
        self.dialer.clock = self.clock
        self.agents = FixedAgents({"billing": 1, "general": 2})
        self.service = replace(
            self.service, dialer=self.dialer, search=self.dialer, agents=self.agents
        )
        self.ended: dict[str, Outcome] = {}  # contact -> how it ended
        self.dials_when_answered: dict[str, int] = {}  # callback -> its dials at the answer
        self.violations: list[str] = []

    @initialize()
    def two_callers_waiting(self) -> None:
        self.service.request(NEW_YORK, "billing")
        self.service.request("+12125550143", "general")

    @rule(
        number=st.sampled_from(NUMBERS),
        queue=st.sampled_from(["billing", "general"]),
        priority=st.sampled_from([1, 5]),
    )
    def request(self, number, queue, priority) -> None:
        try:
            self.service.request(number, queue, priority=priority)
        except CallbackError as error:  # only ever the hourly allowance, once it is used up
            assert error.code == "rate_limited"
            allowance = model.hourly_allowance(
                number, self.clock.now(), self.service.requests_per_hour
            )
            assert self.ledger.charged[allowance.key] == allowance.limit

    @rule(
        mode=st.sampled_from(["ok", "before", "after", "throttled", "uncertain"]),
        billing=st.integers(0, 2),
        general=st.integers(0, 2),
    )
    def dispatch(self, mode, billing, general) -> None:
        self.dialer.mode = mode
        self.agents.free = {"billing": billing, "general": general}
        due_before = {q: self.ledger.due(q, self.clock.now(), 1000) for q in ("billing", "general")}
        dialled_before = len(self.dialer.dials)
        with contextlib.suppress(Crash):
            self.service.dispatch()
        self.dialer.mode = "ok"
        new_dials = self.dialer.dials[dialled_before:]
        self._check_agents(new_dials)
        if mode != "before":
            self._check_order(due_before, {d[0] for d in new_dials})

    def _check_agents(self, new_dials) -> None:
        for queue, free in self.agents.free.items():
            placed = sum(self.ledger.get(c).queue == queue for c, _, _ in new_dials)
            if placed > free:
                self.violations.append(f"{queue}: {placed} calls for {free} free agents")

    def _check_order(self, due_before, dialled) -> None:
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
                self.violations.append(f"{queue}: dialled positions {picked}")

    @rule(minutes=st.sampled_from([1, 4, 16, 60, 240, 720]))
    def advance(self, minutes) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))
        # Connect's search index catches up within a minute or two, well inside the
        # 15 minutes reconciliation searches for a contact (outbound.service.SEARCH_HORIZON).
        self.dialer.index()

    @rule(data=st.data(), outcome=st.sampled_from(list(Outcome)), delivery=st.integers(0, 2))
    def hang_up(self, data, outcome, delivery) -> None:
        """A call ends. An answer is heard by the callback flow's hook, which knows the
        contact's attributes; any other ending comes as a contact event: once, twice, or
        never (events are best effort)."""
        live = sorted(self.dialer.live.values())
        if not live:
            return
        contact = data.draw(st.sampled_from(live))
        callback_id, token = self.dialer.contacts[contact]
        self.dialer.end(contact)
        self.ended[contact] = outcome
        self.contacts.outcomes[contact] = outcome  # what DescribeContact now says
        if outcome in ANSWERS:
            attempt = int(token.rsplit("-", 1)[1])
            self.service.record_outcome(contact, outcome, callback_id=callback_id, attempt=attempt)
            dials = sum(c == callback_id for c, _, _ in self.dialer.dials)
            self.dials_when_answered.setdefault(callback_id, dials)
            return
        for _ in range(delivery):
            self.service.record_outcome(contact, outcome)

    @rule(data=st.data())
    def cancel(self, data) -> None:
        if self.ledger.callbacks:
            self.service.cancel(data.draw(st.sampled_from(sorted(self.ledger.callbacks))))

    @rule(throttled=st.booleans())
    def reconcile(self, throttled) -> None:
        for contact in self.dialer.live.values():
            self.contacts.outcomes[contact] = None  # DescribeContact: still going
        self.contacts.failure = RuntimeError("ThrottlingException") if throttled else None
        self.service.reconcile()
        self.contacts.failure = None

    @invariant()
    def a_token_is_dialled_again_only_after_its_call_ended_unanswered(self) -> None:
        by_token: dict[str, list[str]] = {}
        for contact, (_, token) in self.dialer.contacts.items():
            by_token.setdefault(token, []).append(contact)
        for contacts in by_token.values():
            for earlier in contacts[:-1]:
                assert earlier in self.ended, f"{earlier} still going, and dialled again"
                assert self.ended[earlier] not in ANSWERS, f"{earlier} answered, and dialled again"

    @invariant()
    def a_callback_has_one_call_going_at_most(self) -> None:
        going = [self.dialer.contacts[c][0] for c in self.dialer.live.values()]
        assert len(going) == len(set(going))

    @invariant()
    def a_customer_who_answered_is_not_called_again(self) -> None:
        for callback_id, dials in self.dials_when_answered.items():
            assert sum(c == callback_id for c, _, _ in self.dialer.dials) == dials

    @invariant()
    def no_dial_outside_calling_hours(self) -> None:
        for callback_id, _, at in self.dialer.dials:
            callback = self.ledger.get(callback_id)
            assert model.lawful_at(at, callback.time_zones, self.service.policy.calling_hours)

    @invariant()
    def every_callback_is_final_or_found_again_by_some_run(self) -> None:
        for callback in self.ledger.callbacks.values():
            assert callback.attempt.ordinal <= callback.max_attempts
            if callback.status in model.IN_FLIGHT:
                assert callback.attempt.lease_until is not None  # reconciliation finds it
            # The callback's status in flight is its attempt's phase, and only then.
            in_flight = callback.status.value if callback.status in model.IN_FLIGHT else "IDLE"
            assert callback.attempt.phase.value == in_flight
            if callback.status in model.WAITING:
                assert (
                    callback.due_at < callback.expires_at or self.clock.now() >= callback.expires_at
                )

    @invariant()
    def one_active_callback_per_number_and_queue(self) -> None:
        active = [(c.number, c.queue) for c in self.ledger.callbacks.values() if not c.final]
        assert len(active) == len(set(active))

    @invariant()
    def each_queue_keeps_its_order_and_its_agent_count(self) -> None:
        assert self.violations == []


LedgerMachine.TestCase.settings = settings(
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_state_machine = LedgerMachine.TestCase


def test_a_dispatch_run_budgets_its_dials_from_the_time_it_has_left() -> None:
    from types import SimpleNamespace

    from chalicelib.callbacks.handlers import _dial_budget

    def run_with(millis: float) -> SimpleNamespace:
        return SimpleNamespace(context=SimpleNamespace(get_remaining_time_in_millis=lambda: millis))

    assert _dial_budget(run_with(55_000)) == 82  # 3/4 of 55 s at 2 calls a second
    assert _dial_budget(run_with(0)) == 0
    assert _dial_budget(SimpleNamespace()) is None  # no context: every free agent's call


# -- a cancel against the dispatcher's last write ----------------------------------------------


class CancelledAround(RecordingDialer):
    """The caller cancels during the pacer's wait (before the last write) or just after it."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when
        self.cancel: Any = None
        self.answers: list[Any] = []

    def dial(self, callback, commit):
        if self.when == "pacing":
            self.answers.append(self.cancel(callback.callback_id))
        commit_or_stop(commit)
        if self.when == "sent":
            self.answers.append(self.cancel(callback.callback_id))
        return self.place(callback)


def test_a_cancel_during_the_pacers_wait_wins_and_nothing_is_dialled() -> None:
    service, ledger, *_ = build()
    dialer = CancelledAround("pacing")
    service = replace(service, dialer=dialer)
    dialer.cancel = service.cancel
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    report = service.dispatch()
    assert report.stopped == [callback_id] and report.placed() == 0
    assert dialer.dials == []
    (answer,) = dialer.answers
    assert answer.callback.status is Status.CANCELLED and not answer.call_in_progress
    assert ledger.get(callback_id).status is Status.CANCELLED


def test_a_cancel_after_the_last_write_says_the_call_is_already_on_its_way() -> None:
    service, ledger, *_ = build()
    dialer = CancelledAround("sent")
    service = replace(service, dialer=dialer)
    dialer.cancel = service.cancel
    callback_id = service.request(NEW_YORK, "billing").callback.callback_id
    service.dispatch()
    assert len(dialer.dials) == 1
    (answer,) = dialer.answers
    assert answer.callback.status is Status.CANCELLED and answer.call_in_progress
    assert ledger.get(callback_id).status is Status.CANCELLED  # no further attempt
