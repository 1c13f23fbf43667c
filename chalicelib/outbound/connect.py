"""StartOutboundVoiceContact and DescribeContact, for every outbound capability: one way to
place a call (paced account-wide, with the attempt's ClientToken, its owner remembered for its
contact events), one classification of what Connect answers, one reading of what an ended
contact means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from chalicelib.outbound.model import (
    DialNotPlacedError,
    DialRejectedError,
    DialUncertainError,
    OutboundCall,
    Outcome,
    Route,
    ended_outcome,
)
from chalicelib.platform.clock import Deadline
from chalicelib.platform.connect import (
    THROTTLE_CODES,
    ConnectGateway,
    ConnectUnavailableError,
    error_code,
)
from chalicelib.platform.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

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

    def start(self, call: OutboundCall) -> str:
        """Place the call; the contact id. Dial*Error says what to do when it was not."""
        contact_id = self._place(call)
        if call.owner:
            self._remember(contact_id, call)
        return contact_id

    def _remember(self, contact_id: str, call: OutboundCall) -> None:
        try:
            self._routes.remember(contact_id, call.route())
        except Exception:  # the call is placed: a lost route only delays its outcome
            logger.warning(
                "contact route not written; reconciliation will settle the attempt",
                extra={"contact_id": contact_id, "owner": call.owner},
                exc_info=True,
            )

    def _place(self, call: OutboundCall) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        self._pacer.acquire()
        try:
            answer = self._client.start_outbound_voice_contact(
                DestinationPhoneNumber=call.number,
                ContactFlowId=call.flow_id,
                InstanceId=self._instance_id,
                ClientToken=call.token,
                QueueId=call.queue_id,
                Attributes=call.contact_attributes(),
                TrafficType=call.traffic_type,  # type: ignore[arg-type]
            )
        except ClientError as error:
            code = error_code(error)
            if code in THROTTLE_CODES:
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
