"""Connect's contact events, contact records and Contact Lens state changes read into QA
inputs: unknown fields ignored, missing optional ones tolerated, unusable ones refused naming
the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.qa.events import (
    EventError,
    completed,
    contact_event,
    contact_record,
    lens_state,
)
from chalicelib.qa.records import LensFailed

INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/i-1"
QUEUES = {"q-billing": "billing"}
RECORD = {
    "ContactId": "c-1",
    "LastUpdateTimestamp": "2026-12-01T15:00:00Z",
    "DisconnectTimestamp": "2026-12-01T14:58:00Z",
    "Agent": {"ARN": f"{INSTANCE}/agent/agent-7"},
    "Queue": {"ARN": f"{INSTANCE}/queue/q-billing", "Name": "Billing (Connect's name)"},
    "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+12125550147"},
    "Attributes": {"route_rule": "billing"},
    "SomethingNew": {"x": 1},
}


def test_a_contact_record_gives_agent_queue_number_and_intent() -> None:
    seen = contact_record(RECORD, QUEUES)
    assert (seen.contact_id, seen.agent_id, seen.queue, seen.number, seen.intent) == (
        "c-1", "agent-7", "billing", "+12125550147", "billing",
    )  # fmt: skip
    assert seen.updated_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert seen.ended_at == datetime(2026, 12, 1, 14, 58, tzinfo=UTC)


def test_a_record_without_an_agent_a_known_queue_or_a_phone_still_reads() -> None:
    other = {**RECORD, "Agent": None, "Queue": {"Name": "vip"},
             "CustomerEndpoint": {"Type": "EMAIL_ADDRESS", "Address": "a@b.c"},
             "Attributes": None, "DisconnectTimestamp": None}  # fmt: skip
    seen = contact_record(other, QUEUES)
    assert (seen.agent_id, seen.queue, seen.number, seen.intent, seen.ended_at) == (
        "", "vip", "", "", None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ContactId": None}, "ContactId"),
        ({"ContactId": "../../etc"}, "ContactId"),
        ({"LastUpdateTimestamp": None}, "LastUpdateTimestamp"),
        ({"LastUpdateTimestamp": "yesterday"}, "LastUpdateTimestamp"),
        ({"LastUpdateTimestamp": "2026-12-01T15:00:00"}, "no time zone"),
        ({"DisconnectTimestamp": 5}, "DisconnectTimestamp"),
        ({"Agent": "agent-7"}, "Agent"),
        ({"Attributes": ["intent"]}, "Attributes"),
    ],
)
def test_an_unusable_record_is_refused_naming_the_field(change, field) -> None:
    with pytest.raises(EventError, match=field):
        contact_record({**RECORD, **change}, QUEUES)


def test_a_completed_event_reads_camel_case_and_ignores_what_it_does_not_know() -> None:
    detail = {
        "eventType": "COMPLETED",
        "contactId": "c-2",
        "agentInfo": {"agentArn": f"{INSTANCE}/agent/agent-9", "new": 1},
        "queueInfo": {"queueArn": f"{INSTANCE}/queue/q-unknown"},
        "disconnectTimestamp": "2026-12-01T14:00:00.123Z",
    }
    seen = contact_event(detail, "2026-12-01T14:05:00Z", QUEUES)
    assert (seen.agent_id, seen.queue) == ("agent-9", "q-unknown")  # not ours to name: the id
    with pytest.raises(EventError, match="time"):
        contact_event(detail, None, QUEUES)
    with pytest.raises(EventError, match="queueInfo"):
        contact_event({**detail, "queueInfo": "q"}, "2026-12-01T14:05:00Z", QUEUES)


def test_a_completed_event_spelled_as_in_aws_samples_keeps_its_agent_and_queue() -> None:
    """AgentInfo/AgentArn, as AWS's sample events spell them: not a contact nobody handled."""
    detail = {
        "EventType": "COMPLETED",
        "ContactId": "c-4",
        "AgentInfo": {"AgentArn": f"{INSTANCE}/agent/agent-9"},
        "QueueInfo": {"QueueArn": f"{INSTANCE}/queue/q-billing"},
        "DisconnectTimestamp": "2026-12-01T14:00:00Z",
    }
    assert completed(detail)
    seen = contact_event(detail, "2026-12-01T14:05:00Z", QUEUES)
    assert (seen.contact_id, seen.agent_id, seen.queue) == ("c-4", "agent-9", "billing")
    assert seen.ended_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert not completed({"eventType": "CONNECTED_TO_AGENT"})


def test_only_a_failed_analysis_matters_and_its_reason_is_kept() -> None:
    failed = {"contact": f"{INSTANCE}/contact/c-3", "state": "FAILED",
              "reasonCode": "INVALID_ANALYSIS_CONFIGURATION"}  # fmt: skip
    assert lens_state(failed) == LensFailed("c-3", "INVALID_ANALYSIS_CONFIGURATION")
    assert lens_state({**failed, "reasonCode": None}) == LensFailed("c-3", "FAILED")
    assert lens_state({"state": "COMPLETED"}) is None
    with pytest.raises(EventError, match="contact"):
        lens_state({"state": "FAILED", "contact": 42})


def test_descriptive_text_that_cannot_be_stored_is_dropped_and_the_record_still_counts() -> None:
    """A lone surrogate in the flow's intent or the queue's name, a number that is no number:
    the record still says who handled the contact."""
    hostile = {
        **RECORD,
        "Queue": {"Name": "vip\ud800"},
        "Attributes": {"intent": "pay\x00ment"},
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+1\udfff"},
    }
    seen = contact_record(hostile, QUEUES)
    assert (seen.agent_id, seen.queue, seen.intent, seen.number) == ("agent-7", "", "", "")


@pytest.mark.parametrize(
    ("agent_arn", "field"),
    [(f"{INSTANCE}/agent/" + "a" * 70, "Agent.ARN"), (f"{INSTANCE}/agent/a\udfff", "Agent.ARN")],
)
def test_an_agent_id_connect_could_not_have_given_is_refused(agent_arn: str, field: str) -> None:
    with pytest.raises(EventError, match=field):
        contact_record({**RECORD, "Agent": {"ARN": agent_arn}}, QUEUES)
