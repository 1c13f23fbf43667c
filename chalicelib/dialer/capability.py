"""The outbound dialer, as the registry lists it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.capability import Capability, Function

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.dialer.service import DialerService
    from chalicelib.outbound.model import ContactEnded
    from chalicelib.platform.clock import Clock


def build_service(
    clock: Clock | None = None, connect: ConnectClient | None = None
) -> DialerService:
    from chalicelib.dialer.compliance import ContactLimit
    from chalicelib.dialer.service import DialerService
    from chalicelib.dialer.store import (
        DynamoCallerIds,
        DynamoCampaigns,
        DynamoDialLedger,
        DynamoRecipients,
    )
    from chalicelib.outbound.connect import ConnectAgents, ConnectOutbound, ContactSearch
    from chalicelib.outbound.store import DynamoPacer, DynamoRoutes
    from chalicelib.platform.clock import SystemClock
    from chalicelib.platform.connect import stage_connect
    from chalicelib.platform.parameters import ParameterFlowIds
    from chalicelib.platform.settings import settings

    config = settings()
    client, gateway = stage_connect(connect)
    # The same account-wide pace as every other caller of StartOutboundVoiceContact (ADR 0006).
    outbound = ConnectOutbound(client, config.connect_instance_id, DynamoPacer(), DynamoRoutes())
    return DialerService(
        ledger=DynamoDialLedger(),
        recipients=DynamoRecipients(),
        caller_ids=DynamoCallerIds(),
        calls=outbound,
        contacts=outbound,
        staffing=ConnectAgents(gateway, config.queue_ids, config.hook_budget_seconds),
        campaigns=DynamoCampaigns(),
        clock=clock or SystemClock(),
        queue_ids=config.queue_ids,
        flow_ids=ParameterFlowIds(config.flow_ids_parameter),
        search=ContactSearch(client, config.connect_instance_id, DynamoRoutes()),
        default_country=config.default_country,
        contact_limit=ContactLimit(*config.contact_limit) if config.contact_limit else None,
    )


def settle(service: DialerService, ended: ContactEnded) -> None:
    """The route names the record and attempt the contact was placed for."""
    service.record_outcome(ended.route.ref, ended.route.attempt, ended.contact_id, ended.outcome)


CAPABILITY = Capability(
    name="dialer",  # dialer.service.OWNER: the owner its calls' contact events go to
    handlers="chalicelib.dialer.handlers",
    cli="devkit.cli.dialer",
    fakes="devkit.fakes.dialer",
    settings=("CONTACT_LIMIT",),
    functions=(
        Function("dial_campaigns", 55),
        Function("campaign_abandoned"),
        Function("survey_answer"),
        Function("campaign_do_not_call"),
        Function("contact_list_uploaded", 900, 1024),
    ),
    tables=("dialer",),
    build=build_service,
    highlights={
        "campaign_abandoned": ("campaign_found",),
        "survey_answer": ("survey_recorded", "nps_group"),
        "campaign_do_not_call": ("do_not_call",),
    },
    settle=settle,
)
