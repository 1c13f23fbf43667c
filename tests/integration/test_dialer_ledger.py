"""The dial ledger on DynamoDB (moto, the table from infra/template.yaml), with Connect
behind a botocore Stubber: the store keeps the ports' contracts, eight workers running five
campaigns at once never dial an attempt twice, never exceed a cap and never call after a
do-not-call took effect, and each of Connect's refusals has its outcome."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.dialer.compliance import PastCall, Purpose
from chalicelib.dialer.contacts import Contact
from chalicelib.dialer.model import Heard, RecordStatus, claim, contact_name, record_dial
from chalicelib.dialer.service import DialerService
from chalicelib.outbound.model import Leases, Outcome
from chalicelib.platform.clock import FixedClock
from chalicelib.platform.phone import time_zones
from devkit.fakes.dialer import FixedStaffing, InMemoryCampaigns, RecordingCalls
from devkit.fakes.outbound import ScriptedContacts
from tests.unit.test_dialer_service import sales

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York
INSTANCE = "00000000-0000-4000-8000-00000000dev0"
NEW_YORK, MIAMI = "+12125550143", "+13055550105"


class TickingClock:
    """Each reading is a millisecond after the last, from any thread: the order of readings
    is the order of events."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._ticks = itertools.count()
        self.start = start

    def now(self) -> datetime:
        with self._lock:
            return self.start + timedelta(milliseconds=next(self._ticks))


def stores() -> dict[str, Any]:
    from chalicelib.dialer.store import DynamoCallerIds, DynamoDialLedger, DynamoRecipients

    return {
        "ledger": DynamoDialLedger(),
        "recipients": DynamoRecipients(),
        "caller_ids": DynamoCallerIds(),
    }


def fresh_registry() -> None:
    from chalicelib.dialer.store import DynamoRegistry

    DynamoRegistry().load([], taken_at=NOW - timedelta(days=3))


def dialer(calls: Any, clock: Any, *campaigns: Any, **ports: Any) -> DialerService:
    return DialerService(
        calls=calls,
        contacts=ports.pop("contacts", ScriptedContacts()),
        staffing=FixedStaffing(200, 200),
        campaigns=InMemoryCampaigns(*campaigns),
        clock=clock,
        queue_ids={"sales": "q-sales"},
        flow_ids={"outbound-sales": "f-sales"},
        search=ports.pop("search", calls),
        **{**stores(), **ports},
    )


def contacts(*numbers: str) -> list[Contact]:
    return [Contact(i + 2, n, time_zones(n)) for i, n in enumerate(numbers)]


# -- the store keeps the ports' contracts ---------------------------------------------------------


def test_records_move_only_from_the_version_read_and_are_found_again(tables) -> None:
    ledger = stores()["ledger"]
    ledger.add("card-upgrade", contacts(NEW_YORK, MIAMI), NOW)
    assert [r.number for r in ledger.due("card-upgrade", NOW, 10)] == [NEW_YORK, MIAMI]

    ready = ledger.get("card-upgrade", NEW_YORK)
    claimed = ledger.transition(ready, claim(ready, NOW, Leases()))
    assert claimed is not None and claimed.status is RecordStatus.DIALING
    assert ledger.transition(ready, claim(ready, NOW, Leases())) is None  # the race lost
    assert ledger.in_flight("card-upgrade") == 1
    assert [r.number for r in ledger.due("card-upgrade", NOW, 10)] == [MIAMI]

    dialled = ledger.transition(claimed, record_dial(claimed, "c-1", "+1212", NOW, Leases()))
    assert ledger.get("card-upgrade", NEW_YORK) == dialled
    assert [r.number for r in ledger.leases_ended(NOW + timedelta(minutes=4), 10)] == [NEW_YORK]
    assert ledger.figures("card-upgrade", NOW).total.dialled == 1
    from chalicelib.dialer.store import ContactRecord

    assert ContactRecord.get("CAMPAIGN#card-upgrade", NEW_YORK).list_row == 2  # kept as ingested


def test_a_numbers_records_are_read_across_campaigns_in_one_request(tables) -> None:
    ledger = stores()["ledger"]
    ledger.add("card-upgrade", contacts(NEW_YORK, MIAMI), NOW)
    ledger.add("winter-offer", contacts(NEW_YORK), NOW)
    found = ledger.of_number(NEW_YORK, ["card-upgrade", "winter-offer", "never-ran"])
    assert sorted(r.campaign for r in found) == ["card-upgrade", "winter-offer"]
    assert {r.number for r in found} == {NEW_YORK}
    assert ledger.of_number(NEW_YORK, []) == []


def test_figures_are_added_once_per_move_and_roll_over_thirty_days(tables) -> None:
    calls, clock = RecordingCalls(), TickingClock(NOW)
    fresh_registry()
    service = dialer(calls, clock, sales())
    service.ledger.add("card-upgrade", contacts(NEW_YORK, MIAMI), NOW)
    service.run()
    for number in (NEW_YORK, MIAMI):
        record = service.ledger.get("card-upgrade", number)
        if number == MIAMI:
            service.flow_heard(record.ref, 1, record.attempt.contact_id, Heard.ABANDONED)
        for _ in range(2):  # the event comes twice
            service.record_outcome(record.ref, 1, record.attempt.contact_id, Outcome.NO_ANSWER)

    figures = service.ledger.figures("card-upgrade", NOW)
    assert (figures.total.dialled, figures.total.abandoned) == (2, 1)
    assert figures.total.dispositions == {"no_answer": 1, "abandoned": 1}
    later = service.ledger.figures("card-upgrade", NOW + timedelta(days=31))
    assert later.rolling.dialled == 0 and later.total.dialled == 2


def test_a_reservation_on_a_person_who_changed_is_refused(tables) -> None:
    recipients = stores()["recipients"]
    seen = recipients.read(MIAMI)
    call = PastCall(NOW, Purpose.MARKETING, "cards")
    recipients.do_not_call(MIAMI, NOW)

    assert not recipients.reserve(MIAMI, seen, call, "t-1")
    again = recipients.read(MIAMI)
    assert again.recipient.internal_dnc_at == NOW
    assert recipients.reserve(MIAMI, again, call, "t-1")
    recipients.release(MIAMI, "t-1")
    assert recipients.read(MIAMI).recipient.calls == ()


def test_caller_id_counts_stop_at_the_cap(tables) -> None:
    caller_ids = stores()["caller_ids"]
    day = NOW.date()
    assert [caller_ids.take("+12125550199", day, 2) for _ in range(3)] == [True, True, False]
    assert caller_ids.used(["+12125550199", "+13055550199"], day) == {
        "+12125550199": 2,
        "+13055550199": 0,
    }


def test_campaigns_are_stored_as_checked_documents(tables) -> None:
    from chalicelib.dialer.store import DynamoCampaigns
    from devkit.campaigns import load_campaign

    campaigns = DynamoCampaigns()
    campaigns.put(load_campaign("card-upgrade").model_dump_json(), NOW)

    stored = campaigns.get("card-upgrade")
    assert stored is not None and stored.queue == "sales" and not stored.paused
    paused = campaigns.set_paused("card-upgrade", True, NOW)
    assert paused is not None and paused.paused
    assert [c.name for c in campaigns.all()] == ["card-upgrade"]
    assert campaigns.get("nope") is None


# -- eight workers --------------------------------------------------------------------------------


FLORIDA = [f"+1305555{n:04d}" for n in range(100, 104)]
OTHERS = [f"+1212555{n:04d}" for n in range(100, 102)]
SAID_NO = [OTHERS[0], FLORIDA[0]]


def test_eight_workers_never_dial_twice_exceed_a_cap_or_call_after_a_do_not_call(
    tables, atomic_moto
) -> None:
    """Six campaigns on one subject over the same six people, run by eight workers at once
    while two of the people say "don't call me". Florida allows 3 calls in 24 h on one
    subject, so without the reservation each Florida number would get up to 6."""
    fresh_registry()
    clock, calls = TickingClock(NOW), RecordingCalls()
    campaigns = [sales(name=f"cards-{i}") for i in range(6)]
    service = dialer(calls, clock, *campaigns)
    for campaign in campaigns:
        service.ledger.add(campaign.name, contacts(*FLORIDA, *OTHERS), NOW)

    took_effect = _run_together(service, campaigns, clock)

    tokens = [token for _, token, _ in calls.dials]
    assert len(tokens) == len(set(tokens)), "an attempt was dialled twice"
    per_number = Counter(ref.split("/", 1)[1] for ref, _, _ in calls.dials)
    assert all(per_number[n] <= 3 for n in FLORIDA), per_number
    assert max(per_number[n] for n in FLORIDA[1:]) == 3  # the cap, reached
    for number in SAID_NO:
        counted = service.recipients.read(number).recipient.calls
        assert all(call.at < took_effect[number] for call in counted), number
        assert len(counted) == per_number[number]  # every call placed was counted


def _run_together(service: DialerService, campaigns: list[Any], clock: Any) -> dict[str, datetime]:
    """Eight workers each run every campaign, starting at a different one, while the people
    in SAID_NO say "don't call me"; when each do-not-call had been written."""
    took_effect: dict[str, datetime] = {}
    errors: list[BaseException] = []

    def worker(turn: int) -> None:
        try:
            for campaign in campaigns[turn % 6 :] + campaigns[: turn % 6]:
                service.run_campaign(campaign)
        except BaseException as error:
            errors.append(error)

    def say_no() -> None:
        for number in SAID_NO:
            service.do_not_call(number)
            took_effect[number] = clock.now()  # read after the write returned

    threads = [threading.Thread(target=worker, args=(turn,)) for turn in range(8)]
    threads.append(threading.Thread(target=say_no))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return took_effect


# -- Connect's answers, through the real outbound core and a Stubber ------------------------------


class NoPacing:
    def acquire(self) -> None:
        return None


class Routes:
    def __init__(self) -> None:
        self.kept: dict[str, Any] = {}

    def remember(self, contact_id: str, route: Any) -> None:
        self.kept[contact_id] = route


@pytest.fixture
def connected(tables, connect) -> Any:
    from chalicelib.outbound.connect import ConnectOutbound, ContactSearch

    client, stubber = connect
    fresh_registry()
    routes = Routes()
    outbound = ConnectOutbound(client, INSTANCE, NoPacing(), routes)
    clock = TickingClock(NOW)
    search = ContactSearch(client, INSTANCE, routes)
    service = dialer(outbound, clock, sales(), contacts=outbound, search=search)
    service.ledger.add("card-upgrade", contacts(NEW_YORK), NOW)
    return service, stubber


def _refusal(stubber: Any, code: str) -> None:
    stubber.add_client_error("start_outbound_voice_contact", service_error_code=code)


def test_throttled_the_attempt_waits_unspent(connected) -> None:
    service, stubber = connected
    _refusal(stubber, "ThrottlingException")

    (report,) = service.run()

    record = service.ledger.get("card-upgrade", NEW_YORK)
    assert report.deferred == [NEW_YORK] and record.attempt.same_again
    assert service.recipients.read(NEW_YORK).recipient.calls == ()
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code", ["DestinationNotAllowedException", "OutboundContactNotPermittedException"]
)
def test_a_number_connect_will_not_call_fails_the_record(connected, code: str) -> None:
    service, stubber = connected
    _refusal(stubber, code)

    (report,) = service.run()

    record = service.ledger.get("card-upgrade", NEW_YORK)
    assert report.failed == [NEW_YORK] and record.status is RecordStatus.FAILED
    assert code in record.history[-1].reason
    assert service.ledger.figures("card-upgrade", NOW).total.dispositions == {"failed": 1}


def test_an_answer_lost_in_transit_is_found_by_name_not_by_dialling_again(connected) -> None:
    service, stubber = connected
    _refusal(stubber, "InternalServiceException")
    (report,) = service.run()
    assert report.uncertain == [NEW_YORK]
    record = service.ledger.get("card-upgrade", NEW_YORK)

    stubber.add_response(
        "search_contacts",
        {"Contacts": [{"Id": "found-1", "Name": contact_name(record)}]},
        {
            "InstanceId": INSTANCE,
            "TimeRange": {
                "Type": "INITIATION_TIMESTAMP",
                "StartTime": record.attempt.sent_at - timedelta(minutes=1),
                "EndTime": NOW + timedelta(minutes=10, seconds=60),
            },
            "SearchCriteria": {
                "Name": {"SearchText": [contact_name(record)], "MatchType": "MATCH_EXACT"}
            },
            "MaxResults": 2,
        },
    )
    service.clock = FixedClock(NOW + timedelta(minutes=10))

    service.reconcile()  # DIALING past its lease -> UNKNOWN -> searched -> found

    found = service.ledger.get("card-upgrade", NEW_YORK)
    assert found.status is RecordStatus.DIALING and found.attempt.contact_id == "found-1"
    stubber.assert_no_pending_responses()  # one StartOutboundVoiceContact, ever


def test_a_write_that_loses_its_race_moves_nothing(tables) -> None:
    ledger = stores()["ledger"]
    ledger.add("card-upgrade", contacts(NEW_YORK), NOW)
    ready = ledger.get("card-upgrade", NEW_YORK)
    assert ledger.transition(ready, claim(ready, NOW, Leases())) is not None

    stale = replace(ready, version=ready.version)
    assert ledger.transition(stale, claim(stale, NOW, Leases())) is None
    assert ledger.get("card-upgrade", NEW_YORK).attempt.ordinal == 1


def test_a_reservation_drops_calls_older_than_any_cap_looks_back(tables) -> None:
    """The person's list of counted calls does not grow for ever: what no cap can count any
    more (31 days) goes when the next call is reserved; what a cap can count stays."""
    recipients = stores()["recipients"]
    for days, token in ((40, "old"), (20, "recent")):
        call = PastCall(NOW - timedelta(days=days), Purpose.MARKETING, "cards")
        assert recipients.reserve(MIAMI, recipients.read(MIAMI), call, token)
    now = PastCall(NOW, Purpose.MARKETING, "cards")
    assert recipients.reserve(MIAMI, recipients.read(MIAMI), now, "now")

    kept = recipients.read(MIAMI).recipient.calls
    assert [c.at for c in kept] == [NOW - timedelta(days=20), NOW]
