"""The IVR hooks Amazon Connect invokes from a flow's "Invoke AWS Lambda function" block.

Each is a pure Lambda (`@bp.lambda_function`): `connect_hook` parses the ContactFlowEvent,
keeps the budget and answers the safe default below on any failure.
"""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.capability import Provided
from chalicelib.ivr.model import Account, CallerProfile, CallerType
from chalicelib.ivr.routing import Decision, RouteDecision
from chalicelib.ivr.service import IvrService
from chalicelib.platform.clock import Deadline
from chalicelib.platform.contact import ContactContext
from chalicelib.platform.hooks import connect_hook

bp = Blueprint(__name__)
served = Provided(IvrService)  # given by the composition root (chalicelib/composition.py)

# Every fallback sends the caller to a human in the general queue.
HUMAN = {"decision": "queue", "queue": "general", "priority": "5"}
FALLBACKS: dict[str, dict[str, str]] = {
    "identify_caller": {"caller_type": "unknown", "customer_found": "false", **HUMAN},
    "route_call": {**HUMAN, "offer_callback": "false", "load_status": "not_used"},
    "verify_pin": {"pin_result": "error", "attempts_left": "0", **HUMAN},
    "account_lookup": dict(HUMAN),
    "record_journey": {**HUMAN, "journey_steps": "", "journey_summary": ""},
}


@bp.lambda_function(name="identify_caller")
@connect_hook("identify_caller", FALLBACKS["identify_caller"])
def identify_caller(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    return served().identify_caller(contact, deadline)


@bp.lambda_function(name="route_call")
@connect_hook("route_call", FALLBACKS["route_call"])
def route_call(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    return served().route_call(contact, deadline)


@bp.lambda_function(name="verify_pin")
@connect_hook("verify_pin", FALLBACKS["verify_pin"])
def verify_pin(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    return served().verify_pin(contact, deadline)


@bp.lambda_function(name="account_lookup")
@connect_hook("account_lookup", FALLBACKS["account_lookup"])
def account_lookup(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    return served().account_lookup(contact, deadline)


@bp.lambda_function(name="record_journey")
@connect_hook("record_journey", FALLBACKS["record_journey"])
def record_journey(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    return served().record_journey(contact, deadline)


# Every key each hook can answer, for the flow validator's $.External checks.
_ALWAYS = frozenset({"result", "reason", "hook"})
OUTPUTS: dict[str, frozenset[str]] = {
    name: _ALWAYS | frozenset(FALLBACKS[name]) | keys
    for name, keys in {
        "identify_caller": frozenset(CallerProfile(CallerType.WITHHELD).attributes()),
        "route_call": frozenset(RouteDecision(Decision.CLOSED).attributes()) | {"queue_arn"},
        "verify_pin": frozenset({"pin_result", "attempts_left", "next_attempt"}),
        "account_lookup": frozenset(Account("", 0, "", None, "").attributes()),
        "record_journey": frozenset({"journey_steps", "journey_summary"}),
    }.items()
}
