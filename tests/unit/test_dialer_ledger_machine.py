"""A stateful property test of the dial ledger: runs of two campaigns that share a subject,
with Connect placing, throttling, refusing and losing its answers; calls ending with their
events delivered once, twice or never; abandoned calls; do-not-calls and revoked consent
arriving at any moment; reconciliation with a lagging search index; and time.

Whatever the order: no (record, attempt) is dialled twice, nothing is dialled after a
do-not-call or a revocation took effect, Florida's 3 calls in 24 h per subject hold across
campaigns, every call is inside the callee's window, and every record is final or found
again by some run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chalicelib.dialer.compliance import Consent, Purpose
from chalicelib.dialer.model import (
    FINAL,
    IN_FLIGHT,
    CampaignRules,
    Disposition,
    Heard,
    RecordStatus,
    RetryRule,
    parse_ref,
)
from chalicelib.outbound.model import (
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    Outcome,
)
from tests.unit.test_dialer_service import NOW, World, sales

NUMBERS = ["+13055550105", "+13055550106", "+12125550143", "+13105550100"]  # 2 in Florida
FLORIDA = frozenset(NUMBERS[:2])
QUICK = {d: RetryRule(after=timedelta(minutes=10)) for d in Disposition}
CAMPAIGNS = (
    sales(name="cards-a", max_attempts=6, retry=QUICK),
    sales(
        name="cards-b",
        max_attempts=6,
        retry=QUICK,
        rules=CampaignRules("us", Purpose.MARKETING, "cards", consent_required=True),
    ),
)
FAILURES = {
    "throttled": DialNotPlacedError("ThrottlingException"),
    "not-allowed": DialRejectedError("DestinationNotAllowedException"),
    "lost-before": DialUncertainError("InternalServiceException"),
}


class DialLedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World(*CAMPAIGNS)
        # number -> how many calls had been placed when its do-not-call (its revocation) was
        # written: every call after that one is a call after it took effect.
        self.said_no: dict[str, int] = {}
        self.revoked: dict[str, int] = {}

    @initialize()
    def lists_ingested_and_consent_given(self) -> None:
        for campaign in CAMPAIGNS:
            self.world.add(*NUMBERS, campaign=campaign.name)
        for number in NUMBERS:
            self.world.recipients.set_consent(number, Consent(given_at=NOW - timedelta(days=1)))

    @rule(
        connect=st.sampled_from(["ok", "ok", "lost-answer", *FAILURES]),
        free=st.integers(0, 3),
    )
    def run(self, connect: str, free: int) -> None:
        calls = self.world.calls
        calls.fail_with = FAILURES.get(connect)
        calls.lose_answer = connect == "lost-answer"
        self.world.staffing.agents = (3, free)
        self.world.service.run()
        calls.fail_with, calls.lose_answer = None, False

    @rule(
        data=st.data(),
        outcome=st.sampled_from([*Outcome, "abandoned"]),
        deliveries=st.integers(0, 2),
    )
    def hang_up(self, data: st.DataObject, outcome: Outcome | str, deliveries: int) -> None:
        """A call ends; its event comes once, twice or never (an abandoned call is told by
        the flow's hook instead)."""
        live = sorted(self.world.calls.live.values())
        if not live:
            return
        contact = data.draw(st.sampled_from(live))
        ref, token = self.world.calls.contacts[contact]
        attempt = int(token.rsplit("-", 1)[1])
        self.world.calls.end(contact)
        if outcome == "abandoned":
            self.world.service.flow_heard(ref, attempt, contact, Heard.ABANDONED)
            outcome = Outcome.NO_ANSWER  # the flow played the message and hung up
        assert isinstance(outcome, Outcome)
        self.world.contacts.outcomes[contact] = outcome  # what DescribeContact says now
        for _ in range(deliveries):
            self.world.service.record_outcome(ref, attempt, contact, outcome)

    @rule(number=st.sampled_from(NUMBERS))
    def do_not_call(self, number: str) -> None:
        self.world.service.do_not_call(number)
        self.said_no.setdefault(number, len(self.world.calls.dials))

    @rule(number=st.sampled_from(NUMBERS))
    def revoke(self, number: str) -> None:
        self.world.service.revoke_consent(number)
        self.revoked.setdefault(number, len(self.world.calls.dials))

    @rule(minutes=st.sampled_from([1, 5, 30, 120, 600]))
    def advance(self, minutes: int) -> None:
        self.world.later(minutes=minutes)

    @rule(indexed=st.booleans(), search_fails=st.booleans())
    def reconcile(self, indexed: bool, search_fails: bool) -> None:
        for contact in self.world.calls.live.values():
            self.world.contacts.outcomes[contact] = None  # DescribeContact: still going
        if indexed:
            self.world.calls.index()
        self.world.calls.search_failure = RuntimeError("Throttling") if search_fails else None
        self.world.service.reconcile()
        self.world.calls.search_failure = None

    # -- what must hold after every step --------------------------------------------------------

    @invariant()
    def no_attempt_is_dialled_twice(self) -> None:
        tokens = [token for _, token, _ in self.world.calls.dials]
        assert len(tokens) == len(set(tokens)), Counter(tokens).most_common(1)

    @invariant()
    def nothing_is_dialled_after_a_do_not_call_or_a_revocation(self) -> None:
        for placed, (ref, _, _) in enumerate(self.world.calls.dials):
            campaign, number = parse_ref(ref) or ("", "")
            assert placed < self.said_no.get(number, placed + 1), ref
            if campaign == "cards-b":
                assert placed < self.revoked.get(number, placed + 1), ref

    @invariant()
    def florida_gets_at_most_three_calls_a_day_on_one_subject(self) -> None:
        times: dict[str, list[datetime]] = {}
        for ref, _, at in self.world.calls.dials:
            number = (parse_ref(ref) or ("", ""))[1]
            if number in FLORIDA and at is not None:
                times.setdefault(number, []).append(at)
        for calls in times.values():
            for at in calls:
                within = [t for t in calls if at - timedelta(hours=24) < t <= at]
                assert len(within) <= 3, sorted(calls)

    @invariant()
    def every_call_is_inside_the_callees_window(self) -> None:
        for ref, _, at in self.world.calls.dials:
            number = (parse_ref(ref) or ("", ""))[1]
            record = self.world.ledger.get("cards-a", number)
            assert record is not None and at is not None
            for zone in record.time_zones:
                local = at.astimezone(ZoneInfo(zone)).time()
                closes = 20 if number in FLORIDA else 21
                assert 8 <= local.hour < closes, (number, local)

    @invariant()
    def every_record_is_final_or_found_again(self) -> None:
        for record in self.world.ledger.records.values():
            assert record.attempt.ordinal <= 6
            if record.status in IN_FLIGHT or record.status is RecordStatus.OFFERED:
                assert record.lease_ends is not None
            elif record.status not in FINAL:
                assert record.status is RecordStatus.READY and record.due_at is not None
            # The record's status in flight is its attempt's phase, and only then.
            in_flight = record.status.value if record.status in IN_FLIGHT else "IDLE"
            assert record.attempt.phase.value == in_flight

    @invariant()
    def figures_count_each_attempt_once(self) -> None:
        for campaign in CAMPAIGNS:
            total = self.world.ledger.figures(campaign.name, self.world.clock.now()).total
            dials = [r for r, _, _ in self.world.calls.dials if r.startswith(campaign.name + "/")]
            assert total.dialled <= len(dials)
            ended = sum(total.dispositions.values())
            records = [r for (c, _), r in self.world.ledger.records.items() if c == campaign.name]
            assert ended <= sum(r.attempt.ordinal for r in records)


DialLedgerMachine.TestCase.settings = settings(
    max_examples=250,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_dial_ledger_state_machine = DialLedgerMachine.TestCase


def test_the_machine_can_reach_the_cases_it_guards() -> None:
    """The invariants are only worth what the machine reaches: a fixed walk through a do-not-
    call, a cap and a lost answer shows each one bites when the code is wrong."""
    machine = DialLedgerMachine()
    machine.lists_ingested_and_consent_given()
    machine.run("ok", 3)
    assert len(machine.world.calls.dials) == 6  # three free agents, two campaigns
    machine.do_not_call(NUMBERS[3])
    machine.world.calls.dials.append(
        (f"cards-a/{NUMBERS[3]}", "forged-token", machine.world.clock.now())
    )
    try:
        machine.nothing_is_dialled_after_a_do_not_call_or_a_revocation()
    except AssertionError:
        pass
    else:
        raise AssertionError("the do-not-call invariant did not see a dial after it")
    machine.world.calls.dials.append(machine.world.calls.dials[0])
    try:
        machine.no_attempt_is_dialled_twice()
    except AssertionError:
        return
    raise AssertionError("the once-per-attempt invariant did not see a repeat")
