"""The Connect hook contract, in one place for every capability.

A contact-flow hook takes the `ContactFlowEvent` Amazon Connect sends and must answer, inside
its budget, a flat map of strings under 32 KB. `connect_hook` turns a use case of shape
`(ContactContext, Deadline) -> Mapping[str, str]` into such a Lambda handler: it parses the
event defensively, enforces the budget, checks the response and, on any failure, answers the
hook's safe default with `result=error` and a reason code, and logs why.
"""

from __future__ import annotations

import contextvars
import functools
import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from aws_lambda_powertools.utilities.data_classes import ConnectContactFlowEvent

from chalicelib.platform.clock import Deadline
from chalicelib.platform.contact import ContactContext, HookError, flag
from chalicelib.platform.observability import correlate, count, logger
from chalicelib.platform.phone import normalise
from chalicelib.platform.settings import settings

MAX_RESPONSE_BYTES = 32 * 1024
MAX_VALUE_CHARS = 1024
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ID = re.compile(r"^[A-Za-z0-9_.:/-]{1,256}$")

# Enough workers that one abandoned (timed-out) call cannot starve the next invocation.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hook")


class MalformedEventError(ValueError):
    """The event is not a usable ContactFlowEvent; the message says which part."""


# A JSON string may escape half of a surrogate pair ("\ud800") alone: Python reads it as a
# code point no UTF-8 writer (DynamoDB, the log) accepts.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _well_formed(text: str) -> str:
    """The text with each lone surrogate replaced by U+FFFD, as a UTF-8 decoder would."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _string_map(raw: object, where: str, truncated: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MalformedEventError(f"{where} must be an object of strings")
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or value is None or isinstance(value, dict | list):
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text) > MAX_VALUE_CHARS:
            truncated.append(f"{where}.{key}")
            text = text[:MAX_VALUE_CHARS]
        clean[_well_formed(key)] = _well_formed(text)
    return clean


def _identifier(data: Mapping[str, Any], key: str, required: bool) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not _ID.match(value):
        raise MalformedEventError(f"Details.ContactData.{key} is missing or not an identifier")
    return value


def _enum_text(data: Mapping[str, Any], key: str) -> str:
    # Read raw: Powertools' enums raise on TASK, EMAIL, QUEUE_TRANSFER and other newer values.
    value = data.get(key)
    return _well_formed(value.upper()[:32]) if isinstance(value, str) else "UNKNOWN"


def _text(value: object) -> str:
    return _well_formed(value) if isinstance(value, str) else ""


def _address(endpoint: object) -> object:
    """The caller's number as sent (None, a number, junk: phone.normalise judges it)."""
    address = endpoint.get("Address") if isinstance(endpoint, dict) else None
    return _well_formed(address) if isinstance(address, str) else address


def parse_contact_event(event: object) -> ContactContext:
    if not isinstance(event, dict):
        raise MalformedEventError("event must be a JSON object")
    details = event.get("Details")
    if not isinstance(details, dict) or not isinstance(details.get("ContactData"), dict):
        raise MalformedEventError("event has no Details.ContactData object")
    flow_event = ConnectContactFlowEvent(event)
    data = flow_event.contact_data.raw_event
    contact_id = _identifier(data, "ContactId", required=True)
    endpoint = data.get("CustomerEndpoint")
    truncated: list[str] = []
    return ContactContext(
        contact_id=contact_id,
        initial_contact_id=_identifier(data, "InitialContactId", required=False) or contact_id,
        channel=_enum_text(data, "Channel"),
        initiation_method=_enum_text(data, "InitiationMethod"),
        customer_address=_address(endpoint),
        instance_arn=_text(data.get("InstanceARN")),
        attributes=_string_map(data.get("Attributes"), "Attributes", truncated),
        parameters=_string_map(details.get("Parameters"), "Parameters", truncated),
        truncated=tuple(truncated),
    )


def render_response(values: Mapping[str, object]) -> dict[str, str]:
    """Check and shape a STRING_MAP response: flat, string keys Connect accepts, under 32 KB."""
    response: dict[str, str] = {}
    for key, value in values.items():
        if not _KEY.match(key):
            raise ValueError(f"response key {key!r} is not letters, digits, '-' or '_'")
        if isinstance(value, bool):
            response[key] = flag(value)
        elif isinstance(value, str | int | float):
            response[key] = str(value)
        else:
            raise ValueError(f"response value for {key!r} is not a string")
    if len(json.dumps(response, ensure_ascii=False).encode()) >= MAX_RESPONSE_BYTES:
        raise ValueError("response is 32 KB or more")
    return response


UseCase = Callable[[ContactContext, Deadline], Mapping[str, object]]
Handler = Callable[[Any, Any], dict[str, str]]


def connect_hook(name: str, fallback: Mapping[str, str]) -> Callable[[UseCase], Handler]:
    """Wrap a use case as a Connect hook that always answers, inside the budget."""
    safe_default = render_response(fallback)

    def decorate(use_case: UseCase) -> Handler:
        @functools.wraps(use_case)
        def handler(event: Any, context: Any) -> dict[str, str]:
            return _serve(name, use_case, safe_default, event)

        return handler

    return decorate


def _fallback(name: str, safe_default: dict[str, str], reason: str) -> dict[str, str]:
    count("HookFallback")
    return {**safe_default, "result": "error", "reason": reason, "hook": name}


def _serve(
    name: str, use_case: UseCase, safe_default: dict[str, str], event: Any
) -> dict[str, str]:
    config = settings()  # checked when app.py was imported: a bad one never starts
    budget = config.hook_budget_seconds
    deadline = Deadline(budget)
    try:
        contact = parse_contact_event(event)
    except MalformedEventError as error:
        logger.warning("hook got a malformed event", extra={"hook": name, "why": str(error)})
        return _fallback(name, safe_default, "malformed_event")
    correlate(contact.contact_id)
    caller = normalise(contact.customer_address, config.default_country).masked
    log_keys = {"hook": name, "contact_id": contact.contact_id, "caller": caller}
    if contact.truncated:
        logger.warning("oversize values truncated", extra={**log_keys, "fields": contact.truncated})
    # The invocation's context variables go with the use case into the worker thread.
    future = _executor.submit(contextvars.copy_context().run, use_case, contact, deadline)
    try:
        response = render_response(future.result(timeout=deadline.remaining()))
    except FutureTimeout:
        logger.error("hook ran out of budget", extra={**log_keys, "budget_s": budget})
        return _fallback(name, safe_default, "timeout")
    except HookError as error:
        logger.warning("hook declined", extra={**log_keys, "reason": error.reason})
        return _fallback(name, safe_default, error.reason)
    except Exception:
        logger.exception("hook failed", extra=log_keys)
        return _fallback(name, safe_default, "internal_error")
    count("HookAnswered")
    return response
