"""Contact events for the contacts we placed, delivered to the capability that placed them.

Connect's contact events carry no contact attributes, so each contact's owner is read from
the route kept when it was placed (`ConnectOutbound.start`). Contacts we did not place (every
inbound call) cost one read and are dropped. Events are best effort, unordered and may come
twice: each owner's state machine makes a repeat a no-op, and its reconciliation covers the
events that never come.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalice.app import Blueprint, CloudWatchEvent

from chalicelib.capability import Provided
from chalicelib.outbound.model import ContactEnded, ended_contact
from chalicelib.platform.observability import correlate, count, logger

if TYPE_CHECKING:
    from chalicelib.outbound.store import DynamoRoutes


@dataclass(frozen=True)
class Owners:
    """Each capability that places calls, by name (a route's owner): how it takes the end of
    one of its contacts."""

    settle: Mapping[str, Callable[[ContactEnded], object]]


bp = Blueprint(__name__)
owners = Provided(Owners)
_routes: DynamoRoutes | None = None


def routes() -> DynamoRoutes:
    """The route book, built on first use (a cold start that sees no event never builds it)."""
    global _routes
    if _routes is None:
        from chalicelib.outbound.store import DynamoRoutes

        _routes = DynamoRoutes()
    return _routes


@bp.on_cw_event(
    {
        "source": ["aws.connect"],
        "detail-type": ["Amazon Connect Contact Event"],
        "detail": {"eventType": ["DISCONNECTED"]},
    },
    name="outbound_contact_events",
)
def outbound_contact_events(event: CloudWatchEvent) -> None:
    detail = event.detail if isinstance(event.detail, dict) else {}
    ended = ended_contact(detail)
    if ended is None:
        if detail.get("eventType") == "DISCONNECTED":
            # Not a contact we could have placed: raising would make EventBridge retry it.
            logger.warning(
                "contact event ignored: unusable contactId", extra={"id": event.event_id}
            )
        return
    contact_id, outcome = ended
    correlate(contact_id)
    route = routes().owner_of(contact_id)
    if route is not None:
        deliver(ContactEnded(contact_id, outcome, route))


def deliver(ended: ContactEnded) -> None:
    """Hand an ended contact to its owner's service."""
    settle = owners().settle.get(ended.route.owner)
    if settle is None:
        # A deploy that placed calls for a capability this one lacks: alarm, do not retry.
        count("ContactEventsWithoutOwner", 1)
        logger.error(
            "contact event for an owner this deployment does not have",
            extra={"contact_id": ended.contact_id, "owner": ended.route.owner},
        )
        return
    settle(ended)
