"""Callback queuing, as the registry lists it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.capability import Capability, Function

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.callbacks.service import CallbackService
    from chalicelib.outbound.model import ContactEnded
    from chalicelib.platform.clock import Clock

OWNER = "callbacks"  # the owner the outbound core routes our contacts' events to


def build_service(
    clock: Clock | None = None, connect: ConnectClient | None = None
) -> CallbackService:
    import uuid

    from chalicelib.bootstrap import load_routing_rules
    from chalicelib.callbacks.adapters import ConnectDialer
    from chalicelib.callbacks.model import Policy
    from chalicelib.callbacks.service import CallbackService, QueueSettings
    from chalicelib.callbacks.store import DynamoLedger
    from chalicelib.outbound.connect import ConnectAgents, ConnectOutbound, ContactSearch
    from chalicelib.outbound.store import DynamoPacer, DynamoRoutes
    from chalicelib.platform.clock import SystemClock
    from chalicelib.platform.connect import stage_connect
    from chalicelib.platform.parameters import ParameterFlowIds
    from chalicelib.platform.settings import settings

    config = settings()
    client, gateway = stage_connect(connect)
    rules = load_routing_rules()
    queues = {
        name: QueueSettings(rules.hours[queue.hours], queue.average_handle_seconds)
        for name, queue in rules.queues.items()
    }
    policy = Policy()
    outbound = ConnectOutbound(client, config.connect_instance_id, DynamoPacer(), DynamoRoutes())
    flow_ids = ParameterFlowIds(config.flow_ids_parameter)
    return CallbackService(
        ledger=DynamoLedger(policy),
        dialer=ConnectDialer(outbound, flow_ids, config.queue_ids, OWNER),
        agents=ConnectAgents(gateway, config.queue_ids, config.hook_budget_seconds),
        contacts=outbound,
        clock=clock or SystemClock(),
        queues=queues,
        new_id=lambda: str(uuid.uuid4()),
        search=ContactSearch(client, config.connect_instance_id, DynamoRoutes()),
        policy=policy,
        countries=config.callback_countries,
        default_country=config.default_country,
    )


def settle(service: CallbackService, ended: ContactEnded) -> None:
    """The route names the callback and attempt: an outcome that comes before the dispatcher
    wrote the contact id (or after it died) still finds its callback."""
    service.record_outcome(
        ended.contact_id, ended.outcome, callback_id=ended.route.ref, attempt=ended.route.attempt
    )


CAPABILITY = Capability(
    name=OWNER,
    handlers="chalicelib.callbacks.handlers",
    fakes="devkit.fakes.callbacks",
    settings=("CALLBACK_COUNTRIES",),
    functions=(
        Function("request_callback"),
        Function("callback_status"),
        Function("cancel_callback"),
        Function("callback_answered"),
        Function("dispatch_callbacks", 55),
    ),
    tables=("callbacks",),
    build=build_service,
    highlights={
        "request_callback": (
            "callback_status",
            "callback_position",
            "callback_eta_minutes",
            "callback_existing",
            "reason",
        ),
        "callback_status": ("callback_found", "callback_position"),
        "cancel_callback": ("callback_status",),
        "callback_answered": ("callback_status", "queue"),
    },
    settle=settle,
)
