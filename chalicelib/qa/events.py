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
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


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


def _resource_id(arn: Any, field: str) -> str:
    """An agent's or queue's id from its ARN: Connect's ids are short and plain; anything
    else (a lone surrogate, 200 KB) could never be stored or indexed, and is refused."""
    found = _last(arn)
    if found and not _ID.match(found):
        raise EventError(f"{field}: not an id Connect gives")
    return found


def storable(text: str) -> bool:
    """Printable text that UTF-8 can carry: no lone surrogate (JSON can hold one), no NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return text.isprintable()


def _words(value: Any, limit: int) -> str:
    """Descriptive text (a queue's name, the flow's intent), or "" when it is not text that
    can be stored: it only describes the contact, so the rest of the record still counts."""
    return value[:limit] if isinstance(value, str) and storable(value) else ""


def _map(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EventError(f"{field}: not an object")
    return value


def _field(container: Mapping[str, Any], name: str) -> Any:
    """A contact event's field as Connect sends it (`agentInfo`), or as AWS's own samples
    spell it (`AgentInfo`): the same field, never a contact without an agent."""
    if name in container:
        return container[name]
    return container.get(name[:1].upper() + name[1:])


def completed(detail: Mapping[str, Any]) -> bool:
    """A contact event saying the contact ended, after-contact work included."""
    return bool(_field(detail, "eventType") == "COMPLETED")


def contact_event(detail: Mapping[str, Any], time: Any, queues: Mapping[str, str]) -> ContactSeen:
    """A `COMPLETED` contact event; `queues` names queue ids (ours, from the stage)."""
    agent = _map(_field(detail, "agentInfo"), "agentInfo")
    queue = _map(_field(detail, "queueInfo"), "queueInfo")
    queue_id = _resource_id(_field(queue, "queueArn"), "queueInfo.queueArn")
    return ContactSeen(
        contact_id=_contact_id(_field(detail, "contactId"), "contactId"),
        updated_at=_when(time, "time"),
        agent_id=_resource_id(_field(agent, "agentArn"), "agentInfo.agentArn"),
        queue=queues.get(queue_id, queue_id),
        ended_at=_instant(_field(detail, "disconnectTimestamp"), "disconnectTimestamp"),
    )


def contact_record(record: Mapping[str, Any], queues: Mapping[str, str]) -> ContactSeen:
    """A contact record (CTR) as streamed: PascalCase, `Agent` null when nobody handled it."""
    agent = _map(record.get("Agent"), "Agent")
    queue = _map(record.get("Queue"), "Queue")
    customer = _map(record.get("CustomerEndpoint"), "CustomerEndpoint")
    queue_id = _resource_id(queue.get("ARN"), "Queue.ARN")
    name = _words(queue.get("Name"), 128)
    attributes = _map(record.get("Attributes"), "Attributes")
    said = attributes.get("intent") or attributes.get("route_rule") or ""
    phone = customer.get("Type", "TELEPHONE_NUMBER") == "TELEPHONE_NUMBER"
    number = customer.get("Address") if phone else ""
    return ContactSeen(
        contact_id=_contact_id(record.get("ContactId"), "ContactId"),
        updated_at=_when(record.get("LastUpdateTimestamp"), "LastUpdateTimestamp"),
        agent_id=_resource_id(agent.get("ARN"), "Agent.ARN"),
        queue=queues.get(queue_id) or name or queue_id,
        ended_at=_instant(record.get("DisconnectTimestamp"), "DisconnectTimestamp"),
        number=number if isinstance(number, str) and _E164.match(number) else "",
        intent=_words(said, 64),
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
