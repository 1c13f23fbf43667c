"""The dialer's entry points through the Chalice test client, on moto with Connect behind a
Stubber: the HTTP API, the campaign flows' hooks, the run schedule, contact events and the
S3 upload; each with missing, null, oversize and malformed input."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY

from chalicelib.dialer.contacts import Contact
from chalicelib.dialer.model import Heard, RecordStatus, claim, record_dial
from chalicelib.outbound.model import Leases, Outcome
from devkit.events import contact_event
from tests.integration.conftest import NOW, metrics_response
from tests.integration.test_hooks import MALFORMED, invoke

NEW_YORK = "+12125550143"
CAMPAIGN: dict[str, Any] = {
    "name": "winter-offer",
    "mode": "progressive",
    "queue": "{{queue:sales}}",
    "contact_flow": "{{flow:outbound-sales}}",
    "caller_ids": ["+12125550199"],
    "purpose": "marketing",
    "subject": "cards",
    "jurisdiction": "us",
    "starts_on": "2026-11-20",
    "ends_on": "2026-12-20",
    "answering_machine_detection": True,
}
CONTACT = "6b1d0c2e-0000-4000-8000-00000000c0de"


@pytest.fixture
def dialer(client: Any, connect: Any, clock: Any) -> Any:
    """The test client with the dialer on moto and the stubbed Connect, a campaign put and a
    fresh national registry copy."""
    from chalicelib.dialer import handlers as dialer_handlers
    from chalicelib.dialer.capability import build_service
    from chalicelib.dialer.store import DynamoRegistry

    connect_client, _ = connect
    dialer_handlers.served.override(build_service(clock=clock, connect=connect_client))
    DynamoRegistry().load([], taken_at=NOW - timedelta(days=2))
    assert put(client, "winter-offer", CAMPAIGN).status_code == 201
    return client


def service() -> Any:
    from chalicelib.dialer import handlers as dialer_handlers

    return dialer_handlers.served()


def put(client: Any, name: str, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.put(
        f"/campaigns/{name}", body=raw, headers={"Content-Type": "application/json"}
    )


def post(client: Any, path: str, body: Any = "") -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.post(path, body=raw, headers={"Content-Type": "application/json"})


def in_flight(number: str = NEW_YORK) -> Any:
    """A record of the campaign with attempt 1 placed as contact CONTACT."""
    ledger = service().ledger
    ledger.add("winter-offer", [Contact(2, number, ("America/New_York",))], NOW)
    ready = ledger.get("winter-offer", number)
    claimed = ledger.transition(ready, claim(ready, NOW, Leases()))
    return ledger.transition(claimed, record_dial(claimed, CONTACT, "", NOW, Leases()))


def campaign_event(number: str = NEW_YORK, attempt: str = "1", **parameters: Any) -> Any:
    event = contact_event(number, CONTACT, **parameters)
    data = event["Details"]["ContactData"]
    data["InitiationMethod"] = "API"
    data["Attributes"] = {"campaign": "winter-offer", "campaign_attempt": attempt}
    return event


# -- the HTTP API ---------------------------------------------------------------------------------


def test_a_campaign_is_put_read_and_put_again(dialer) -> None:
    again = put(dialer, "winter-offer", {**CAMPAIGN, "max_attempts": 2})
    assert again.status_code == 200
    read = dialer.http.get("/campaigns/winter-offer")
    assert read.status_code == 200
    assert read.json_body["campaign"] == "winter-offer" and read.json_body["dialled"] == 0
    assert read.json_body["abandoned"]["rate_rolling_30_days"] == 0


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("", 400, "missing_body"),
        ("null", 400, "malformed_json"),
        ("{not json", 400, "malformed_json"),
        ("[1, 2]", 400, "malformed_json"),
        ('{"a": "' + "x" * 70_000 + '"}', 413, "body_too_large"),
        ({**CAMPAIGN, "name": "other"}, 400, "name_mismatch"),
        ({**CAMPAIGN, "mode": "blaster", "retries": 3}, 400, "invalid_campaign"),
        ({**CAMPAIGN, "caller_ids": None}, 400, "invalid_campaign"),
    ],
    ids=["missing", "null", "malformed", "list", "oversize", "name", "unknown", "null-field"],
)
def test_a_bad_campaign_is_refused_naming_what_is_wrong(dialer, body, status, error) -> None:
    answer = put(dialer, "winter-offer", body)
    assert (answer.status_code, answer.json_body["error"]) == (status, error)
    if error == "invalid_campaign":
        assert len(answer.json_body["problems"]) >= 1
        assert any("mode" in p["message"] or "caller_ids" in p["message"]
                   for p in answer.json_body["problems"])  # fmt: skip


def test_an_unknown_campaign_is_404_everywhere(dialer) -> None:
    assert dialer.http.get("/campaigns/nope").status_code == 404
    assert post(dialer, "/campaigns/nope/pause").status_code == 404
    assert post(dialer, "/campaigns/nope/preview", {"agent": "a"}).status_code == 400


def test_a_campaign_pauses_and_resumes(dialer) -> None:
    assert post(dialer, "/campaigns/winter-offer/pause").json_body == {
        "campaign": "winter-offer",
        "paused": True,
    }
    assert service().campaigns.get("winter-offer").paused
    assert post(dialer, "/campaigns/winter-offer/resume").json_body["paused"] is False


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"number": "(212) 555-0143"}, 200, None),
        ({"number": "not a number"}, 400, "invalid_number"),
        ({}, 400, "invalid_number"),
        ({"number": None}, 400, "invalid_number"),
        ({"number": "1" * 300}, 400, "invalid_number"),
        ("", 400, "missing_body"),
    ],
    ids=["valid", "malformed", "missing", "null", "oversize", "no-body"],
)
def test_a_do_not_call_is_taken_through_the_api(dialer, body, status, error) -> None:
    answer = post(dialer, "/do-not-call", body)
    assert answer.status_code == status
    if error:
        assert answer.json_body["error"] == error
    else:
        assert answer.json_body == {"do_not_call": True, "number_ends": "0143"}
        assert service().recipients.read(NEW_YORK).recipient.internal_dnc_at == NOW


def test_preview_offers_a_record_and_the_agent_accepts(dialer, connect) -> None:
    _, stubber = connect
    put(dialer, "winter-offer", {**CAMPAIGN, "mode": "preview"})
    service().ledger.add("winter-offer", [Contact(2, NEW_YORK, ("America/New_York",))], NOW)

    offered = post(dialer, "/campaigns/winter-offer/preview", {"agent": "agent-ann"})
    assert offered.json_body["record"]["number"] == NEW_YORK
    assert post(dialer, "/campaigns/winter-offer/preview", {"agent": "b"}).json_body == {
        "record": None
    }
    stubber.add_response("start_outbound_voice_contact", {"ContactId": CONTACT})
    path = f"/campaigns/winter-offer/preview/{NEW_YORK}"
    assert post(dialer, f"{path}/accept", {"agent": "b"}).json_body["error"] == "not_offered"
    accepted = post(dialer, f"{path}/accept", {"agent": "agent-ann"})
    assert accepted.json_body == {"status": "DIALING"}
    stubber.assert_no_pending_responses()
    assert post(dialer, f"{path}/maybe", {"agent": "agent-ann"}).status_code == 404
    assert post(dialer, f"{path}/skip", {}).json_body["error"] == "invalid_agent"


def test_an_accepted_preview_before_the_flows_are_deployed_is_503_and_keeps_its_offer(
    dialer,
) -> None:
    from devkit.flow_ids import publish_flow_ids
    from devkit.local_aws import LOCAL_FLOW_IDS

    put(dialer, "winter-offer", {**CAMPAIGN, "mode": "preview"})
    service().ledger.add("winter-offer", [Contact(2, NEW_YORK, ("America/New_York",))], NOW)
    post(dialer, "/campaigns/winter-offer/preview", {"agent": "agent-ann"})
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.delete_parameter(Name="/switchboard/dev/flow-ids")
    try:
        path = f"/campaigns/winter-offer/preview/{NEW_YORK}/accept"
        refused = post(dialer, path, {"agent": "agent-ann"})
    finally:
        publish_flow_ids(ssm, "/switchboard/dev/flow-ids", LOCAL_FLOW_IDS)
    assert (refused.status_code, refused.json_body["error"]) == (503, "not_deployed")
    assert "'outbound-sales'" in refused.json_body["message"]
    assert service().ledger.get("winter-offer", NEW_YORK).status is RecordStatus.OFFERED


def test_wrap_up_sets_the_agents_disposition_of_a_connected_call(dialer) -> None:
    record = in_flight()
    service().record_outcome(record.ref, 1, CONTACT, Outcome.CONNECTED)
    wrong = post(
        dialer,
        "/campaigns/winter-offer/wrap-up",
        {"number": NEW_YORK, "disposition": "wrong_party"},
    )
    assert wrong.json_body == {"disposition": "wrong_party"}
    bad = post(
        dialer, "/campaigns/winter-offer/wrap-up", {"number": NEW_YORK, "disposition": "meh"}
    )
    assert bad.json_body["error"] == "invalid_disposition"
    unknown = post(
        dialer,
        "/campaigns/winter-offer/wrap-up",
        {"number": "+12125550100", "disposition": "declined"},
    )
    assert unknown.status_code == 404


# -- the campaign flows' hooks ---------------------------------------------------------------------


def test_the_flow_tells_of_an_abandoned_call(dialer) -> None:
    in_flight()
    answer = invoke(dialer, "campaign_abandoned", campaign_event())
    assert answer == {"result": "ok", "campaign_found": "true"}
    assert service().ledger.get("winter-offer", NEW_YORK).heard is Heard.ABANDONED
    stale = invoke(dialer, "campaign_abandoned", campaign_event(attempt="7"))
    assert stale["campaign_found"] == "true"  # found, but the attempt is not its own: no change


def test_survey_answers_are_kept_once_and_scored(dialer) -> None:
    in_flight()
    first = invoke(dialer, "survey_answer", campaign_event(score="9"))
    again = invoke(dialer, "survey_answer", campaign_event(score="3"))
    assert first == {"result": "ok", "survey_recorded": "true", "nps_group": "nps_promoter"}
    assert again["survey_recorded"] == "false"
    figures = service().ledger.figures("winter-offer", NOW).total
    assert figures.nps == 100.0
    for junk in ("11", "-1", "nine", "9" * 300):
        assert invoke(dialer, "survey_answer", campaign_event(score=junk))["reason"] == (
            "invalid_score"
        )


def test_a_survey_nobody_answered_is_recorded_as_such(dialer) -> None:
    in_flight()
    answer = invoke(dialer, "survey_answer", campaign_event(score="none"))
    assert answer["nps_group"] == "survey_unanswered"
    assert service().ledger.get("winter-offer", NEW_YORK).heard is Heard.NOTHING


def test_do_not_call_pressed_in_a_campaign_flow(dialer) -> None:
    answer = invoke(dialer, "campaign_do_not_call", campaign_event())
    assert answer == {"result": "ok", "do_not_call": "true"}
    assert service().recipients.read(NEW_YORK).recipient.internal_dnc_at == NOW
    junk = invoke(dialer, "campaign_do_not_call", campaign_event(number="0800 FLOWERS"))
    assert junk["result"] == "invalid" and junk["reason"] == "invalid_number"


def test_malformed_events_get_an_answer_from_every_dialer_hook(dialer) -> None:
    for hook in ("campaign_abandoned", "survey_answer", "campaign_do_not_call"):
        for label, event in MALFORMED:
            answer = invoke(dialer, hook, event)
            assert isinstance(answer, dict) and answer, (hook, label)
            assert all(isinstance(v, str) for v in answer.values()), (hook, label)
            assert answer["result"] in {"ok", "error", "invalid"}, (hook, label)
            assert len(json.dumps(answer).encode()) < 32 * 1024


# -- the run, and the contact events of its calls -------------------------------------------------


def test_the_schedule_dials_and_the_contact_event_settles_the_call(dialer, connect) -> None:
    _, stubber = connect
    service().ledger.add("winter-offer", [Contact(2, NEW_YORK, ("America/New_York",))], NOW)
    stubber.add_response(
        "get_current_metric_data", metrics_response(**{"dev-sales-queue-id": (0, 1, 1)})
    )
    stubber.add_response(
        "start_outbound_voice_contact",
        {"ContactId": CONTACT},
        {
            "DestinationPhoneNumber": NEW_YORK,
            "ContactFlowId": "00000000-0000-4000-8000-00000005a1e5",
            "InstanceId": "00000000-0000-4000-8000-00000000dev0",
            "ClientToken": f"winter-offer/{NEW_YORK}-1",
            "Attributes": {
                "campaign": "winter-offer",
                "campaign_attempt": "1",
                "switchboard_owner": "dialer",
            },
            "TrafficType": "CAMPAIGN",
            "QueueId": "dev-sales-queue-id",
            "SourcePhoneNumber": "+12125550199",
            "Name": ANY,
            "AnswerMachineDetectionConfig": {
                "EnableAnswerMachineDetection": True,
                "AwaitAnswerMachinePrompt": True,
            },
        },
    )
    tick = dialer.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", resources=[], detail={}
    )
    run = dialer.lambda_.invoke("dial_campaigns", tick).payload
    assert run["dialled"] == 1
    stubber.assert_no_pending_responses()

    event = dialer.events.generate_cw_event(
        source="aws.connect",
        detail_type="Amazon Connect Contact Event",
        resources=[],
        detail={
            "eventType": "DISCONNECTED",
            "contactId": CONTACT,
            "disconnectReason": "CUSTOMER_DISCONNECT",
            "agentInfo": {"connectedToAgentTimestamp": "2026-11-24T15:01:00Z"},
        },
    )
    dialer.lambda_.invoke("outbound_contact_events", event)
    record = service().ledger.get("winter-offer", NEW_YORK)
    assert record.status is RecordStatus.DONE
    assert service().report("winter-offer").as_dict()["connected"] == 1


def test_a_lost_answer_is_found_by_name_then_settled_by_its_contact(dialer, connect, clock) -> None:
    """Connect's answer to the dial never came back: later runs of the schedule find the call
    by its name (SearchContacts) instead of dialling again, then, past the next lease, ask
    Connect what became of it (DescribeContact). One StartOutboundVoiceContact in all."""
    from chalicelib.dialer.model import contact_name

    _, stubber = connect
    service().ledger.add("winter-offer", [Contact(2, NEW_YORK, ("America/New_York",))], NOW)
    stubber.add_response(
        "get_current_metric_data", metrics_response(**{"dev-sales-queue-id": (0, 1, 1)})
    )
    stubber.add_client_error(
        "start_outbound_voice_contact", "InternalServiceException", http_status_code=500
    )
    assert run_dialer(dialer)["dialled"] == 0
    record = service().ledger.get("winter-offer", NEW_YORK)
    stubber.add_response(
        "search_contacts", {"Contacts": [{"Id": CONTACT, "Name": contact_name(record)}]}
    )
    clock.set(NOW + timedelta(minutes=10))
    run_dialer(dialer)
    found = service().ledger.get("winter-offer", NEW_YORK)
    assert (found.status, found.attempt.contact_id) == (RecordStatus.DIALING, CONTACT)

    ended = {
        "Id": CONTACT,
        "DisconnectTimestamp": NOW + timedelta(minutes=12),
        "DisconnectReason": "CUSTOMER_DISCONNECT",
        "AgentInfo": {"ConnectedToAgentTimestamp": NOW + timedelta(minutes=11)},
    }
    stubber.add_response(
        "describe_contact",
        {"Contact": ended},
        {"InstanceId": "00000000-0000-4000-8000-00000000dev0", "ContactId": CONTACT},
    )
    clock.set(NOW + timedelta(minutes=20))
    run_dialer(dialer)
    assert service().ledger.get("winter-offer", NEW_YORK).status is RecordStatus.DONE
    stubber.assert_no_pending_responses()


def test_the_highest_abandonment_is_measured_and_a_campaign_over_the_aim_named(
    monkeypatch, caplog
) -> None:
    """For the alarm near the law's 3 % (docs/ops.md): one level, the worst campaign's."""
    from chalicelib.dialer import handlers
    from chalicelib.dialer.service import RunReport

    measured: list[tuple[str, float]] = []
    monkeypatch.setattr(handlers, "gauge", lambda name, value: measured.append((name, value)))
    reports = [RunReport("calm", abandonment=0.01), RunReport("hot", abandonment=0.0271),
               RunReport("paused")]  # fmt: skip
    handlers._watch_abandonment(reports)
    assert measured == [("CampaignAbandonmentPercent", 2.71)]
    warned = [r for r in caplog.records if "over the pacer's aim" in r.getMessage()]
    assert [r.campaign for r in warned] == ["hot"]  # type: ignore[attr-defined]
    measured.clear()
    handlers._watch_abandonment([RunReport("paused")])
    assert measured == []  # nothing ran: no level, and the alarm treats it as not breaching


def run_dialer(client: Any) -> Any:
    tick = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", resources=[], detail={}
    )
    return client.lambda_.invoke("dial_campaigns", tick).payload


# -- lists uploaded to S3 --------------------------------------------------------------------------

BUCKET = "switchboard-dev-lists-123456789012"


def uploaded(client: Any, key: str, body: bytes) -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    event = client.events.generate_cw_event(
        source="aws.s3",
        detail_type="Object Created",
        resources=[f"arn:aws:s3:::{BUCKET}"],
        detail={"bucket": {"name": BUCKET}, "object": {"key": key, "size": len(body)}},
    )
    return client.lambda_.invoke("contact_list_uploaded", event).payload


def report(key: str) -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_an_uploaded_list_is_ingested_and_its_report_written_beside_it(dialer) -> None:
    body = "\ufeffphone;name\n+12125550143;Ann\nnot-a-number;Bob\n+12125550143;Ann again\n"
    answer = uploaded(dialer, "lists/winter-offer/monday.csv", body.encode())
    assert (answer["added"], answer["rejected"]) == (1, 2)
    written = report("reports/winter-offer/monday.csv.json")
    assert written == answer
    assert {p["row"]: p["reason"] for p in written["problems"]} == {
        3: "invalid_number",
        4: "duplicate_in_list",
    }
    assert service().ledger.get("winter-offer", NEW_YORK) is not None


@pytest.mark.parametrize(
    ("key", "body", "why"),
    [
        ("lists/nope/a.csv", b"phone\n+12125550143\n", "no campaign"),
        ("lists/winter-offer/deep/a.csv", b"phone\n+12125550143\n", "lists/<campaign>/<file>"),
        (
            "lists/winter-offer/latin1.csv",
            "phone,name\n+12125550143,Jos\xe9\n".encode("latin-1"),
            "not UTF-8",
        ),
        ("lists/winter-offer/empty.csv", b"", "header"),
    ],
    ids=["unknown-campaign", "bad-key", "not-utf8", "empty"],
)
def test_a_list_that_cannot_be_read_says_why_in_its_report(dialer, key, body, why) -> None:
    answer = uploaded(dialer, key, body)
    assert answer["ingested"] is False and why in answer["error"]
    assert service().ledger.get("winter-offer", NEW_YORK) is None


def test_an_upload_event_without_bucket_or_key_is_refused(dialer) -> None:
    event = dialer.events.generate_cw_event(
        source="aws.s3", detail_type="Object Created", resources=[], detail={"object": None}
    )
    answer = dialer.lambda_.invoke("contact_list_uploaded", event).payload
    assert answer == {"ingested": False, "error": "the event names no bucket and key"}


def test_another_stages_upload_is_ignored_not_read(dialer) -> None:
    """One account's rule sees every stage's lists bucket: prod's upload is not dev's to read
    (dev's policy could not, and a refusal would only fill the dead-letter queue)."""
    event = dialer.events.generate_cw_event(
        source="aws.s3",
        detail_type="Object Created",
        resources=[],
        detail={"bucket": {"name": "switchboard-prod-lists-123456789012"},
                "object": {"key": "lists/winter-offer/a.csv", "size": 10}},
    )  # fmt: skip
    answer = dialer.lambda_.invoke("contact_list_uploaded", event).payload
    why = "not this stage's lists bucket (switchboard-dev-lists-...)"
    assert answer == {"ingested": False, "error": why}


def test_the_dialers_logs_hold_no_phone_number(dialer, connect) -> None:
    """The run, the campaign hooks, an upload and its report: counts and campaign names in
    the logs, never a number (the report object has them, for the list's owner)."""
    import io

    from chalicelib.platform.observability import logger

    _, stubber = connect
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)
    try:
        uploaded(dialer, "lists/winter-offer/a.csv", b"phone\n+12125550143\n2125550199x\n")
        service().do_not_call("+12125550144")
        stubber.add_response(
            "get_current_metric_data", metrics_response(**{"dev-sales-queue-id": (0, 1, 1)})
        )
        stubber.add_client_error("start_outbound_voice_contact", "ThrottlingException", 429)
        tick = dialer.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", resources=[], detail={}
        )
        dialer.lambda_.invoke("dial_campaigns", tick)
        for hook in ("campaign_abandoned", "survey_answer", "campaign_do_not_call"):
            invoke(dialer, hook, campaign_event(score="12"))
    finally:
        handler.setStream(previous)
    logs = stream.getvalue()
    assert "dialer run" in logs and "contact list ingested" in logs
    for number in ("2125550143", "2125550144", "2125550199"):
        assert number not in logs
