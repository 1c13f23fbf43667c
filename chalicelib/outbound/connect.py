"""StartOutboundVoiceContact and DescribeContact, for every outbound capability: one way to
place a call (paced account-wide, with the attempt's ClientToken, its owner remembered for its
contact events), one classification of what Connect answers, one reading of what an ended
contact means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.outbound.model import (
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    OutboundCall,
    Outcome,
    Route,
    ended_outcome,
)
from chalicelib.outbound.service import commit_or_stop
from chalicelib.platform.clock import Deadline
from chalicelib.platform.connect import (
    THROTTLE_CODES,
    THROTTLED,
    ConnectGateway,
    ConnectUnavailableError,
    error_code,
)
from chalicelib.platform.observability import about, count, logger

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.outbound.service import Commit

# Connect will never place these, however often they are sent.
REJECTED_CODES = frozenset(
    {
        "DestinationNotAllowedException",
        "InvalidParameterException",
        "InvalidRequestException",
        "OutboundContactNotPermittedException",
        "ResourceNotFoundException",
    }
)


class Pacer(Protocol):
    def acquire(self) -> None:
        """Return when a StartOutboundVoiceContact may be sent; DialNotPlacedError if it
        may not be sent soon (the attempt is then tried again later, unspent)."""
        ...


class Routes(Protocol):
    def remember(self, contact_id: str, route: Route) -> None:
        """Keep who placed the contact, for its contact events."""
        ...


class ConnectOutbound:
    def __init__(
        self, client: ConnectClient, instance_id: str, pacer: Pacer, routes: Routes
    ) -> None:
        self._client, self._instance_id = client, instance_id
        self._pacer, self._routes = pacer, routes

    def start(self, call: OutboundCall, commit: Commit) -> str:
        """Place the call; the contact id. Dial*Error says what to do when it was not.

        `commit` is the owner's last write, made after the pacer's wait: the call is sent
        only when it is written (a stop that came during the wait wins)."""
        contact_id = self._place(call, commit)
        logger.info("call placed", extra={**about(contact_id), "owner": call.owner,
                                          "attempt": call.attempt})  # fmt: skip
        if call.owner:
            remember(self._routes, contact_id, call.route())
        return contact_id

    def _place(self, call: OutboundCall, commit: Commit) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        self._pacer.acquire()
        commit_or_stop(commit)
        try:
            answer = self._client.start_outbound_voice_contact(**_request(call, self._instance_id))
        except ClientError as error:
            code = error_code(error)
            if code in THROTTLE_CODES:
                count(THROTTLED)
                raise DialNotPlacedError(code) from error
            if code in REJECTED_CODES:
                raise DialRejectedError(code) from error
            raise DialUncertainError(code or "error") from error
        except BotoCoreError as error:
            raise DialUncertainError(type(error).__name__) from error
        return str(answer["ContactId"])

    def outcome(self, contact_id: str) -> Outcome | None:
        """What became of a contact: None while it is going, KeyError if Connect does not
        know it, any other error when the look-up itself failed."""
        from botocore.exceptions import ClientError

        try:
            contact = self._client.describe_contact(
                InstanceId=self._instance_id, ContactId=contact_id
            )["Contact"]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                raise KeyError(contact_id) from error
            raise
        if not contact.get("DisconnectTimestamp"):
            return None  # still going
        return ended_outcome(
            (contact.get("AgentInfo") or {}).get("ConnectedToAgentTimestamp"),
            str(contact.get("DisconnectReason", "")),
            str(contact.get("AnsweringMachineDetectionStatus", "")),
        )


def _request(call: OutboundCall, instance_id: str) -> Any:
    """StartOutboundVoiceContact's parameters; the optional ones only when asked for."""
    request: dict[str, Any] = {
        "DestinationPhoneNumber": call.number,
        "ContactFlowId": call.flow_id,
        "InstanceId": instance_id,
        "ClientToken": call.token,
        "Attributes": call.contact_attributes(),
        "TrafficType": call.traffic_type,
    }
    if call.queue_id:
        request["QueueId"] = call.queue_id
    if call.name:
        request["Name"] = call.name
    if call.source_number:
        request["SourcePhoneNumber"] = call.source_number
    if call.answering_machine_detection:
        request["AnswerMachineDetectionConfig"] = {
            "EnableAnswerMachineDetection": True,
            "AwaitAnswerMachinePrompt": True,
        }
    return request


def remember(routes: Routes, contact_id: str, route: Route) -> None:
    """Keep who placed the contact, for its contact events; best effort."""
    try:
        routes.remember(contact_id, route)
    except Exception:  # the call is placed: a lost route only delays its outcome
        logger.warning(
            "contact route not written; reconciliation will settle the attempt",
            extra={**about(contact_id), "owner": route.owner},
            exc_info=True,
        )


class ContactSearch:
    """Finds a contact we placed by the name it was given (SearchContacts), and routes the
    events of a contact found that way, whose start never answered, to its owner."""

    def __init__(self, client: ConnectClient, instance_id: str, routes: Routes) -> None:
        self._client, self._instance_id, self._routes = client, instance_id, routes

    def adopt(self, contact_id: str, route: Route) -> None:
        remember(self._routes, contact_id, route)

    def find(self, name: str, since: datetime, until: datetime) -> str | None:
        answer = self._client.search_contacts(
            InstanceId=self._instance_id,
            TimeRange={"Type": "INITIATION_TIMESTAMP", "StartTime": since, "EndTime": until},
            SearchCriteria={"Name": {"SearchText": [name], "MatchType": "MATCH_EXACT"}},
            MaxResults=2,
        )
        found = [c["Id"] for c in answer.get("Contacts", []) if c.get("Name", name) == name]
        return str(found[0]) if found else None


class ConnectAgents:
    """Free agents per queue, by our queue names: what agent-first dialling waits for."""

    def __init__(
        self, gateway: ConnectGateway, queue_ids: Mapping[str, str], budget_seconds: float
    ) -> None:
        self.gateway, self.queue_ids, self.budget = gateway, queue_ids, budget_seconds

    def available(self, queues: Sequence[str]) -> Mapping[str, int]:
        try:
            by_name = self.gateway.metrics_by_name(self.queue_ids, queues, Deadline(self.budget))
        except ConnectUnavailableError:
            return {}  # no metrics, no dialling: agent-first never dials without an agent
        return {queue: int(values.get("AGENTS_AVAILABLE", 0)) for queue, values in by_name.items()}

    def floor(self, queue: str) -> tuple[int, int] | None:
        """(agents staffed, agents available) in the queue; None when Connect cannot say."""
        try:
            by_name = self.gateway.metrics_by_name(self.queue_ids, [queue], Deadline(self.budget))
        except ConnectUnavailableError:
            return None
        values = by_name.get(queue)
        if values is None:
            return None
        return int(values.get("AGENTS_STAFFED", 0)), int(values.get("AGENTS_AVAILABLE", 0))
