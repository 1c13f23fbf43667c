"""The composition root: builds each capability's service once per cold start.

Handlers ask here for a service and never build adapters themselves; tests and the demo
replace a service with `override`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.callbacks.model import Policy
from chalicelib.callbacks.service import CallbackService, QueueSettings
from chalicelib.ivr.model import RoutingRules, parse_routing_rules
from chalicelib.ivr.service import IvrService
from chalicelib.platform.clock import Clock, SystemClock
from chalicelib.platform.settings import settings

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

ROUTING_RULES_PATH = Path(__file__).parent / "ivr" / "routing_rules.json"
_overrides: dict[str, Any] = {}


@lru_cache(maxsize=4)
def load_routing_rules(path: Path = ROUTING_RULES_PATH) -> RoutingRules:
    """Read and validate once per cold start; both capabilities share the result."""
    return parse_routing_rules(json.loads(path.read_text(encoding="utf-8")))


def build_ivr_service(
    clock: Clock | None = None, connect: ConnectClient | None = None
) -> IvrService:
    from chalicelib.ivr.store import (
        ConnectQueueLoads,
        DynamoAccounts,
        DynamoCustomerDirectory,
        DynamoJourneyLog,
        DynamoPinGuards,
    )
    from chalicelib.platform.caller_keys import ParameterCallerKeys
    from chalicelib.platform.connect import ConnectGateway, connect_client

    config = settings()
    client = connect or connect_client(config.region, config.hook_budget_seconds)
    gateway = ConnectGateway(client, config.connect_instance_id)
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


@lru_cache(maxsize=1)
def _default_ivr_service() -> IvrService:
    return build_ivr_service()


def build_callback_service(
    clock: Clock | None = None, connect: ConnectClient | None = None
) -> CallbackService:
    import uuid

    from chalicelib.callbacks.store import (
        ConnectAgents,
        ConnectContacts,
        ConnectDialer,
        DynamoLedger,
    )
    from chalicelib.platform.connect import ConnectGateway, connect_client

    config = settings()
    client = connect or connect_client(config.region, config.hook_budget_seconds)
    rules = load_routing_rules()
    queues = {
        name: QueueSettings(rules.hours[queue.hours], queue.average_handle_seconds)
        for name, queue in rules.queues.items()
    }
    policy = Policy()
    return CallbackService(
        ledger=DynamoLedger(policy),
        dialer=ConnectDialer(
            client, config.connect_instance_id, config.callback_flow_id, config.queue_ids
        ),
        agents=ConnectAgents(
            ConnectGateway(client, config.connect_instance_id),
            config.queue_ids,
            config.hook_budget_seconds,
        ),
        contacts=ConnectContacts(client, config.connect_instance_id),
        clock=clock or SystemClock(),
        queues=queues,
        new_id=lambda: str(uuid.uuid4()),
        policy=policy,
        countries=config.callback_countries,
        default_country=config.default_country,
    )


@lru_cache(maxsize=1)
def _default_callback_service() -> CallbackService:
    return build_callback_service()


def callback_service() -> CallbackService:
    service = _overrides.get("callbacks")
    return service if isinstance(service, CallbackService) else _default_callback_service()


def ivr_service() -> IvrService:
    service = _overrides.get("ivr")
    return service if isinstance(service, IvrService) else _default_ivr_service()


def override(name: str, service: Any) -> None:
    """Replace a capability's service (tests, the demo); `reset()` undoes every override."""
    _overrides[name] = service


def reset() -> None:
    _overrides.clear()
    _default_ivr_service.cache_clear()
    _default_callback_service.cache_clear()
