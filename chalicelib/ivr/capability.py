"""The IVR decision hooks, as the registry lists them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.capability import Capability, Function

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.ivr.service import IvrService
    from chalicelib.platform.clock import Clock


def build_service(clock: Clock | None = None, connect: ConnectClient | None = None) -> IvrService:
    from chalicelib.bootstrap import load_routing_rules
    from chalicelib.ivr.adapters import ConnectQueueLoads
    from chalicelib.ivr.service import IvrService
    from chalicelib.ivr.store import (
        DynamoAccounts,
        DynamoCustomerDirectory,
        DynamoJourneyLog,
        DynamoPinGuards,
    )
    from chalicelib.platform.clock import SystemClock
    from chalicelib.platform.connect import stage_connect
    from chalicelib.platform.parameters import ParameterCallerKeys
    from chalicelib.platform.settings import settings

    config = settings()
    _, gateway = stage_connect(connect)
    return IvrService(
        rules=load_routing_rules(),
        customers=DynamoCustomerDirectory(),
        journeys=DynamoJourneyLog(),
        pins=DynamoPinGuards(),
        accounts=DynamoAccounts(),
        loads=ConnectQueueLoads(gateway, config.queue_ids),
        clock=clock or SystemClock(),
        queue_ids=config.queue_ids,
        caller_keys=ParameterCallerKeys(config.caller_key_parameter),
        default_country=config.default_country,
    )


CAPABILITY = Capability(
    name="ivr",
    handlers="chalicelib.ivr.handlers",
    cli="devkit.cli.ivr",
    fakes="devkit.fakes.ivr",
    settings=("CALLER_KEY_PARAMETER",),
    functions=(
        Function("identify_caller"),
        Function("route_call"),
        Function("verify_pin"),
        Function("account_lookup"),
        Function("record_journey"),
    ),
    tables=("customers", "account-events", "accounts", "pin-guards", "journeys"),
    build=build_service,
    highlights={
        "identify_caller": (
            "caller_type",
            "display_name",
            "tier",
            "elderly",
            "repeat_caller",
            "predicted_reason",
        ),
        "route_call": (
            "decision",
            "queue",
            "priority",
            "rule",
            "estimated_wait_minutes",
            "offer_callback",
            "overflow_from",
            "load_status",
        ),
        "verify_pin": ("pin_result", "attempts_left"),
        "account_lookup": ("result", "balance", "next_bill_date"),
        "record_journey": ("journey_summary",),
    },
)
