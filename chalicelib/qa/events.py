"""What Connect says about a contact, read into QA inputs. Pure.

Three sources: the EventBridge contact event (`COMPLETED`: the contact ended, after-contact
work included), the contact record streamed to Kinesis (at least once; the newest
`LastUpdateTimestamp` wins) and Contact Lens's `Analysis State Change` (`FAILED`: no file
will come). Unknown fields are ignored, as Connect asks of consumers; what cannot be read
raises `EventError` saying which field and why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.qa.records import ContactSeen, LensFailed

_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class EventError(ValueError):
    """The event or record is not one we can read; the message names the field."""


def _contact_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise EventError(f"{field}: not a contact id")
    return value


def _instant(value: Any, field: str) -> datetime | None:
    return None if value in (None, "") else _when(value, field)


def _when(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise EventError(f"{field}: not a timestamp")
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventError(f"{field}: not an ISO 8601 timestamp") from None
    if at.tzinfo is None:
        raise EventError(f"{field}: the timestamp has no time zone")
    return at


def _last(arn: Any) -> str:
    """The id at the end of an ARN ("" when there is none)."""
    return arn.rsplit("/", 1)[-1] if isinstance(arn, str) and arn else ""


def _map(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EventError(f"{field}: not an object")
    return value


def contact_event(detail: Mapping[str, Any], time: Any, queues: Mapping[str, str]) -> ContactSeen:
    """A `COMPLETED` contact event; `queues` names queue ids (ours, from the stage)."""
    agent = _map(detail.get("agentInfo"), "agentInfo")
    queue = _map(detail.get("queueInfo"), "queueInfo")
    queue_id = _last(queue.get("queueArn"))
    return ContactSeen(
        contact_id=_contact_id(detail.get("contactId"), "contactId"),
        updated_at=_when(time, "time"),
        agent_id=_last(agent.get("agentArn")),
        queue=queues.get(queue_id, queue_id),
        ended_at=_instant(detail.get("disconnectTimestamp"), "disconnectTimestamp"),
    )


def contact_record(record: Mapping[str, Any], queues: Mapping[str, str]) -> ContactSeen:
    """A contact record (CTR) as streamed: PascalCase, `Agent` null when nobody handled it."""
    agent = _map(record.get("Agent"), "Agent")
    queue = _map(record.get("Queue"), "Queue")
    customer = _map(record.get("CustomerEndpoint"), "CustomerEndpoint")
    queue_id = _last(queue.get("ARN"))
    name = queue.get("Name") if isinstance(queue.get("Name"), str) else ""
    attributes = _map(record.get("Attributes"), "Attributes")
    said = attributes.get("intent") or attributes.get("route_rule") or ""
    phone = customer.get("Type", "TELEPHONE_NUMBER") == "TELEPHONE_NUMBER"
    number = customer.get("Address") if phone else ""
    return ContactSeen(
        contact_id=_contact_id(record.get("ContactId"), "ContactId"),
        updated_at=_when(record.get("LastUpdateTimestamp"), "LastUpdateTimestamp"),
        agent_id=_last(agent.get("ARN")),
        queue=queues.get(queue_id) or name or queue_id,
        ended_at=_instant(record.get("DisconnectTimestamp"), "DisconnectTimestamp"),
        number=number if isinstance(number, str) else "",
        intent=said[:64] if isinstance(said, str) else "",
    )


def lens_state(detail: Mapping[str, Any]) -> LensFailed | None:
    """A Contact Lens state change: FAILED says why no analysis will come; others say
    nothing QA needs."""
    if detail.get("state") != "FAILED":
        return None
    contact = detail.get("contact")
    contact_id = _contact_id(_last(contact), "contact")
    reason = detail.get("reasonCode")
    return LensFailed(contact_id, reason if isinstance(reason, str) and reason else "FAILED")
