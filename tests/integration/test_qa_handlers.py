"""QA's entry points through `chalice.test.Client`, on moto (the table, queues and stream from
infra/template.yaml, the Connect instance's bucket, EventBridge) with DescribeContact under
botocore's Stubber and intervention callbacks through the real callbacks service."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.qa.records import iso_week
from devkit.analyses import GOOD_CALL, analysis_key, voice_analysis
from devkit.signed import signed_as
from tests.integration.conftest import CONTACT_LENS_BUCKET as BUCKET
from tests.integration.conftest import NOW, drained

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/00000000-0000-4000-8000-00000000dev0"
NUMBER = "+12125550143"
GOOD = list(GOOD_CALL)


def contact_id(n: int) -> str:
    return f"6b1d0c2e-0000-4000-8000-{n:012d}"


def service() -> Any:
    from chalicelib.qa import handlers as qa_handlers

    return qa_handlers.served()


def deliver(client: Any, *events: dict[str, Any] | str) -> None:
    """Each through the events queue, one message per invocation as the mapping sends them."""
    for event in events:
        body = event if isinstance(event, str) else json.dumps(event)
        message = client.events.generate_sqs_event([body], queue_name="switchboard-dev-qa-events")
        client.lambda_.invoke("qa_events", message)


def completed(n: int, queue_id: str = "dev-billing-queue-id", ended: Any = None) -> dict[str, Any]:
    ended = ended or NOW - timedelta(minutes=2)
    return {
        "version": "0",
        "id": f"event-{n}",
        "detail-type": "Amazon Connect Contact Event",
        "source": "aws.connect",
        "time": ended.isoformat().replace("+00:00", "Z"),
        "detail": {
            "eventType": "COMPLETED",
            "contactId": contact_id(n),
            "channel": "VOICE",
            "instanceArn": INSTANCE,
            "agentInfo": {"agentArn": f"{INSTANCE}/agent/agent-7"},
            "queueInfo": {"queueArn": f"{INSTANCE}/queue/{queue_id}", "queueType": "STANDARD"},
            "disconnectTimestamp": ended.isoformat().replace("+00:00", "Z"),
            "someFieldConnectAddsLater": {"ignored": True},
        },
    }


def written(n: int, text: str, bucket: str = BUCKET, channel: str = "Voice") -> dict[str, Any]:
    key = analysis_key(contact_id(n), channel=channel)
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=bucket, Key=key, Body=text)
    return {
        "version": "0",
        "id": f"s3-{n}",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": NOW.isoformat(),
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(text)}},
    }


def contact_record(n: int, queue: str = "billing", number: str = NUMBER) -> bytes:
    return json.dumps({
        "ContactId": contact_id(n),
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "LastUpdateTimestamp": (NOW - timedelta(minutes=1)).isoformat(),
        "DisconnectTimestamp": (NOW - timedelta(minutes=2)).isoformat(),
        "Agent": {"ARN": f"{INSTANCE}/agent/agent-7", "AfterContactWorkDuration": 30},
        "Queue": {"ARN": f"{INSTANCE}/queue/dev-{queue}-queue-id", "Name": queue},
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": number},
        "Attributes": {"intent": "payment", "route_rule": "billing"},
    }).encode()  # fmt: skip


def stream(client: Any, *records: bytes) -> None:
    event = client.events.generate_kinesis_event(
        list(records), stream_name="switchboard-dev-contact-records"
    )
    client.lambda_.invoke("qa_contact_records", event)


def post(client: Any, path: str, body: Any, caller: str = "") -> Any:
    """POST the body; signed by the IAM user `caller` when one is named."""
    raw = body if isinstance(body, str) else json.dumps(body)
    if not caller:
        return client.http.post(path, body=raw, headers={"Content-Type": "application/json"})
    with signed_as(caller):
        return client.http.post(path, body=raw, headers={"Content-Type": "application/json"})


# -- triggers -----------------------------------------------------------------------------------


def test_an_analysis_file_scores_the_contact_with_its_queues_rubric(qa) -> None:
    deliver(qa, completed(1, queue_id="dev-billing-queue-id"))
    deliver(qa, written(1, voice_analysis(GOOD, categories=["Complaint"])))
    record = service().records.get(contact_id(1))
    assert record.status.value == "SCORED" and (record.agent_id, record.queue) == (
        "agent-7",
        "billing",
    )
    card = json.loads(record.card)
    assert (card["rubric"], card["rubric_version"], card["total"]) == ("bank-service", 1, 100.0)
    bucket = (NOW - timedelta(minutes=2)).replace(minute=45, second=0, microsecond=0)
    assert service().reasons.counts("billing", "Complaint", [bucket]) == {bucket: 1}
    deliver(qa, written(1, voice_analysis(GOOD, categories=["Complaint"])))  # told twice
    assert service().reasons.counts("billing", "Complaint", [bucket]) == {bucket: 1}
    assert service().reasons.examples("billing", "Complaint", bucket) == (contact_id(1),)


def test_a_key_s3_sent_url_encoded_is_read_as_written(qa) -> None:
    deliver(qa, completed(17, queue_id="dev-billing-queue-id"))
    event = written(17, voice_analysis(GOOD))
    key = event["detail"]["object"]["key"]
    event["detail"]["object"]["key"] = key.replace(":", "%3A")
    deliver(qa, event)
    record = service().records.get(contact_id(17))
    assert (record.status.value, record.analysis_key) == ("SCORED", key)


def test_a_chat_analysis_is_scored_like_a_call(qa) -> None:
    chat = (ROOT / "tests" / "fixtures" / "contact-lens" / "chat.json").read_text()
    deliver(qa, completed(5), written(5, chat, channel="Chat"))
    record = service().records.get(contact_id(5))
    assert record.status.value == "SCORED" and json.loads(record.card)["rubric"] == "bank-service"


def test_a_file_before_any_event_asks_connect_who_handled_the_contact(qa, connect) -> None:
    _, stubber = connect
    stubber.add_response(
        "describe_contact",
        {
            "Contact": {
                "Id": contact_id(2),
                "AgentInfo": {"Id": "agent-9"},
                "QueueInfo": {"Id": "dev-queue-id-nobody-named"},
                "LastUpdateTimestamp": NOW,
                "DisconnectTimestamp": NOW - timedelta(minutes=1),
                "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": NUMBER},
            }
        },
        {"InstanceId": "00000000-0000-4000-8000-00000000dev0", "ContactId": contact_id(2)},
    )
    deliver(qa, written(2, voice_analysis(GOOD)))
    record = service().records.get(contact_id(2))
    assert record.agent_id == "agent-9"
    assert record.queue == "dev-queue-id-nobody-named"  # not in QUEUE_IDS: kept as the id
    assert json.loads(record.card)["rubric"] == "bank-service"  # the rubric for "*"
    stubber.assert_no_pending_responses()


def test_a_truncated_file_is_recorded_on_the_contact_and_alerted(qa) -> None:
    deliver(qa, completed(3))
    event = written(3, voice_analysis(GOOD)[:-30])
    deliver(qa, event, event)
    record = service().records.get(contact_id(3))
    assert record.status.value == "UNREADABLE" and "truncated" in record.problem
    alerts = [json.loads(m["body"]) for m in drained("caught-alerts")]
    assert [a["detail-type"] for a in alerts] == ["QA Analysis Unreadable"]
    assert alerts[0]["detail"]["key"] == event["detail"]["object"]["key"]


def test_a_newer_readable_file_withdraws_the_unreadable_files_review(qa) -> None:
    deliver(qa, completed(18))
    deliver(qa, written(18, voice_analysis(GOOD)[:-30]))
    assert service().reviews.reviews.get(contact_id(18)).reasons == ("unreadable_analysis",)
    key = analysis_key(contact_id(18), at="2026-12-01T09:30:00Z")
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET, Key=key, Body=voice_analysis(GOOD)
    )
    event = written(18, voice_analysis(GOOD))
    event["detail"]["object"]["key"] = key
    deliver(qa, event)
    assert service().records.get(contact_id(18)).status.value == "SCORED"
    assert service().reviews.reviews.get(contact_id(18)).status.value == "WITHDRAWN"
    assert post(qa, "/qa/reviews/claim", {}, "rita").json_body == {"review": None}


def test_an_upset_customer_gets_one_intervention_callback(qa) -> None:
    from chalicelib.callbacks import handlers as callbacks_handlers

    upset = written(4, voice_analysis(GOOD, closing=-4))
    deliver(qa, completed(4), upset)  # no number yet: the callback waits for the record
    stream(qa, contact_record(4))
    deliver(qa, upset, completed(4))
    stream(qa, contact_record(4))
    record = service().records.get(contact_id(4))
    callback = callbacks_handlers.served().ledger.get(record.callback_id)
    assert callback is not None and callback.contact_id == contact_id(4)
    assert callback.source == "qa" and callback.journey.startswith("QA: Did the customer end")
    assert len(callbacks_handlers.served().ledger.active_for_number(NUMBER)) == 1
    review = service().reviews.reviews.get(contact_id(4))
    assert "negative_ending" in review.reasons


def _swept(stubber: Any, *contacts: dict[str, Any]) -> None:
    """SearchContacts' answer to one reconciliation: the contacts that ended in its span."""
    stubber.add_response(
        "search_contacts",
        {"Contacts": list(contacts)},
        {
            "InstanceId": "00000000-0000-4000-8000-00000000dev0",
            "TimeRange": {
                "Type": "DISCONNECT_TIMESTAMP",
                "StartTime": NOW - timedelta(minutes=25),
                "EndTime": NOW - timedelta(minutes=10),
            },
            "SearchCriteria": {"Channels": ["VOICE", "CHAT"]},
        },
    )


def lens_failed(n: int) -> dict[str, Any]:
    """Contact Lens's state change saying no analysis will come for contact `n`."""
    return {
        "version": "0", "id": f"lens-{n}", "detail-type": "Contact Lens Analysis State Change",
        "source": "aws.connect", "time": NOW.isoformat(),
        "detail": {"instance": INSTANCE, "contact": f"{INSTANCE}/contact/{contact_id(n)}",
                   "channel": "VOICE", "state": "FAILED",
                   "reasonCode": "RECORDING_FILE_CANNOT_BE_READ"},
    }  # fmt: skip


def handled_by_agent(n: int, ended: Any) -> dict[str, Any]:
    """Contact `n` as SearchContacts lists it: agent-3 took it in the care queue."""
    return {"Id": contact_id(n), "Channel": "VOICE", "DisconnectTimestamp": ended,
            "AgentInfo": {"Id": "agent-3"}, "QueueInfo": {"Id": "dev-care-queue-id"}}  # fmt: skip


def scheduled(qa: Any) -> dict[str, Any]:
    """The event a schedule invokes a Lambda with."""
    event: dict[str, Any] = qa.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", resources=[], detail={}
    )
    return event


def test_contact_lens_failing_gets_the_contact_scored_partially_now(qa, connect) -> None:
    _, stubber = connect
    _swept(stubber)
    _swept(stubber)
    deliver(qa, completed(5))
    deliver(qa, lens_failed(5))
    tick = scheduled(qa)
    assert qa.lambda_.invoke("qa_reconcile", tick).payload == {"scored_partially": 1}
    record = service().records.get(contact_id(5))
    assert (
        record.status.value == "PARTIAL" and record.lens_failed == "RECORDING_FILE_CANNOT_BE_READ"
    )
    assert qa.lambda_.invoke("qa_reconcile", tick).payload == {"scored_partially": 0}
    stubber.assert_no_pending_responses()


def test_a_contact_nothing_told_us_of_is_found_in_connects_list(qa, connect) -> None:
    _, stubber = connect
    ended = NOW - timedelta(minutes=12)
    listed = handled_by_agent(14, ended)
    ivr_only = {"Id": contact_id(15), "Channel": "VOICE", "DisconnectTimestamp": ended}
    _swept(stubber, listed, ivr_only)
    tick = scheduled(qa)
    assert qa.lambda_.invoke("qa_reconcile", tick).payload == {"scored_partially": 1}
    record = service().records.get(contact_id(14))
    assert (record.status.value, record.agent_id, record.queue) == ("PARTIAL", "agent-3", "care")
    assert service().records.get(contact_id(15)) is None


def test_a_contact_lens_failure_alone_is_finished_from_connects_list(qa, connect) -> None:
    """Neither its contact event nor its record came: the record the FAILED state change
    made knows no agent, so it is taken from Connect's list, not passed over as known."""
    _, stubber = connect
    listed = handled_by_agent(16, NOW - timedelta(minutes=12))
    _swept(stubber, listed)
    deliver(qa, lens_failed(16))
    tick = scheduled(qa)
    assert qa.lambda_.invoke("qa_reconcile", tick).payload == {"scored_partially": 1}
    record = service().records.get(contact_id(16))
    assert (record.status.value, record.agent_id, record.queue) == ("PARTIAL", "agent-3", "care")
    stubber.assert_no_pending_responses()


MALFORMED_EVENTS = {
    "empty": "",
    "not-json": "{nope",
    "not-an-object": "[1, 2]",
    "null-detail": json.dumps({"detail-type": "Object Created", "detail": None}),
    "oversize": json.dumps({"detail": {"pad": "x" * 300_000}}),
    "no-key": json.dumps({"detail-type": "Object Created", "detail": {"bucket": {"name": BUCKET}}}),
    "bucket-text": json.dumps({"detail-type": "Object Created",
                               "detail": {"bucket": "b", "object": 7}}),
    "other-bucket": json.dumps({
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "someone-else"}, "object": {"key": "Analysis/x.json"}},
    }),
    "bad-contact-id": json.dumps({**completed(9), "detail": {**completed(9)["detail"],
                                                             "contactId": "../etc"}}),
    "null-time": json.dumps({**completed(9), "time": None}),
    "bad-lens-contact": json.dumps({
        "detail-type": "Contact Lens Analysis State Change",
        "detail": {"state": "FAILED", "contact": None},
    }),
}  # fmt: skip


def _completed_with(n: int, **detail: Any) -> str:
    event = completed(n)
    return json.dumps({**event, "detail": {**event["detail"], **detail}})


def _key_event(key: str) -> str:
    """An Object Created event naming this key; the JSON escapes a lone surrogate or NUL."""
    return json.dumps(
        {
            "detail-type": "Object Created",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}},
        }
    )


# Text no person or service writes: a lone surrogate (JSON can carry one, UTF-8 cannot), a NUL,
# an agent id longer than any index key. Each is parked with its reason; nothing is written.
HOSTILE_EVENTS = {
    "surrogate-contact-id": _completed_with(9, contactId="c-\ud800"),
    "surrogate-agent": _completed_with(9, agentInfo={"agentArn": f"{INSTANCE}/agent/a-\udfff"}),
    "huge-agent-arn": _completed_with(
        9, agentInfo={"agentArn": f"{INSTANCE}/agent/" + "a" * 200_000}
    ),
    "surrogate-queue": _completed_with(9, queueInfo={"queueArn": f"{INSTANCE}/queue/\ud83d"}),
    "surrogate-time": _completed_with(9, disconnectTimestamp="2026-12-01T09:00:00\ud800"),
    "surrogate-key": _key_event("connect/x/Analysis/Voice/2026/12/01/c\ud800_analysis_x.json"),
    "nul-key": _key_event("connect/x/Analysis/Voice/2026/12/01/c-1\u0000_analysis_x.json"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_EVENTS))
def test_hostile_text_in_an_event_is_parked_not_raised(qa, name: str) -> None:
    drained("switchboard-dev-qa-dead-letters")
    deliver(qa, HOSTILE_EVENTS[name])
    parked = drained("switchboard-dev-qa-dead-letters")
    assert len(parked) == 1 and parked[0]["reason"], parked
    assert service().records.get(contact_id(9)) is None


def test_malformed_messages_are_parked_with_their_reason_and_nothing_else_moves(qa) -> None:
    drained("switchboard-dev-qa-dead-letters")
    deliver(qa, *MALFORMED_EVENTS.values())
    parked = drained("switchboard-dev-qa-dead-letters")
    assert len(parked) == len(MALFORMED_EVENTS)
    assert all(p["reason"] for p in parked)
    reasons = {p["reason"] for p in parked}
    assert "Amazon Connect Contact Event: contactId: not a contact id" in reasons
    assert "Object Created: 'someone-else' is not CONTACT_LENS_BUCKET" in reasons
    assert service().records.get(contact_id(9)) is None


def test_events_qa_does_not_need_are_ignored(qa) -> None:
    drained("switchboard-dev-qa-dead-letters")
    queued = {**completed(8), "detail": {**completed(8)["detail"], "eventType": "QUEUED"}}
    lens_ok = {"detail-type": "Contact Lens Analysis State Change", "detail": {"state": "DONE"}}
    deliver(qa, queued, lens_ok, {"detail-type": "Something New", "detail": {}})
    assert drained("switchboard-dev-qa-dead-letters") == []
    assert service().records.get(contact_id(8)) is None


def test_unreadable_contact_records_are_parked_and_the_rest_of_the_batch_taken(qa) -> None:
    drained("switchboard-dev-qa-dead-letters")
    missing_id = json.loads(contact_record(6))
    del missing_id["ContactId"]
    bad_time = {**json.loads(contact_record(6)), "LastUpdateTimestamp": "yesterday"}
    null_agent = {**json.loads(contact_record(7)), "Agent": None}
    stream(qa, b"", b"{nope", json.dumps(missing_id).encode(), json.dumps(bad_time).encode(),
           b"x" * 300_000, json.dumps(null_agent).encode(), contact_record(6))  # fmt: skip
    parked = drained("switchboard-dev-qa-dead-letters")
    assert len(parked) == 5 and all(p["reason"] for p in parked)
    assert service().records.get(contact_id(6)).number == NUMBER
    assert service().records.get(contact_id(6)).intent == "payment"
    assert service().records.get(contact_id(7)).status.value == "NO_AGENT"


# -- the review API -------------------------------------------------------------------------------


def test_a_reviewer_claims_overrides_and_submits_and_nobody_else_can(qa) -> None:
    deliver(qa, completed(10, queue_id="dev-care-queue-id"))
    deliver(qa, written(10, voice_analysis(GOOD)))  # no mini-Miranda: flagged
    claimed = post(qa, "/qa/reviews/claim", {}, "rita")
    assert claimed.status_code == 200
    body = claimed.json_body
    assert body["review"]["contact_id"] == contact_id(10)
    assert body["contact"]["scorecard"]["automatic_fail"] is True
    assert post(qa, "/qa/reviews/claim", {}, "sam").json_body == {"review": None}
    path = f"/qa/reviews/{contact_id(10)}"
    change = {"question": "mini-miranda", "value": "yes", "score": 10,
              "reason": "said in the second minute, in other words"}  # fmt: skip
    assert post(qa, f"{path}/override", change, "sam").status_code == 409
    assert post(qa, f"{path}/override", {**change, "reason": " "}, "rita").status_code == 400
    made = post(qa, f"{path}/override", change, "rita").json_body["review"]["overrides"]
    assert (made["mini-miranda"]["score"], made["mini-miranda"]["by"]) == (10, "rita")
    assert post(qa, f"{path}/submit", {}, "rita").json_body["review"]["status"] == ("SUBMITTED")
    got = qa.http.get(f"/qa/contacts/{contact_id(10)}").json_body
    assert [r["status"] for r in got["reviews"]] == ["SUBMITTED"] and got["status"] == "SCORED"


def test_calibration_contacts_go_to_three_reviewers_and_their_agreement_is_reported(qa) -> None:
    service().sample_rate = 1.0  # every scored contact is in the sample
    week = iso_week(NOW)
    for n in (12, 13):
        deliver(qa, completed(n), written(n, voice_analysis(GOOD)))
    said = {"rita": "yes", "sam": "yes", "tom": "no"}
    for _ in range(2):
        for reviewer, greeting in said.items():
            claimed = post(qa, "/qa/reviews/claim", {}, reviewer).json_body["review"]
            path = f"/qa/reviews/{claimed['contact_id']}"
            score = 10 if greeting == "yes" else 0
            change = {"question": "greeting", "value": greeting,
                      "score": score, "reason": "listened to it"}  # fmt: skip
            assert post(qa, f"{path}/override", change, reviewer).status_code == 200
            assert post(qa, f"{path}/submit", {}, reviewer).status_code == 200
    assert post(qa, "/qa/reviews/claim", {}, "rita").json_body == {"review": None}
    copies = qa.http.get(f"/qa/contacts/{contact_id(12)}").json_body["reviews"]
    assert sorted(c["reviewer"] for c in copies) == ["rita", "sam", "tom"]  # one copy each
    agreed = qa.http.get(f"/qa/calibration?week={week}").json_body
    assert agreed["reviewers"] == ["rita", "sam", "tom"] and agreed["contacts"] == 2
    assert agreed["kappa"]["identity-check"] is None  # everyone left the same answer
    assert agreed["total_mean_abs_difference"] > 0  # tom failed the greeting twice
    assert qa.http.get("/qa/calibration").status_code == 400


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("", 400, "missing_body"),
        ("null", 400, "malformed_json"),
        ("{nope", 400, "malformed_json"),
        ("x" * 20_000, 413, "body_too_large"),
        ({"reviewer": None}, 400, "invalid_reviewer"),
        ({"reviewer": "rita"}, 400, "invalid_reviewer"),
    ],
    ids=["missing", "null", "malformed", "oversize", "null-reviewer", "named-reviewer"],
)
def test_bad_review_bodies_are_refused_naming_the_problem(qa, body, status, error) -> None:
    answer = post(qa, "/qa/reviews/claim", body, "rita")
    assert (answer.status_code, answer.json_body["error"]) == (status, error)


def test_the_reviewer_is_the_iam_caller_and_an_unsigned_request_acts_for_nobody(qa) -> None:
    """Never the body: a body naming a reviewer is refused, and a request API Gateway did not
    see signed (no `identity.userArn`) cannot claim, override or submit."""
    deliver(qa, completed(19, queue_id="dev-care-queue-id"))
    deliver(qa, written(19, voice_analysis(GOOD)))
    path = f"/qa/reviews/{contact_id(19)}"
    for route, body in (("/qa/reviews/claim", {}), (f"{path}/submit", {})):
        answer = post(qa, route, body)
        assert (answer.status_code, answer.json_body["error"]) == (403, "no_caller")
    claimed = post(qa, "/qa/reviews/claim", {}, "rita").json_body["review"]
    assert (claimed["contact_id"], claimed["reviewer"]) == (contact_id(19), "rita")


@pytest.mark.parametrize(
    "change",
    [
        {"question": "q", "value": "v", "score": "ten", "reason": "r"},
        {"question": "q", "value": True, "score": 1, "reason": "r"},
        {"question": None, "value": "v", "score": 1, "reason": "r"},
        {"question": "q", "value": {"a": 1}, "score": 1, "reason": "r"},
    ],
    ids=["score-text", "value-bool", "null-question", "value-object"],
)
def test_bad_overrides_are_refused(qa, change) -> None:
    answer = post(qa, f"/qa/reviews/{contact_id(11)}/override", change, "r")
    assert answer.status_code == 400


def test_an_unknown_contact_is_404(qa) -> None:
    assert qa.http.get(f"/qa/contacts/{contact_id(99)}").status_code == 404


# -- reports and warnings -------------------------------------------------------------------------


def test_the_weekly_report_shows_an_agents_most_failed_question(qa) -> None:
    for n in (20, 21):
        deliver(qa, completed(n, queue_id="dev-care-queue-id"))
        deliver(qa, written(n, voice_analysis(GOOD)))
    week = iso_week(NOW)
    report = qa.http.get(f"/qa/reports/agents/agent-7?week={week}").json_body
    assert report["contacts"] == 2 and report["automatic_fails"] == 2
    most = report["by_rubric"]["collections v1"]["most_failed"][0]
    assert most == {"question": "mini-miranda", "failed": 2, "of": 2}
    team = qa.http.get(f"/qa/reports/queues/care?week={week}").json_body
    assert team["contacts"] == 2
    assert qa.http.get("/qa/reports/agents/agent-7?week=last").status_code == 400
    assert qa.http.get("/qa/reports/agents/agent-7").status_code == 400


def test_a_rising_complaint_raises_one_warning_event(qa, clock) -> None:
    from chalicelib.qa.records import BUCKET as FIFTEEN
    from chalicelib.qa.records import Tally
    from chalicelib.qa.store import DynamoReasonCounts
    from chalicelib.qa.warning import SLOTS_PER_WEEK

    bucket, counts = NOW.replace(minute=30) - FIFTEEN, DynamoReasonCounts()
    for week in range(1, 7):
        for step in range(3):
            at = bucket - step * FIFTEEN - week * SLOTS_PER_WEEK * FIFTEEN
            for _ in range(10 + (week + step) % 3):
                counts.add(Tally("billing", "Complaint", at, "old"))
    for n in range(40):
        counts.add(Tally("billing", "Complaint", bucket, contact_id(100 + n)))
    drained("caught-alerts")
    clock.set(bucket + FIFTEEN + timedelta(minutes=1))
    tick = scheduled(qa)
    assert qa.lambda_.invoke("qa_warnings", tick).payload == {"warnings": 1}
    assert qa.lambda_.invoke("qa_warnings", tick).payload == {"warnings": 0}
    alerts = [json.loads(m["body"]) for m in drained("caught-alerts")]
    assert [(a["detail-type"], a["detail"]["count"]) for a in alerts] == [("QA Early Warning", 40)]
    listed = qa.http.get("/qa/warnings").json_body["warnings"]
    assert [(w["scope"], w["reason"]) for w in listed] == [("billing", "Complaint")]


def test_qa_logs_hold_no_phone_number(qa) -> None:
    from chalicelib.platform.observability import logger

    out = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(out)
    try:
        deliver(qa, completed(30), written(30, voice_analysis(GOOD, closing=-4)))
        stream(qa, contact_record(30), b"{nope")
        deliver(qa, "not json")
    finally:
        handler.setStream(previous)
    logs = out.getvalue()
    assert "analysis taken" in logs and "QA input parked" in logs
    assert NUMBER not in logs and NUMBER[2:] not in logs


def test_the_contact_id_is_the_correlation_id_in_every_capabilitys_logs(qa, connect) -> None:
    """An IVR hook, QA's events and the outbound core's contact events log the contact's id
    under one key; the next invocation of a warm Lambda does not inherit it."""
    from chalicelib.platform.observability import logger
    from devkit.events import contact_event

    _, stubber = connect
    _swept(stubber)
    out = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(out)
    try:
        oversize = contact_event(NUMBER, contact_id=contact_id(41), note="x" * 5000)
        qa.lambda_.invoke("identify_caller", oversize)  # logs that it cut the value short
        deliver(qa, completed(42), written(42, voice_analysis(GOOD)))
        deliver(qa, "not json")  # parked: no contact to speak of
    finally:
        handler.setStream(previous)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    by_message = {line["message"]: line.get("correlation_id") for line in lines}
    assert by_message["analysis taken"] == contact_id(42)
    assert by_message["QA input parked"] is None  # not the previous message's contact
    hooks = [line for line in lines if line.get("hook") == "identify_caller"]
    assert hooks and all(line["correlation_id"] == contact_id(41) for line in hooks)


def test_a_dispatcher_run_names_each_call_it_placed_by_its_contact(qa, connect) -> None:
    """A run handles many contacts: each call placed is one line with its contact's id as
    the correlation id, and the run's summary carries none."""
    from chalicelib.platform.observability import logger
    from tests.integration.test_callback_handlers import dialled

    _, stubber = connect
    out = io.StringIO()
    previous = logger.registered_handler.setStream(out)
    try:
        callback_id = dialled(qa, stubber)
    finally:
        logger.registered_handler.setStream(previous)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    placed = [line for line in lines if line["message"] == "call placed"]
    assert [(p["correlation_id"], p["owner"]) for p in placed] == [
        (f"out-{callback_id}", "callbacks")
    ]
    (summary,) = [line for line in lines if line["message"] == "callback dispatch"]
    assert summary.get("correlation_id") is None


def test_a_reviewer_holds_one_lease_however_often_they_claim(qa) -> None:
    for n in (20, 21):
        deliver(qa, completed(n, queue_id="dev-care-queue-id"))
        deliver(qa, written(n, voice_analysis(GOOD)))  # no mini-Miranda: both flagged
    first = post(qa, "/qa/reviews/claim", {}, "rita").json_body["review"]
    again = post(qa, "/qa/reviews/claim", {}, "rita").json_body["review"]
    assert again["contact_id"] == first["contact_id"]
    other = post(qa, "/qa/reviews/claim", {}, "sam").json_body["review"]
    assert other is not None and other["contact_id"] != first["contact_id"]
