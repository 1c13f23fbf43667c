"""Callbacks through the Chalice app: hooks, the HTTP API, the dispatcher and contact events,
on moto tables from infra/template.yaml, with Connect under botocore's Stubber."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import ANY

from chalicelib.callbacks import handlers as callbacks_handlers
from chalicelib.callbacks.model import Status
from chalicelib.callbacks.service import CallbackService
from chalicelib.outbound.model import Attempt, contact_name
from devkit.events import contact_event
from tests.integration.conftest import metrics_response

INSTANCE = "00000000-0000-4000-8000-00000000dev0"
CALLER = "+12125550142"


def hook(client, name: str, event: Any) -> dict[str, str]:
    return client.lambda_.invoke(name, event).payload


def post(client, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.http.post("/callbacks", headers={"Content-Type": "application/json"}, body=raw)


def expect_agents(stubber, available: int = 5) -> None:
    queue_ids = sorted(
        f"dev-{q}-queue-id"
        for q in ("general", "billing", "technical", "vip", "care", "spanish", "night")
    )
    stubber.add_response(
        "get_current_metric_data",
        metrics_response(**{q: (0, available, available) for q in queue_ids}),
        {
            "InstanceId": INSTANCE,
            "Filters": {"Queues": ANY, "Channels": ["VOICE"]},
            "Groupings": ["QUEUE"],
            "CurrentMetrics": ANY,
        },
    )


def expect_dial(
    stubber, callback_id: str, attempt: int = 1, number: str = CALLER, attributes: Any = ANY
) -> None:
    stubber.add_response(
        "start_outbound_voice_contact",
        {"ContactId": f"out-{callback_id}"},
        {
            "DestinationPhoneNumber": number,
            "ContactFlowId": "00000000-0000-4000-8000-0000000cbf10",
            "InstanceId": INSTANCE,
            "ClientToken": f"{callback_id}-{attempt}",
            "QueueId": "dev-billing-queue-id",
            "Attributes": attributes,
            "TrafficType": "GENERAL",
            "Name": contact_name("callback", Attempt(attempt, f"{callback_id}-{attempt}")),
        },
    )


def ledger_service() -> CallbackService:
    return callbacks_handlers.served()


# -- hooks ------------------------------------------------------------------------------------


def test_ivr_request_answers_position_and_a_second_request_finds_the_first(callbacks) -> None:
    first = hook(callbacks, "request_callback", contact_event(CALLER, queue="billing"))
    assert (first["result"], first["callback_status"], first["callback_position"]) == (
        "ok",
        "QUEUED",
        "1",
    )
    again = hook(callbacks, "request_callback", contact_event(CALLER, queue="billing"))
    assert again["callback_id"] == first["callback_id"] and again["callback_existing"] == "true"
    status = hook(callbacks, "callback_status", contact_event(CALLER))
    assert status["callback_found"] == "true" and status["callback_position"] == "1"


def test_ivr_cancel_by_the_callers_number(callbacks) -> None:
    hook(callbacks, "request_callback", contact_event(CALLER, queue="billing"))
    cancelled = hook(callbacks, "cancel_callback", contact_event(CALLER))
    assert cancelled["callback_status"] == "CANCELLED" and cancelled["call_in_progress"] == "false"
    assert hook(callbacks, "callback_status", contact_event(CALLER))["callback_found"] == "false"


def test_an_ivr_cancel_after_the_call_was_sent_says_that_call_may_still_ring(
    callbacks, connect
) -> None:
    """As DELETE /callbacks/{id} answers 202: no further attempt, but the call already handed
    to Connect is not taken back, and the flow can say so."""
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    cancelled = hook(callbacks, "cancel_callback", contact_event(CALLER, callback_id=callback_id))
    assert cancelled["callback_status"] == "CANCELLED" and cancelled["call_in_progress"] == "true"


@pytest.mark.parametrize(
    ("parameters", "reason", "field"),
    [
        ({"queue": "billing", "number": "12"}, "invalid_number", "number"),
        ({"queue": "billing", "number": "+442071838750"}, "unsupported_country", "number"),
        ({"queue": "nowhere"}, "unknown_queue", "queue"),
        ({"queue": "billing", "slot": "yesterday"}, "invalid_slot", "slot"),
        ({"queue": "billing", "slot": "2026-11-20T10:00:00+00:00"}, "slot_in_past", "slot"),
        ({"queue": "billing", "slot": "2026-11-29T17:00:00+00:00"}, "slot_outside_hours", "slot"),
    ],
)
def test_ivr_refusals_name_the_field_and_store_nothing(
    callbacks, parameters, reason, field
) -> None:
    answer = hook(callbacks, "request_callback", contact_event(CALLER, **parameters))
    assert (answer["result"], answer["reason"], answer["field"]) == ("invalid", reason, field)
    assert hook(callbacks, "callback_status", contact_event(CALLER))["callback_found"] == "false"


@pytest.mark.parametrize("priority", ["²", "٣", "-1", "1.5", "99"])
def test_an_unusable_priority_from_the_flow_is_refused_by_name(callbacks, priority) -> None:
    answer = hook(callbacks, "request_callback", contact_event(queue="billing", priority=priority))
    assert (answer["result"], answer["reason"], answer["field"]) == (
        "invalid",
        "invalid_priority",
        "priority",
    )


def test_withheld_number_cannot_ask_without_giving_one(callbacks) -> None:
    answer = hook(callbacks, "request_callback", contact_event(None, queue="billing"))
    assert answer["reason"] == "invalid_number"


# -- HTTP API ---------------------------------------------------------------------------------


def test_http_create_read_and_delete(callbacks) -> None:
    created = post(callbacks, {"number": CALLER, "queue": "billing", "journey": "website"})
    assert created.status_code == 201
    body = json.loads(created.body)
    assert body["position"] == 1 and body["status"] == "QUEUED"
    assert post(callbacks, {"number": CALLER, "queue": "billing"}).status_code == 200  # existing
    read = callbacks.http.get(f"/callbacks/{body['id']}")
    assert json.loads(read.body)["id"] == body["id"]
    deleted = callbacks.http.delete(f"/callbacks/{body['id']}")
    assert json.loads(deleted.body)["status"] == "CANCELLED"
    assert callbacks.http.get("/callbacks/no-such-id").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "error", "field"),
    [
        ("", 400, "missing_body", "body"),
        ("{not json", 400, "malformed_json", "body"),
        ("[1, 2]", 400, "malformed_json", "body"),
        ({"queue": "billing"}, 400, "missing_field", "number"),
        ({"number": None, "queue": "billing"}, 400, "missing_field", "number"),
        ({"number": 2125550142, "queue": "billing"}, 400, "wrong_type", "number"),
        ({"number": CALLER, "queue": "billing", "priority": "high"}, 400, "wrong_type", "priority"),
        ({"number": CALLER, "queue": "billing", "colour": "red"}, 400, "unknown_field", "colour"),
        (
            {"number": CALLER, "queue": "billing", "journey": "x" * 20_000},
            413,
            "body_too_large",
            "body",
        ),
        ({"number": "not a number", "queue": "billing"}, 400, "invalid_number", "number"),
        ("[" * 5000 + "]" * 5000, 400, "malformed_json", "body"),
        ('{"a":' * 2500 + "1" + "}" * 2500, 400, "malformed_json", "body"),
        (
            {"number": CALLER, "queue": "billing", "priority": 0},
            400,
            "invalid_priority",
            "priority",
        ),
        ({"number": CALLER, "queue": None}, 400, "missing_field", "queue"),
        ({"number": CALLER, "queue": "billing", "slot": "tomorrow"}, 400, "invalid_slot", "slot"),
    ],
)
def test_http_validation_names_the_field(callbacks, body, status, error, field) -> None:
    response = post(callbacks, body)
    assert response.status_code == status
    assert (json.loads(response.body)["error"], json.loads(response.body)["field"]) == (
        error,
        field,
    )


def test_http_lists_every_problem_of_a_body_and_names_an_unknown_key_first(callbacks) -> None:
    response = post(callbacks, {"queue": 7, "priority": "high", "colour": "red"})
    assert response.status_code == 400
    body = json.loads(response.body)
    assert (body["error"], body["field"]) == ("unknown_field", "colour")
    assert [(p["error"], p["field"]) for p in body["problems"]] == [
        ("unknown_field", "colour"),
        ("missing_field", "number"),
        ("wrong_type", "queue"),
        ("wrong_type", "priority"),
    ]
    assert body["problems"][3]["message"] == "priority must be a whole number"


def test_http_optional_fields_sent_as_null_take_their_defaults(callbacks) -> None:
    body = {"number": CALLER, "queue": "billing", "priority": None, "journey": None, "slot": None}
    created = post(callbacks, body)
    assert created.status_code == 201, created.body
    stored = ledger_service().status(json.loads(created.body)["id"])
    assert (stored.callback.priority, stored.callback.journey) == (5, "")


def test_http_requests_are_rate_limited_per_number(callbacks) -> None:
    codes = []
    for queue in ("billing", "general", "technical", "vip", "care", "spanish"):
        codes.append(post(callbacks, {"number": CALLER, "queue": queue}).status_code)
    assert codes == [201] * 5 + [429]
    refused = post(callbacks, {"number": CALLER, "queue": "spanish"})
    assert refused.headers["Retry-After"] == "60"
    assert post(callbacks, {"number": "+12125550143", "queue": "billing"}).status_code == 201


def test_a_retried_request_gets_its_callback_and_is_not_charged(callbacks) -> None:
    first = post(callbacks, {"number": CALLER, "queue": "billing"})
    retries = [post(callbacks, {"number": CALLER, "queue": "billing"}) for _ in range(8)]
    assert {r.status_code for r in retries} == {200}
    assert {json.loads(r.body)["id"] for r in retries} == {json.loads(first.body)["id"]}
    others = ("general", "technical", "vip", "care")
    assert [post(callbacks, {"number": CALLER, "queue": q}).status_code for q in others] == [
        201
    ] * 4


def test_a_cancel_that_keeps_losing_its_write_answers_503_with_retry_after(
    callbacks, monkeypatch
) -> None:
    from chalicelib.callbacks.store import DynamoLedger

    callback_id = requested(callbacks)
    monkeypatch.setattr(DynamoLedger, "transition", lambda self, before, after: None)
    response = callbacks.http.delete(f"/callbacks/{callback_id}")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert json.loads(response.body)["field"] == "callback_id"
    monkeypatch.undo()
    assert ledger_service().status(callback_id).callback.status is Status.QUEUED


# -- the dispatcher, Connect and its failures -------------------------------------------------


def dispatch(client) -> dict[str, int]:
    tick = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    return client.lambda_.invoke("dispatch_callbacks", tick).payload


def requested(client, number: str = CALLER) -> str:
    return json.loads(post(client, {"number": number, "queue": "billing"}).body)["id"]


def dialled(client, stubber) -> str:
    """A callback requested and dialled once (its outbound contact is `out-<id>`)."""
    callback_id = requested(client)
    expect_agents(stubber)
    expect_dial(stubber, callback_id)
    dispatch(client)
    return callback_id


def test_dispatch_dials_once_with_the_attempts_client_token(callbacks, connect) -> None:
    _, stubber = connect
    callback_id = requested(callbacks)
    expect_agents(stubber)
    expect_dial(stubber, callback_id)
    assert dispatch(callbacks)["dialled"] == 1
    expect_agents(stubber)
    assert dispatch(callbacks)["dialled"] == 0  # dialling already: never twice
    stubber.assert_no_pending_responses()
    assert ledger_service().status(callback_id).callback.status is Status.DIALING


def test_a_lost_attempt_is_found_by_its_name_and_never_dialled_again(
    callbacks, connect, clock
) -> None:
    """Connect placed the call but its answer never reached us (here: a 500 after the fact).
    Past the placement lease the reconciler searches for the contact by the attempt's name
    (SearchContacts), never by sending the call again: a replayed ClientToken would start a
    new call once the first has ended. The attempt carries on with the contact it finds."""
    from datetime import timedelta

    _, stubber = connect
    callback_id = requested(callbacks)
    expect_agents(stubber)
    stubber.add_client_error(
        "start_outbound_voice_contact", "InternalServiceException", http_status_code=500
    )
    assert dispatch(callbacks)["uncertain"] == 1
    clock.set(clock.now() + timedelta(seconds=31))  # past Policy.placement
    expect_agents(stubber, available=0)  # the agent is busy with the call we did not see
    stubber.add_response(
        "search_contacts",
        {"Contacts": [{"Id": f"out-{callback_id}", "Name": _name(callback_id)}]},
        {
            "InstanceId": INSTANCE,
            "TimeRange": ANY,
            "SearchCriteria": {
                "Name": {"SearchText": [_name(callback_id)], "MatchType": "MATCH_EXACT"}
            },
            "MaxResults": 2,
        },
    )
    assert dispatch(callbacks)["reconciled"] == 1
    stubber.assert_no_pending_responses()  # and no second StartOutboundVoiceContact
    callback = ledger_service().status(callback_id).callback
    assert (callback.status, callback.attempt.ordinal) == (Status.DIALING, 1)
    assert callback.attempt.contact_id == f"out-{callback_id}"
    # The contact found is routed to us, so its contact event settles it.
    contact_ended(
        callbacks,
        contactId=f"out-{callback_id}",
        agentInfo={"connectedToAgentTimestamp": "2026-11-24T15:01:00Z"},
    )
    assert ledger_service().status(callback_id).callback.status is Status.COMPLETED


def _name(callback_id: str, attempt: int = 1) -> str:
    return contact_name("callback", Attempt(attempt, f"{callback_id}-{attempt}"))


def test_an_attempt_that_hears_nothing_is_settled_by_asking_connect(
    callbacks, connect, clock
) -> None:
    """Dialled, then no contact event before the lease ends: the dispatcher asks Connect what
    became of the contact (DescribeContact) and records it; it never dials again."""
    from datetime import timedelta

    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    clock.set(clock.now() + timedelta(minutes=4))  # past the outbound core's 3-minute lease
    expect_agents(stubber, available=0)
    stubber.add_response(
        "describe_contact",
        {
            "Contact": {
                "Id": f"out-{callback_id}",
                "DisconnectTimestamp": clock.now(),
                "DisconnectReason": "CUSTOMER_DISCONNECT",
                "AgentInfo": {"ConnectedToAgentTimestamp": clock.now() - timedelta(minutes=2)},
            }
        },
        {"InstanceId": INSTANCE, "ContactId": f"out-{callback_id}"},
    )
    assert dispatch(callbacks)["reconciled"] == 1
    stubber.assert_no_pending_responses()
    assert ledger_service().status(callback_id).callback.status is Status.COMPLETED


def test_before_the_flows_are_deployed_a_callback_waits_and_nothing_is_dialled(
    callbacks, connect
) -> None:
    """The flows' ids come from the parameter `switchboard flows deploy` writes: without it
    the dispatcher places no call, and the callback waits for a later run."""
    import boto3

    from devkit.flow_ids import publish_flow_ids
    from devkit.local_aws import LOCAL_FLOW_IDS

    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.delete_parameter(Name="/switchboard/dev/flow-ids")
    try:
        _, stubber = connect
        callback_id = requested(callbacks)
        expect_agents(stubber)
        assert dispatch(callbacks)["dialled"] == 0
        stubber.assert_no_pending_responses()  # no StartOutboundVoiceContact was asked for
        callback = ledger_service().status(callback_id).callback
        assert callback.status is Status.RETRY_WAIT and callback.attempt.ordinal == 1
    finally:
        publish_flow_ids(ssm, "/switchboard/dev/flow-ids", LOCAL_FLOW_IDS)


def test_an_attempt_connect_cannot_tell_of_stays_unknown_and_is_counted_for_the_alarm(
    callbacks, connect, clock, monkeypatch
) -> None:
    from datetime import timedelta

    from chalicelib.callbacks import handlers

    counted: dict[str, int] = {}
    monkeypatch.setattr(handlers, "count", lambda name, value=1: counted.update({name: value}))
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    clock.set(clock.now() + timedelta(minutes=4))
    expect_agents(stubber, available=0)
    stubber.add_client_error("describe_contact", "ThrottlingException", http_status_code=429)
    dispatch(callbacks)
    assert ledger_service().status(callback_id).callback.status is Status.UNKNOWN
    assert counted["CallbacksStillUnknown"] == 1  # docs/ops.md: Callbacks stuck in UNKNOWN


def test_no_free_agent_means_no_dial(callbacks, connect) -> None:
    _, stubber = connect
    requested(callbacks)
    expect_agents(stubber, available=0)
    assert dispatch(callbacks)["dialled"] == 0


def test_metrics_throttled_means_no_dial(callbacks, connect) -> None:
    _, stubber = connect
    requested(callbacks)
    stubber.add_client_error("get_current_metric_data", "ThrottlingException", http_status_code=429)
    assert dispatch(callbacks)["dialled"] == 0


@pytest.mark.parametrize(
    ("code", "status", "http"),
    [
        ("ThrottlingException", Status.RETRY_WAIT, 429),
        ("LimitExceededException", Status.RETRY_WAIT, 429),
        ("DestinationNotAllowedException", Status.FAILED, 403),
        ("InternalServiceException", Status.DIALING, 500),
    ],
)
def test_connect_faults(callbacks, connect, code, status, http) -> None:
    _, stubber = connect
    callback_id = requested(callbacks)
    expect_agents(stubber)
    stubber.add_client_error("start_outbound_voice_contact", code, http_status_code=http)
    dispatch(callbacks)
    assert ledger_service().status(callback_id).callback.status is status


def test_dynamodb_throughput_errors_fail_the_run_and_lose_nothing(
    callbacks, connect, monkeypatch
) -> None:
    from botocore.exceptions import ClientError
    from pynamodb.exceptions import PutError

    from chalicelib.callbacks.store import CallbackRecord

    _, stubber = connect
    callback_id = requested(callbacks)
    expect_agents(stubber)

    def throttled(self, *args, **kwargs):
        raise PutError(
            "throttled",
            ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"),
        )

    monkeypatch.setattr(CallbackRecord, "save", throttled)
    with pytest.raises(PutError, match="throttled"):  # the schedule fails; the next minute retries
        ledger_service().dispatch()
    monkeypatch.undo()
    assert ledger_service().status(callback_id).callback.status is Status.QUEUED


def test_contact_events_settle_the_outcome(callbacks, connect) -> None:
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    event = callbacks.events.generate_cw_event(
        source="aws.connect",
        detail_type="Amazon Connect Contact Event",
        resources=[],
        detail={
            "eventType": "DISCONNECTED",
            "contactId": f"out-{callback_id}",
            "agentInfo": {"connectedToAgentTimestamp": "2026-11-24T15:01:00Z"},
            "someNewField": {"ignored": True},
        },
    )
    callbacks.lambda_.invoke("outbound_contact_events", event)
    assert ledger_service().status(callback_id).callback.status is Status.COMPLETED


def contact_ended(client, **detail: Any) -> Any:
    event = client.events.generate_cw_event(
        source="aws.connect",
        detail_type="Amazon Connect Contact Event",
        resources=[],
        detail={"eventType": "DISCONNECTED", **detail},
    )
    return client.lambda_.invoke("outbound_contact_events", event)


def test_a_contact_event_delivered_again_or_late_changes_nothing(callbacks, connect) -> None:
    """EventBridge delivers at least once, in any order: the version condition and the state
    machine make the second delivery a no-op (ADR 0002), with no idempotency table."""
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    answered = {"agentInfo": {"connectedToAgentTimestamp": "2026-11-24T15:01:00Z"}}
    for _ in range(3):
        contact_ended(callbacks, contactId=f"out-{callback_id}", **answered)
    first = ledger_service().status(callback_id).callback
    contact_ended(callbacks, contactId=f"out-{callback_id}")  # a late, unanswered report
    after = ledger_service().status(callback_id).callback
    assert first.status is after.status is Status.COMPLETED
    assert after.version == first.version
    assert [t.status for t in after.history].count(Status.COMPLETED) == 1


@pytest.mark.parametrize(
    "contact_id", ["", "c" * 3000, None, 42, ["x"], "../../etc", "out-x\n", {"Id": "x"}]
)
def test_contact_events_that_cannot_be_ours_are_ignored_not_retried(
    callbacks, connect, contact_id
) -> None:
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    answer = contact_ended(callbacks, contactId=contact_id)
    assert answer.payload is None  # handled: EventBridge does not retry it
    assert ledger_service().status(callback_id).callback.status is Status.DIALING


def test_a_busy_tone_from_answering_machine_detection_retries(callbacks, connect) -> None:
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    contact_ended(
        callbacks,
        contactId=f"out-{callback_id}",
        disconnectReason="CUSTOMER_DISCONNECT",
        answeringMachineDetectionStatus="SIT_TONE_BUSY",
    )
    callback = ledger_service().status(callback_id).callback
    assert callback.status is Status.RETRY_WAIT and callback.history[-1].reason == "busy"


def test_the_callback_flow_hook_records_connect_or_decline(callbacks, connect) -> None:
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    answered = hook(
        callbacks,
        "callback_answered",
        contact_event(CALLER, contact_id=f"out-{callback_id}", choice="2"),
    )
    assert answered["callback_status"] == "CANCELLED"
    junk = hook(callbacks, "callback_answered", contact_event(CALLER, choice="9"))
    assert junk["reason"] == "invalid_choice"


def test_pressing_1_puts_the_customer_through_to_the_callbacks_queue(callbacks, connect) -> None:
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    answered = hook(
        callbacks,
        "callback_answered",
        contact_event(CALLER, contact_id=f"out-{callback_id}", choice="1"),
    )
    assert answered["callback_status"] == "COMPLETED"
    assert answered["queue_arn"].endswith("/queue/dev-billing-queue-id")
