"""Contact events find the capability that placed the contact (the outbound core's routes),
on moto tables from the template, with Connect under botocore's Stubber."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chalicelib.callbacks import handlers as callbacks_handlers
from chalicelib.callbacks.model import Status
from chalicelib.outbound.model import OWNER_ATTRIBUTE, OutboundCall, Route
from tests.integration.test_callback_handlers import (
    INSTANCE,
    contact_ended,
    dialled,
    dispatch,
    expect_agents,
    expect_dial,
    requested,
)

ANSWERED = {"agentInfo": {"connectedToAgentTimestamp": "2026-11-24T15:01:00Z"}}


def expect_dial_with_owner(stubber, callback_id: str) -> None:
    owned = {"callback_id": callback_id, "callback_attempt": "1", "journey": ""}
    expect_dial(stubber, callback_id, attributes={**owned, OWNER_ATTRIBUTE: "callbacks"})


def test_a_placed_contact_carries_its_owner_and_its_route_is_kept(callbacks, connect) -> None:
    from chalicelib.outbound.store import DynamoRoutes

    _, stubber = connect
    callback_id = requested(callbacks)
    expect_agents(stubber)
    expect_dial_with_owner(stubber, callback_id)
    assert dispatch(callbacks)["dialled"] == 1
    stubber.assert_no_pending_responses()
    assert DynamoRoutes().owner_of(f"out-{callback_id}") == Route("callbacks", callback_id, 1)


def test_an_outcome_reaches_its_callback_even_when_the_dispatcher_died_before_writing_it(
    callbacks, connect, monkeypatch
) -> None:
    """Connect placed the call and the dispatcher died before it wrote the contact id: the
    contact event still settles the callback, through the route kept with the call."""
    from chalicelib.callbacks import model

    _, stubber = connect
    callback_id = requested(callbacks)
    expect_agents(stubber)
    expect_dial_with_owner(stubber, callback_id)

    def died(*args: Any, **kwargs: Any) -> Any:
        raise SystemExit("the dispatcher's Lambda timed out")

    monkeypatch.setattr(model, "record_dial", died)
    with pytest.raises(SystemExit):
        dispatch(callbacks)
    monkeypatch.undo()
    stranded = callbacks_handlers.served().status(callback_id).callback
    assert stranded.status is Status.DIALING and stranded.attempt.contact_id == ""

    contact_ended(callbacks, contactId=f"out-{callback_id}", **ANSWERED)
    assert callbacks_handlers.served().status(callback_id).callback.status is (Status.COMPLETED)


def test_events_for_contacts_we_did_not_place_touch_nothing(callbacks, connect) -> None:
    _, stubber = connect
    callback_id = dialled(callbacks, stubber)
    before = callbacks_handlers.served().status(callback_id).callback
    answer = contact_ended(callbacks, contactId="an-inbound-contact", **ANSWERED)
    assert answer.payload is None
    assert callbacks_handlers.served().status(callback_id).callback == before


def test_an_event_for_an_owner_this_deployment_lacks_is_reported_not_retried(
    callbacks, caplog
) -> None:
    from chalicelib.outbound.store import DynamoRoutes

    DynamoRoutes().remember("out-campaign-1", Route("qa", "review-9", 2))
    answer = contact_ended(callbacks, contactId="out-campaign-1", **ANSWERED)
    assert answer.payload is None  # handled: EventBridge must not retry it forever
    assert "does not have" in caplog.text


def test_events_other_than_the_end_of_a_contact_are_not_looked_up(callbacks, monkeypatch) -> None:
    from chalicelib.outbound import handlers

    looked_up: list[str] = []
    monkeypatch.setattr(handlers, "_routes", type("R", (), {"owner_of": looked_up.append})())
    for event_type in ("INITIATED", "CONNECTED_TO_AGENT", "COMPLETED", "SOMETHING_NEW"):
        contact_ended(callbacks, contactId="out-1", eventType=event_type)
    assert looked_up == []


class FailingRoutes:
    def remember(self, contact_id: str, route: Route) -> None:
        raise OSError("DynamoDB unavailable")

    def owner_of(self, contact_id: str) -> Route | None:
        return None


class NoPacing:
    def acquire(self) -> None:
        return None


def test_a_route_that_cannot_be_written_never_unplaces_a_placed_call(connect, caplog) -> None:
    """The call is placed: reporting it uncertain would hold an agent for nothing. The outcome
    then comes from reconciliation (DescribeContact) instead of the event."""
    from chalicelib.outbound.connect import ConnectOutbound

    client, stubber = connect
    stubber.add_response("start_outbound_voice_contact", {"ContactId": "out-7"})
    outbound = ConnectOutbound(client, INSTANCE, NoPacing(), FailingRoutes())
    call = OutboundCall("+12125550142", "flow", "queue", "token-7", owner="callbacks", ref="7")
    with caplog.at_level(logging.WARNING):
        assert outbound.start(call, lambda: True) == "out-7"
    assert "reconciliation will settle" in caplog.text
