"""Callbacks' entry points: IVR hooks, the HTTP API and the dispatcher schedule.

Hooks answer flat string maps through `connect_hook`; the HTTP API answers JSON with errors
that name the field; the schedule dispatches and reconciles every minute. Contact events for
the calls we placed come through the outbound core (`chalicelib/outbound/handlers.py`) to
`capability.settle`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalice.app import Blueprint, IAMAuthorizer, Rate, Response

from chalicelib.callbacks.model import Outcome, Standing, Status
from chalicelib.callbacks.service import CallbackError, CallbackService
from chalicelib.capability import Provided
from chalicelib.platform import http
from chalicelib.platform.clock import Deadline
from chalicelib.platform.contact import ContactContext, flag
from chalicelib.platform.digits import parse_digits
from chalicelib.platform.hooks import connect_hook
from chalicelib.platform.observability import count, logger
from chalicelib.platform.settings import settings

bp = Blueprint(__name__)
served = Provided(CallbackService)  # given by the composition root (chalicelib/composition.py)
MAX_BODY_BYTES = 16 * 1024
NO_CALLBACK = {"callback_status": "", "callback_id": "", "callback_position": ""}


def _refused(error: CallbackError) -> dict[str, str]:
    return {"result": "invalid", "reason": error.code, "field": error.field, "message": str(error)}


def _slot(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise CallbackError("invalid_slot", "slot", "the slot is not an ISO 8601 time") from None


# -- IVR hooks --------------------------------------------------------------------------------


@bp.lambda_function(name="request_callback")
@connect_hook("request_callback", NO_CALLBACK)
def request_callback(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    """The caller asked to be called back: the number they confirmed, or the one they call from."""
    try:
        priority = contact.param("priority", "5")
        standing = served().request(
            contact.parameters.get("number") or contact.customer_address,
            contact.param("queue"),
            contact_id=contact.initial_contact_id,
            source="ivr",
            journey=contact.param("journey"),
            slot=_slot(contact.parameters.get("slot", "")),
            priority=parse_digits(priority) or 0,
        )
    except CallbackError as error:
        return _refused(error)
    return standing.attributes()


@bp.lambda_function(name="callback_status")
@connect_hook("callback_status", NO_CALLBACK)
def callback_status(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    """A caller rings again: do they already have a callback waiting, and where in line?"""
    standing = served().status_for_number(contact.customer_address)
    if standing is None:
        return {"result": "ok", "callback_found": "false", **NO_CALLBACK}
    return {**standing.attributes(), "callback_found": "true"}


@bp.lambda_function(name="cancel_callback")
@connect_hook("cancel_callback", NO_CALLBACK)
def cancel_callback(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    service = served()
    callback_id = contact.param("callback_id")
    if not callback_id:
        waiting = service.status_for_number(contact.customer_address)
        callback_id = waiting.callback.callback_id if waiting else ""
    standing = service.cancel(callback_id) if callback_id else None
    if standing is None:
        return {"result": "ok", "callback_found": "false", **NO_CALLBACK}
    # "true": no further attempt, but the call already handed to Connect may still ring.
    in_progress = flag(standing.call_in_progress)
    return {**standing.attributes(), "callback_found": "true", "call_in_progress": in_progress}


@bp.lambda_function(name="callback_answered")
@connect_hook("callback_answered", NO_CALLBACK)
def callback_answered(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    """In the callback flow: 1 = connect me (the callback is done), 2 = I no longer need it."""
    choice = contact.param("choice")
    outcome = {"1": Outcome.CONNECTED, "2": Outcome.DECLINED}.get(choice)
    if outcome is None:
        return {"result": "invalid", "reason": "invalid_choice", "field": "choice"}
    callback = served().record_outcome(
        contact.contact_id,
        outcome,
        callback_id=contact.attributes.get("callback_id", ""),
        attempt=parse_digits(contact.attributes.get("callback_attempt")) or 0,
    )
    if callback is None:
        return {"result": "ok", "callback_found": "false", **NO_CALLBACK}
    queue_id = settings().queue_ids.get(callback.queue, "")
    queue_arn = (
        f"{contact.instance_arn}/queue/{queue_id}"
        if queue_id and contact.instance_arn.startswith("arn:")
        else ""
    )
    return {
        "result": "ok",
        "callback_found": "true",
        "callback_id": callback.callback_id,
        "callback_status": callback.status.value,
        "queue": callback.queue,
        "queue_arn": queue_arn,
    }


# -- HTTP API ---------------------------------------------------------------------------------


_STATUS_BY_CODE = {"rate_limited": 429, "body_too_large": 413, "busy": 503}


def _refusal(error: CallbackError) -> Response:
    """4xx naming the field; 429 and 503 say when to try again."""
    status = _STATUS_BY_CODE.get(error.code, 400)
    retry: dict[str, str | list[str]] | None = (
        {"Retry-After": "60" if status == 429 else "1"} if status in (429, 503) else None
    )
    return http.error(status, error.code, error.field, str(error), retry)


def _standing_body(standing: Standing) -> dict[str, Any]:
    callback = standing.callback
    return {
        "id": callback.callback_id,
        "status": callback.status.value,
        "queue": callback.queue,
        "position": standing.position or None,
        "eta_minutes": standing.eta_minutes,
        "existing": standing.existing,
        "due_at": callback.due_at.isoformat(),
    }


def _json_object(raw: str | bytes | None) -> dict[str, Any]:
    try:
        return http.json_object(raw, MAX_BODY_BYTES)
    except http.BodyError as problem:
        raise CallbackError(problem.code, "body", str(problem)) from None


@bp.route(
    "/callbacks", methods=["POST"], authorizer=IAMAuthorizer(), content_types=["application/json"]
)
def create_callback() -> Response:
    from chalicelib.callbacks.schema import read_callback_request  # pydantic: off the hook path

    try:
        request = read_callback_request(_json_object(bp.current_request.raw_body))
        if isinstance(request, list):
            return http.invalid(request)
        standing = served().request(
            request.number,
            request.queue,
            source="web",
            journey=request.journey,
            slot=_slot(request.slot),
            priority=request.priority,
        )
    except CallbackError as error:
        return _refusal(error)
    return Response(body=_standing_body(standing), status_code=200 if standing.existing else 201)


@bp.route("/callbacks/{callback_id}", methods=["GET"], authorizer=IAMAuthorizer())
def get_callback(callback_id: str) -> Response:
    standing = served().status(callback_id)
    if standing is None:
        return http.error(404, "not_found", "callback_id", "no such callback")
    return Response(body=_standing_body(standing), status_code=200)


@bp.route("/callbacks/{callback_id}", methods=["DELETE"], authorizer=IAMAuthorizer())
def delete_callback(callback_id: str) -> Response:
    try:
        standing = served().cancel(callback_id, "cancelled through the API")
    except CallbackError as error:
        return _refusal(error)
    if standing is None:
        return http.error(404, "not_found", "callback_id", "no such callback")
    if standing.call_in_progress:
        # 200 promises that no call follows; this one was already sent to Connect.
        body = {
            **_standing_body(standing),
            "call_in_progress": True,
            "message": "no further call will be made, but the call already placed may ring",
        }
        return Response(body=body, status_code=202)
    return Response(body=_standing_body(standing), status_code=200)


# -- the dispatcher --------------------------------------------------------------------------


# Of the time left to a run, the share its dials may take at the paced rate; the rest is
# for the reads and writes around each dial and for reconciliation.
DIALLING_SHARE = 0.75


def _dial_budget(event: Any) -> int | None:
    """How many calls fit in what is left of this invocation at the account's paced rate
    (None when the invocation does not say how long it has)."""
    from chalicelib.outbound.store import RATE_PER_SECOND

    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return max(0, int(remaining() / 1000 * DIALLING_SHARE * RATE_PER_SECOND))


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="dispatch_callbacks")
def dispatch_callbacks(event: Any) -> dict[str, int]:
    service = served()
    report = service.dispatch(_dial_budget(event))
    settled = service.reconcile()
    count("CallbacksDialled", len(report.dialled))
    # Looked at and still not known to have rung or not: the alarm wants it for 15 minutes.
    count("CallbacksStillUnknown", sum(c.status is Status.UNKNOWN for c in settled))
    summary = {
        "dialled": len(report.dialled),
        "uncertain": len(report.uncertain),
        "deferred": len(report.deferred),
        "expired": len(report.expired),
        "failed": len(report.failed),
        "stopped": len(report.stopped),
        "lost_races": report.lost_races,
        "reconciled": len(settled),
        "left_for_next_run": report.left_for_next_run,
    }
    logger.info("callback dispatch", extra=summary)
    return summary


# Every key each hook can answer, for the flow validator's $.External checks.
_STANDING_KEYS = frozenset(
    {
        "result",
        "reason",
        "hook",
        "field",
        "message",
        "callback_found",
        "callback_id",
        "callback_status",
        "callback_queue",
        "callback_position",
        "callback_eta_minutes",
        "callback_existing",
    }
)
OUTPUTS: dict[str, frozenset[str]] = {
    "request_callback": _STANDING_KEYS,
    "callback_status": _STANDING_KEYS,
    "cancel_callback": _STANDING_KEYS | {"call_in_progress"},
    "callback_answered": _STANDING_KEYS | {"queue", "queue_arn"},
}
