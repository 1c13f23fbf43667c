"""The dialer's use cases over in-memory ports: pacing a run, the rules checked after the
claim on fresh data, caller IDs, outcomes and retries, preview, and reconciliation that
never sends an attempt's call twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.dialer import model as dialer_model
from chalicelib.dialer.compliance import Consent, PastCall, Purpose
from chalicelib.dialer.contacts import Contact
from chalicelib.dialer.model import (
    CallerId,
    Campaign,
    CampaignRules,
    Disposition,
    Heard,
    Mode,
    RecordStatus,
    RetryRule,
    Seen,
    record_ref,
)
from chalicelib.dialer.service import DialerError, DialerService
from chalicelib.outbound.model import (
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    Leases,
    OutboundCall,
    Outcome,
)
from chalicelib.outbound.service import Commit
from chalicelib.platform.clock import FixedClock
from chalicelib.platform.phone import time_zones
from devkit.fakes.dialer import (
    FixedStaffing,
    InMemoryCallerIds,
    InMemoryCampaigns,
    InMemoryDialLedger,
    InMemoryRecipients,
    RecordingCalls,
)
from devkit.fakes.outbound import ScriptedContacts

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York, 07:00 in LA
NEW_YORK, MIAMI, LOS_ANGELES = "+12125550143", "+13055550105", "+13105550100"
BOSTON = "+16175550100"


def sales(**changes: object) -> Campaign:
    campaign = Campaign(
        name="card-upgrade",
        mode=Mode.PROGRESSIVE,
        queue="sales",
        flow="outbound-sales",
        rules=CampaignRules("us", Purpose.MARKETING, "cards"),
        caller_ids=(
            CallerId("+12125550199", "US", "212"),
            CallerId("+13055550199", "US", "305"),
        ),
        caller_id_daily_cap=100,
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 20),
        answering_machine_detection=True,
    )
    return replace(campaign, **changes)  # type: ignore[arg-type]


class World:
    """A dialer on in-memory ports, and the handles a test moves."""

    def __init__(self, *campaigns: Campaign, staffed: int = 10, free: int = 10) -> None:
        self.clock = FixedClock(NOW)
        self.recipients = InMemoryRecipients(copy_at=NOW - timedelta(days=5))
        self.ledger = InMemoryDialLedger(people=self.recipients)
        self.calls = RecordingCalls()
        self.calls.clock = self.clock
        self.contacts = ScriptedContacts()
        self.staffing = FixedStaffing(staffed, free)
        self.caller_ids = InMemoryCallerIds()
        self.campaigns = InMemoryCampaigns(*(campaigns or (sales(),)))
        self.service = DialerService(
            ledger=self.ledger,
            recipients=self.recipients,
            caller_ids=self.caller_ids,
            calls=self.calls,
            contacts=self.contacts,
            staffing=self.staffing,
            campaigns=self.campaigns,
            clock=self.clock,
            queue_ids={"sales": "q-sales"},
            flow_ids={"outbound-sales": "f-sales", "outbound-survey": "f-survey"},
            search=self.calls,
        )

    def add(self, *numbers: str, campaign: str = "card-upgrade") -> None:
        contacts = [Contact(i + 2, n, time_zones(n)) for i, n in enumerate(numbers)]
        self.ledger.add(campaign, contacts, self.clock.now())

    def record(self, number: str, campaign: str = "card-upgrade"):
        record = self.ledger.get(campaign, number)
        assert record is not None
        return record

    def later(self, **delta: float) -> None:
        self.clock.set(self.clock.now() + timedelta(**delta))

    def end(self, number: str, outcome: Outcome, campaign: str = "card-upgrade"):
        """The call hangs up and its contact event arrives."""
        record = self.record(number, campaign)
        self.calls.end(record.attempt.contact_id)
        return self.service.record_outcome(
            record.ref, record.attempt.ordinal, record.attempt.contact_id, outcome
        )


# -- pacing and the call itself -----------------------------------------------------------------


def test_progressive_dials_one_call_per_free_agent_as_campaign_traffic() -> None:
    world = World(free=3)
    world.add(NEW_YORK, MIAMI, BOSTON, "+12125550144", "+12125550145")

    (report,) = world.service.run()

    assert len(report.dialled) == 3
    call = world.calls.requests[0]
    assert call.traffic_type == "CAMPAIGN" and call.answering_machine_detection
    assert (call.flow_id, call.queue_id, call.owner) == ("f-sales", "q-sales", "dialer")
    assert call.attributes == {"campaign": "card-upgrade", "campaign_attempt": "1"}
    assert NEW_YORK not in call.name and call.name.startswith("card-upgrade #1 ")
    assert len({c.token for c in world.calls.requests}) == 3


def test_calls_in_flight_hold_their_agents_until_they_end() -> None:
    world = World(free=2)
    world.add(NEW_YORK, MIAMI, BOSTON)
    world.service.run()

    (again,) = world.service.run()

    assert again.placed() == 0 and len(world.calls.dials) == 2


def test_caller_id_is_local_to_the_callee_when_the_pool_has_one() -> None:
    world = World()
    world.add(MIAMI, NEW_YORK)
    world.service.run()

    by_number = {c.number: c.source_number for c in world.calls.requests}
    assert by_number == {MIAMI: "+13055550199", NEW_YORK: "+12125550199"}


def test_caller_ids_at_their_daily_cap_defer_the_record_to_the_next_day() -> None:
    world = World(sales(caller_id_daily_cap=1))
    world.add(NEW_YORK, MIAMI, BOSTON)

    (report,) = world.service.run()

    assert len(report.dialled) == 2 and report.deferred == [BOSTON]
    boston = world.record(BOSTON)
    assert boston.due_at == datetime(2026, 12, 3, tzinfo=UTC) and boston.attempt.same_again
    assert world.recipients.read(BOSTON).recipient.calls == ()  # its reservation released


def test_agentless_campaigns_dial_up_to_their_limit_without_agent_figures() -> None:
    survey = sales(name="nps", mode=Mode.AGENTLESS, queue="", flow="outbound-survey")
    world = World(replace(survey, max_in_flight=2))
    world.staffing.agents = None
    world.add(NEW_YORK, MIAMI, BOSTON, campaign="nps")

    (report,) = world.service.run()

    assert len(report.dialled) == 2 and world.calls.requests[0].queue_id == ""


def test_without_agent_figures_nothing_is_dialled() -> None:
    world = World()
    world.staffing.agents = None
    world.add(NEW_YORK)

    (report,) = world.service.run()

    assert report.placed() == 0 and "unavailable" in report.note
    assert world.record(NEW_YORK).status is RecordStatus.READY


def test_a_campaign_whose_flow_has_no_id_claims_nothing() -> None:
    world = World(sales(flow="outbound-unknown"))
    world.add(NEW_YORK)

    (report,) = world.service.run()

    assert "outbound-unknown" in report.note and world.record(NEW_YORK).attempt.ordinal == 0


def test_paused_and_finished_campaigns_are_not_run() -> None:
    world = World(sales(paused=True), sales(name="over", ends_on=date(2026, 12, 1)))
    world.add(NEW_YORK)
    world.add(NEW_YORK, campaign="over")

    assert world.service.run() == [] and world.calls.dials == []


# -- the rules, after the claim ------------------------------------------------------------------


def test_outside_the_window_the_same_attempt_waits_for_the_window_to_open() -> None:
    world = World()
    world.clock.set(datetime(2026, 12, 2, 13, 30, tzinfo=UTC))  # 08:30 NY, 05:30 LA
    world.add(NEW_YORK, LOS_ANGELES)

    (report,) = world.service.run()

    assert report.dialled == [NEW_YORK] and report.deferred == [LOS_ANGELES]
    assert report.refusals == {"outside_window": 1}
    la = world.record(LOS_ANGELES)
    assert la.due_at == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # 08:00 in LA
    world.clock.set(la.due_at)
    world.service.run()
    assert world.calls.requests[-1].token.endswith(f"{LOS_ANGELES}-1")  # still attempt 1


def test_florida_numbers_stop_at_eight_in_the_evening() -> None:
    world = World()
    world.clock.set(datetime(2026, 12, 3, 1, 30, tzinfo=UTC))  # 20:30 in New York and Miami
    world.add(NEW_YORK, MIAMI)

    (report,) = world.service.run()

    assert report.dialled == [NEW_YORK] and report.deferred == [MIAMI]


def test_an_internal_do_not_call_stops_the_record_for_good() -> None:
    world = World()
    world.add(NEW_YORK)
    world.service.do_not_call("(212) 555-0143")

    (report,) = world.service.run()

    assert report.stopped == [NEW_YORK] and world.calls.dials == []
    assert world.record(NEW_YORK).status is RecordStatus.STOPPED


def test_calls_in_progress_names_each_campaign_whose_call_was_sent_and_goes_on() -> None:
    """What a do-not-call answers 202 with: a call handed to Connect (its last write made)
    and not ended, in any campaign; a claimed call not yet sent is stopped, not named."""
    world = World(sales(), sales(name="winter-offer"), sales(name="spring-offer"))
    world.add(NEW_YORK)
    world.add(NEW_YORK, campaign="winter-offer")
    assert world.service.calls_in_progress(NEW_YORK) == []
    claimed = dialer_model.claim(world.record(NEW_YORK), NOW, Leases())
    world.ledger.records[("card-upgrade", NEW_YORK)] = dialer_model.send(claimed, "", NOW)
    unsent = dialer_model.claim(world.record(NEW_YORK, "winter-offer"), NOW, Leases())
    world.ledger.records[("winter-offer", NEW_YORK)] = unsent
    assert world.service.calls_in_progress(NEW_YORK) == ["card-upgrade"]


def test_a_stale_registry_copy_halts_dialling_without_spending_attempts() -> None:
    world = World()
    world.recipients.copy_at = NOW - timedelta(days=32)
    world.add(NEW_YORK)

    (report,) = world.service.run()

    assert report.refusals == {"dnc_copy_stale": 1} and world.calls.dials == []
    record = world.record(NEW_YORK)
    assert record.status is RecordStatus.READY and record.attempt.same_again
    assert record.due_at == NOW + timedelta(hours=1)


class DoNotCallDuringTheCheck(InMemoryRecipients):
    """The person says "don't call me" between the dialer's read and its reservation."""

    said_it = False

    def reserve(self, number: str, seen: Seen, call: PastCall, token: str) -> bool:
        if not self.said_it:
            self.said_it = True
            self.do_not_call(number, NOW)
        return super().reserve(number, seen, call, token)


def test_a_do_not_call_landing_after_the_check_is_still_honoured() -> None:
    world = World()
    world.recipients = world.service.recipients = DoNotCallDuringTheCheck(NOW)  # type: ignore[misc]
    world.add(NEW_YORK)

    (report,) = world.service.run()

    assert world.calls.dials == [] and report.stopped == [NEW_YORK]


class DoNotCallWhilePacing(RecordingCalls):
    """The person says "don't call me" after the reservation, while the pacer makes the run
    wait: the outbound core's last write comes after that."""

    def __init__(self, recipients: InMemoryRecipients) -> None:
        super().__init__()
        self.recipients = recipients

    def start(self, call: OutboundCall, commit: Commit) -> str:
        self.recipients.do_not_call(call.number, NOW)
        return super().start(call, commit)


def test_a_do_not_call_during_the_pacers_wait_sends_nothing_and_the_next_run_stops_it() -> None:
    world = World()
    world.calls = world.service.calls = DoNotCallWhilePacing(world.recipients)  # type: ignore[misc]
    world.add(NEW_YORK)

    (report,) = world.service.run()

    assert world.calls.dials == [] and report.deferred == [NEW_YORK]  # judged again next run
    assert world.recipients.read(NEW_YORK).recipient.calls == ()  # the reservation released
    (again,) = world.service.run()
    assert again.stopped == [NEW_YORK] and world.calls.dials == []
    assert world.record(NEW_YORK).status is RecordStatus.STOPPED


def test_frequency_caps_count_calls_from_every_campaign() -> None:
    """Florida: three calls in 24 h on one subject, whichever campaign made them."""
    world = World(sales(), sales(name="card-upgrade-2"))
    for hours in (1, 2):
        world.recipients.reserve(
            MIAMI,
            world.recipients.read(MIAMI),
            PastCall(NOW - timedelta(hours=hours), Purpose.MARKETING, "cards"),
            f"t{hours}",
        )
    world.add(MIAMI)
    world.add(MIAMI, campaign="card-upgrade-2")

    reports = world.service.run()

    assert sum(len(r.dialled) for r in reports) == 1
    deferred = next(r for r in reports if r.deferred)
    assert deferred.refusals == {"frequency_cap": 1}
    waiting = world.record(MIAMI, deferred.campaign)
    assert waiting.due_at == NOW + timedelta(hours=22)  # when the oldest call ages out


# -- what Connect answers -------------------------------------------------------------------------


def test_throttled_the_same_attempt_is_tried_again_and_nothing_stays_counted() -> None:
    world = World()
    world.calls.fail_with = DialNotPlacedError("ThrottlingException")
    world.add(NEW_YORK)

    (report,) = world.service.run()

    record = world.record(NEW_YORK)
    assert report.deferred == [NEW_YORK] and record.attempt.same_again
    assert world.recipients.read(NEW_YORK).recipient.calls == ()
    world.calls.fail_with = None
    world.later(seconds=30)
    world.service.run()
    assert world.calls.dials[0][1].endswith("-1")


@pytest.mark.parametrize(
    "code", ["DestinationNotAllowedException", "OutboundContactNotPermittedException"]
)
def test_a_call_connect_will_never_place_fails_the_record(code: str) -> None:
    world = World()
    world.calls.fail_with = DialRejectedError(code)
    world.add(NEW_YORK)

    (report,) = world.service.run()

    record = world.record(NEW_YORK)
    assert report.failed == [NEW_YORK] and record.status is RecordStatus.FAILED
    assert code in record.history[-1].reason
    assert world.recipients.read(NEW_YORK).recipient.calls == ()


def test_a_lost_answer_is_found_by_search_and_never_dialled_again() -> None:
    world = World()
    world.calls.lose_answer = True  # Connect placed it; its answer never reached us
    world.add(NEW_YORK)
    (report,) = world.service.run()
    assert report.uncertain == [NEW_YORK]

    world.later(seconds=31)
    world.service.reconcile()  # not in the search index yet
    assert world.record(NEW_YORK).status is RecordStatus.UNKNOWN
    world.calls.index()
    world.later(minutes=1)
    (found,) = world.service.reconcile()

    assert found.status is RecordStatus.DIALING and found.attempt.contact_id
    world.contacts.outcomes[found.attempt.contact_id] = Outcome.CONNECTED
    world.later(minutes=4)
    (settled,) = world.service.reconcile()
    assert settled.status is RecordStatus.DONE and settled.disposition is Disposition.CONNECTED
    assert len(world.calls.dials) == 1 and world.calls.replays == 0


class DiesBeforeTheLastWrite(RecordingCalls):
    """The worker dies after the claim and the reservation, before the last write."""

    dying = True

    def start(self, call: OutboundCall, commit: Commit) -> str:
        if self.dying:
            self.dying = False
            raise RuntimeError("worker died while the pacer made it wait")
        return super().start(call, commit)


def test_a_worker_that_died_before_the_last_write_does_not_spend_the_attempt() -> None:
    """Issue 20: that crash used up a record's only attempt after 15 minutes of searching."""
    world = World(sales(max_attempts=1))
    world.calls = world.service.calls = DiesBeforeTheLastWrite()  # type: ignore[misc]
    world.add(NEW_YORK)
    with pytest.raises(RuntimeError):
        world.service.run()

    world.later(seconds=31)  # past the placement lease
    (unsent,) = world.service.reconcile()
    assert unsent.status is RecordStatus.READY and unsent.attempt.same_again
    assert world.recipients.read(NEW_YORK).recipient.calls == ()  # no call: no cap spent
    assert world.calls.requests == []  # nothing was searched for or sent

    (report,) = world.service.run()
    assert report.dialled == [NEW_YORK]
    assert [c.token for c in world.calls.requests] == [f"card-upgrade/{NEW_YORK}-1"]


def test_an_attempt_never_found_counts_as_used_and_the_next_one_has_a_new_token() -> None:
    world = World()
    world.calls.fail_with = DialUncertainError("InternalServiceException")  # placed nothing
    world.add(NEW_YORK)
    world.service.run()
    world.calls.fail_with = None

    for _ in range(17):
        world.later(minutes=1)
        world.service.reconcile()

    record = world.record(NEW_YORK)
    assert record.status is RecordStatus.READY and record.disposition is Disposition.FAILED
    world.clock.set(record.due_at)
    world.service.run()
    assert [token[-2:] for _, token, _ in world.calls.dials] == ["-2"]


# -- outcomes and retries -------------------------------------------------------------------------


def test_an_answered_call_is_done_and_counted_once_however_often_its_event_comes() -> None:
    world = World()
    world.add(NEW_YORK)
    world.service.run()
    record = world.record(NEW_YORK)

    world.end(NEW_YORK, Outcome.CONNECTED)
    world.service.record_outcome(
        record.ref, record.attempt.ordinal, record.attempt.contact_id, Outcome.CONNECTED
    )

    assert world.record(NEW_YORK).status is RecordStatus.DONE
    figures = world.ledger.figures("card-upgrade", world.clock.now())
    assert (figures.total.dialled, figures.total.connected) == (1, 1)
    assert figures.total.dispositions == {"connected": 1}


def test_each_disposition_follows_the_campaigns_retry_rule() -> None:
    world = World(sales(retry={Disposition.NO_ANSWER: RetryRule(after=timedelta(hours=3))}))
    world.add(NEW_YORK)
    world.service.run()

    world.end(NEW_YORK, Outcome.NO_ANSWER)

    record = world.record(NEW_YORK)
    assert record.status is RecordStatus.READY and record.due_at == NOW + timedelta(hours=3)
    world.clock.set(record.due_at)
    world.service.run()
    assert world.calls.dials[-1][1].endswith("-2")


def test_the_last_attempt_ends_the_record() -> None:
    world = World(sales(max_attempts=1))
    world.add(NEW_YORK)
    world.service.run()

    world.end(NEW_YORK, Outcome.BUSY)

    record = world.record(NEW_YORK)
    assert record.status is RecordStatus.DONE and "1 attempts used" in record.history[-1].reason


def test_an_outcome_for_an_earlier_attempt_changes_nothing() -> None:
    world = World()
    world.add(NEW_YORK)
    world.service.run()
    first = world.record(NEW_YORK)
    world.end(NEW_YORK, Outcome.BUSY)
    world.clock.set(world.record(NEW_YORK).due_at)
    world.service.run()

    late = world.service.record_outcome(
        first.ref, first.attempt.ordinal, first.attempt.contact_id, Outcome.CONNECTED
    )

    assert late is not None and late.status is RecordStatus.DIALING and late.attempt.ordinal == 2


def test_outcomes_for_strangers_are_ignored() -> None:
    world = World()
    assert world.service.record_outcome("nobody", 1, "c-1", Outcome.CONNECTED) is None
    assert (
        world.service.record_outcome(record_ref("card-upgrade", NEW_YORK), 1, "c", Outcome.BUSY)
        is None
    )


def test_an_agent_marks_a_connected_call_as_the_wrong_party() -> None:
    world = World()
    world.add(NEW_YORK)
    world.service.run()
    world.end(NEW_YORK, Outcome.CONNECTED)

    world.service.wrap_up(record_ref("card-upgrade", NEW_YORK), Disposition.WRONG_PARTY)

    figures = world.ledger.figures("card-upgrade", world.clock.now()).total
    assert (figures.connected, figures.right_party) == (1, 0)
    assert figures.dispositions == {"wrong_party": 1}
    with pytest.raises(DialerError):
        world.service.wrap_up(record_ref("card-upgrade", NEW_YORK), Disposition.BUSY)


def test_abandoned_calls_are_counted_for_the_rolling_rate() -> None:
    world = World()
    world.add(NEW_YORK, BOSTON)
    world.service.run()
    world.end(NEW_YORK, Outcome.CONNECTED)
    boston = world.record(BOSTON)
    world.service.flow_heard(boston.ref, 1, boston.attempt.contact_id, Heard.ABANDONED)
    world.end(BOSTON, Outcome.NO_ANSWER)  # the flow played the message and hung up

    rolling = world.ledger.figures("card-upgrade", world.clock.now()).rolling
    assert (rolling.answered, rolling.abandoned, rolling.abandonment_rate) == (2, 1, 0.5)


# -- preview --------------------------------------------------------------------------------------


def test_preview_offers_each_record_to_one_agent_who_accepts_or_skips() -> None:
    world = World(sales(mode=Mode.PREVIEW))
    world.add(NEW_YORK, BOSTON)

    first = world.service.next_for_agent("card-upgrade", "agent-a")
    second = world.service.next_for_agent("card-upgrade", "agent-b")
    assert first and second and first.number != second.number
    assert world.service.run()[0].placed() == 0  # agents dial preview campaigns

    accepted = world.service.answer_offer("card-upgrade", first.number, "agent-a", accept=True)
    skipped = world.service.answer_offer("card-upgrade", second.number, "agent-b", accept=False)

    assert accepted.status is RecordStatus.DIALING and len(world.calls.dials) == 1
    assert skipped.status is RecordStatus.DONE
    with pytest.raises(DialerError):
        world.service.answer_offer("card-upgrade", first.number, "agent-b", accept=True)


def test_an_offer_nobody_answers_goes_back_to_the_queue() -> None:
    world = World(sales(mode=Mode.PREVIEW))
    world.add(NEW_YORK)
    world.service.next_for_agent("card-upgrade", "agent-a")
    assert world.service.next_for_agent("card-upgrade", "agent-b") is None

    world.later(seconds=31)
    world.service.reconcile()

    offered = world.service.next_for_agent("card-upgrade", "agent-b")
    assert offered is not None and offered.offered_to == "agent-b"


# -- the person's own word ------------------------------------------------------------------------


def test_a_do_not_call_needs_a_real_number() -> None:
    with pytest.raises(DialerError) as error:
        World().service.do_not_call("not a number")
    assert error.value.code == "invalid_number"


def test_revoked_consent_stops_a_campaign_that_needs_consent() -> None:
    world = World(sales(rules=CampaignRules("us", Purpose.MARKETING, "cards", True)))
    world.recipients.set_consent(NEW_YORK, Consent(given_at=NOW - timedelta(days=9)))
    world.add(NEW_YORK, BOSTON)
    world.service.revoke_consent(NEW_YORK)

    (report,) = world.service.run()

    assert report.refusals == {"consent_revoked": 1, "no_consent": 1}
    assert sorted(report.stopped) == sorted([NEW_YORK, BOSTON])


def test_a_survey_the_customer_answered_is_connected_though_no_agent_took_it() -> None:
    survey = sales(name="nps", mode=Mode.AGENTLESS, queue="", flow="outbound-survey")
    world = World(survey)
    world.add(NEW_YORK, BOSTON, campaign="nps")
    world.service.run()
    heard = world.record(NEW_YORK, "nps")
    world.service.flow_heard(heard.ref, 1, heard.attempt.contact_id, Heard.PERSON)

    world.end(NEW_YORK, Outcome.NO_ANSWER, "nps")  # the flow hung up: no agent, ever
    world.end(BOSTON, Outcome.NO_ANSWER, "nps")

    assert world.record(NEW_YORK, "nps").disposition is Disposition.CONNECTED
    assert world.record(BOSTON, "nps").disposition is Disposition.NO_ANSWER


def test_the_flows_word_on_an_earlier_attempt_is_ignored() -> None:
    world = World()
    world.add(NEW_YORK)
    world.service.run()
    first = world.record(NEW_YORK)
    world.end(NEW_YORK, Outcome.BUSY)

    world.service.flow_heard(first.ref, 1, first.attempt.contact_id, Heard.ABANDONED)

    assert world.record(NEW_YORK).heard is Heard.NOTHING


def test_an_instance_contact_limit_counts_calls_of_every_purpose_from_every_campaign() -> None:
    """Like Connect's communication limits: 2 calls in 7 days per person, whatever for."""
    from chalicelib.dialer.compliance import ContactLimit

    survey = sales(name="nps", rules=CampaignRules("us", Purpose.SURVEY, "nps"))
    world = World(sales(), survey)
    world.service.contact_limit = ContactLimit(2, timedelta(days=7))
    for days, purpose in ((6, Purpose.INFORMATIONAL), (1, Purpose.DEBT_COLLECTION)):
        seen = world.recipients.read(NEW_YORK)
        call = PastCall(NOW - timedelta(days=days), purpose, "other")
        world.recipients.reserve(NEW_YORK, seen, call, f"t{days}")
    world.add(NEW_YORK)
    world.add(NEW_YORK, BOSTON, campaign="nps")

    reports = {r.campaign: r for r in world.service.run()}

    assert reports["card-upgrade"].refusals == {"frequency_cap": 1}
    assert reports["nps"].dialled == [BOSTON]
    waiting = world.record(NEW_YORK)
    assert "instance limit: 2 calls in 7 days per person" in waiting.history[-1].reason
    assert waiting.due_at == NOW + timedelta(days=1)  # when the older call is 7 days old


@pytest.mark.parametrize(("abandoned", "dials"), [(0, "more"), (3, "progressive")])
def test_predictive_dials_ahead_until_its_abandonment_budget_is_spent(abandoned, dials) -> None:
    """The rolling 30 days' figures are the budget: at 3 abandoned of 100 answered (over the
    2.5 % target) a predictive campaign dials only as many as there are free agents."""
    from collections import Counter

    world = World(sales(mode=Mode.PREDICTIVE), staffed=20, free=5)
    world.ledger.days[("card-upgrade", (NOW - timedelta(days=3)).date())] = Counter(
        {"dialled": 400, "connected": 100 - abandoned, "abandoned": abandoned}
    )
    world.add(*(f"+1212555{n:04d}" for n in range(200, 240)))

    (report,) = world.service.run()

    if dials == "progressive":
        assert len(report.dialled) == 5
    else:
        assert len(report.dialled) > 5
