"""QA's entry points: the events queue, the contact-record stream, the schedules (reconcile,
early warning) and the HTTP API for reviewers and supervisors.

Everything QA hears about a contact comes through one SQS queue (`infra/template.yaml` routes
three EventBridge rules to it), one message per invocation so each message's fate is its own:
an error the next try may not meet (DynamoDB, S3) raises and SQS redelivers, five times at
most, then the dead-letter queue; a message no try can read is parked in the dead-letter queue
at once, with the reason. Contact records come from Kinesis in batches: a record that cannot
be read is parked the same way, so the shard moves on. Logs carry contact ids, never numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any

from chalice.app import (
    Blueprint,
    Cron,
    IAMAuthorizer,
    KinesisEvent,
    Rate,
    Response,
    SQSEvent,
)

from chalicelib.capability import Provided
from chalicelib.platform import aws, http
from chalicelib.platform.observability import correlate, count, logger
from chalicelib.platform.settings import settings
from chalicelib.qa import review
from chalicelib.qa.records import QaRecord, Seen, is_week
from chalicelib.qa.review import Override, ReviewError
from chalicelib.qa.service import QaService

bp = Blueprint(__name__)
served = Provided(QaService)  # given by the composition root (chalicelib/composition.py)
MAX_BODY_BYTES = 16 * 1024
MAX_EVENT_BYTES = 256 * 1024  # SQS's own limit: anything bigger was not sent by EventBridge


class UnreadableError(ValueError):
    """A message or record no retry can read; parked with this reason."""


@cache
def _queue_names() -> dict[str, str]:
    """Our queue names by Connect queue id, from the stage's settings (fixed per start)."""
    return {queue_id: name for name, queue_id in settings().queue_ids.items()}


@cache
def _dead_letters() -> tuple[Any, str]:
    """The SQS client and the dead-letter queue's URL, looked up once per start."""

    sqs = aws.client("sqs")
    return sqs, sqs.get_queue_url(QueueName=settings().qa_dead_letter_queue)["QueueUrl"]


def park(body: str | bytes, reason: str) -> None:
    """Into the dead-letter queue, with why: nothing QA was told is dropped."""
    sqs, url = _dead_letters()
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    sqs.send_message(
        QueueUrl=url,
        MessageBody=text[:MAX_EVENT_BYTES] or "(empty)",
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
    )
    count("QaInputsParked", 1)
    logger.error("QA input parked", extra={"reason": reason})


# -- the events queue ---------------------------------------------------------------------------


@bp.on_sqs_message(queue=settings().qa_events_queue, batch_size=1, name="qa_events")
def qa_events(event: SQSEvent) -> None:
    for message in event:
        try:
            take_event(message.body)
        except UnreadableError as problem:
            park(message.body, str(problem))


def _event(body: str) -> Mapping[str, Any]:
    if not body or len(body) > MAX_EVENT_BYTES:
        raise UnreadableError("the message is empty or over 256 KiB")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise UnreadableError("the message is not JSON") from None
    detail = parsed.get("detail") if isinstance(parsed, dict) else None
    if not isinstance(detail, dict):
        raise UnreadableError("the message is not an EventBridge event with a detail object")
    event: Mapping[str, Any] = parsed
    return event


def take_event(body: str) -> QaRecord | None:
    """One EventBridge event, as the QA rules deliver it; None for events QA does not need
    (Connect's event types grow: unknown ones are ignored, as Connect asks)."""
    from chalicelib.qa.events import EventError, completed, contact_event, lens_state

    event = _event(body)
    detail, kind = event["detail"], event.get("detail-type")
    service = served()
    try:
        if kind == "Object Created":
            return _analysis_written(service, detail)
        if kind == "Contact Lens Analysis State Change":
            failed = lens_state(detail)
            return _take(service, failed) if failed is not None else None
        if kind == "Amazon Connect Contact Event" and completed(detail):
            return _take(service, contact_event(detail, event.get("time"), _queue_names()))
    except EventError as problem:
        raise UnreadableError(f"{kind}: {problem}") from None
    return None


def _take(service: QaService, seen: Seen) -> QaRecord:
    correlate(seen.contact_id)
    return service.take_contact(seen)


def _named(detail: Mapping[str, Any], part: str, field: str) -> Any:
    inner = detail.get(part)
    return inner.get(field) if isinstance(inner, dict) else None


def _analysis_written(service: QaService, detail: Mapping[str, Any]) -> QaRecord | None:
    from urllib.parse import unquote_plus

    from chalicelib.qa.events import storable

    bucket, key = _named(detail, "bucket", "name"), _named(detail, "object", "key")
    if not isinstance(bucket, str) or not isinstance(key, str) or not key:
        raise UnreadableError("Object Created: the event names no bucket and key")
    # S3 sends keys URL-encoded ("2026-12-01T09%3A00%3A00Z"); Contact Lens never writes a
    # "%" or "+" of its own, so decoding cannot change a key it wrote.
    key = unquote_plus(key)
    if not storable(key):
        raise UnreadableError("Object Created: the key is not text S3 could have written")
    if bucket != settings().contact_lens_bucket:
        raise UnreadableError(f"Object Created: {bucket!r} is not CONTACT_LENS_BUCKET")
    record = service.take_file(key)
    if record is not None:
        correlate(record.contact_id)
        count("QaContactsScored", 1)
        logger.info(
            "analysis taken",
            extra={"contact_id": record.contact_id, "status": record.status.value},
        )
    return record


# -- contact records ----------------------------------------------------------------------------


@bp.on_kinesis_record(
    stream=settings().contact_records_stream,
    batch_size=100,
    starting_position="TRIM_HORIZON",
    name="qa_contact_records",
)
def qa_contact_records(event: KinesisEvent) -> None:
    for record in event:
        try:
            take_contact_record(record.data)
        except UnreadableError as problem:
            park(record.data, str(problem))


def take_contact_record(data: bytes) -> QaRecord:
    from chalicelib.qa.events import EventError, contact_record

    if not data or len(data) > MAX_EVENT_BYTES:
        raise UnreadableError("the contact record is empty or over 256 KiB")
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        raise UnreadableError("the contact record is not JSON") from None
    if not isinstance(parsed, dict):
        raise UnreadableError("the contact record is not a JSON object")
    try:
        seen = contact_record(parsed, _queue_names())
    except EventError as problem:
        raise UnreadableError(f"contact record: {problem}") from None
    return _take(served(), seen)


# -- schedules ----------------------------------------------------------------------------------


@bp.schedule(Rate(5, unit=Rate.MINUTES), name="qa_reconcile")
def qa_reconcile(event: Any) -> dict[str, int]:
    found = served().reconcile()
    count("QaContactsUnscored", len(found))
    if found:
        logger.warning(
            "contacts with no analysis scored partially",
            extra={"count": len(found), "examples": [r.contact_id for r in found[:5]]},
        )
    return {"scored_partially": len(found)}


# A minute into each 15-minute bucket, so the bucket that just ended is whole.
@bp.schedule(Cron("1,16,31,46", "*", "*", "*", "?", "*"), name="qa_warnings")
def qa_warnings(event: Any) -> dict[str, int]:
    raised = served().warn()
    count("QaEarlyWarnings", len(raised))
    for alert in raised:
        logger.warning("early warning", extra={k: alert[k] for k in ("scope", "reason", "count")})
    return {"warnings": len(raised)}


# -- HTTP API -----------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    return http.json_object(bp.current_request.raw_body, MAX_BODY_BYTES)


def _text(body: Mapping[str, Any], field: str, limit: int = 128) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise http.BodyError(f"invalid_{field}", f"{field} must be text of 1 to {limit} characters")
    return value.strip()


def _refused(problem: http.BodyError | http.NoCallerError) -> Response:
    """400 (413 when too large) naming the field; 403 when nobody signed the request."""
    if isinstance(problem, http.NoCallerError):
        return http.error(403, "no_caller", "caller", str(problem))
    status = 413 if problem.code == "body_too_large" else 400
    field = problem.code.removeprefix("invalid_") if problem.code.startswith("invalid_") else "body"
    return http.error(status, problem.code, field, str(problem))


def _conflict(problem: ReviewError) -> Response:
    return http.error(409, "review_refused", "", str(problem))


def _contact(record: QaRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "contact_id": record.contact_id,
        "status": record.status.value,
        "agent": record.agent_id,
        "queue": record.queue,
        "total": record.total,
        "flags": list(record.flags),
        "problem": record.problem,
        "analysis_key": record.analysis_key,
        "callback": record.callback_id,
        "scorecard": json.loads(record.card) if record.card else None,
        # The reviewer's, once submitted: the contact's final score (with the automatic one).
        "reviewed_scorecard": json.loads(record.reviewed_card) if record.reviewed_card else None,
    }


def _review(value: review.Review | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "contact_id": value.contact_id,
        "reasons": list(value.reasons),
        "status": value.status.value,
        "reviewer": value.reviewer,
        "copy": value.copy,
        "lease_until": value.lease_until.isoformat() if value.lease_until else None,
        "overrides": {
            q: {"value": o.value, "score": o.score, "reason": o.reason, "by": o.by}
            for q, o in value.overrides.items()
        },
    }


@bp.route("/qa/contacts/{contact_id}", methods=["GET"], authorizer=IAMAuthorizer())
def get_contact(contact_id: str) -> Response:
    service = served()
    record = service.records.get(contact_id)
    if record is None:
        return http.error(404, "not_found", "contact_id", "no QA record for that contact")
    copies = [_review(copy) for copy in service.reviews.reviews.copies(contact_id)]
    return Response(body={**(_contact(record) or {}), "reviews": copies}, status_code=200)


@bp.route(
    "/qa/reviews/claim",
    methods=["POST"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def claim_review() -> Response:
    """The oldest review nobody holds, the caller's alone until the lease ends."""
    try:
        reviewer = _reviewer(_body())
    except (http.BodyError, http.NoCallerError) as problem:
        return _refused(problem)
    service = served()
    claimed = service.reviews.claim_next(reviewer)
    if claimed is None:
        return Response(body={"review": None}, status_code=200)
    contact = _contact(service.records.get(claimed.contact_id))
    return Response(body={"review": _review(claimed), "contact": contact}, status_code=200)


def _reviewer(body: Mapping[str, Any]) -> str:
    """The reviewer is whoever signed the request (IAM); a body that names one is refused, so
    no script believes it acted for somebody else."""
    if "reviewer" in body:
        raise http.BodyError(
            "invalid_reviewer", "the reviewer is the request's IAM caller: leave 'reviewer' out"
        )
    return http.caller(bp.current_request.context)


def _override(body: Mapping[str, Any]) -> Override:
    score = body.get("score")
    if score is not None and (not isinstance(score, int) or isinstance(score, bool)):
        raise http.BodyError("invalid_score", "score must be a whole number 0 to 10, or null")
    value = body.get("value")
    if isinstance(value, bool) or (value is not None and not isinstance(value, str | int | float)):
        raise http.BodyError("invalid_value", "value must be an option, a number or null")
    if isinstance(value, str) and len(value) > 1000:
        raise http.BodyError("invalid_value", "value must be at most 1000 characters")
    return Override(_text(body, "question", 40), value, score, _text(body, "reason", 1000))


@bp.route(
    "/qa/reviews/{contact_id}/override",
    methods=["POST"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def override_answer(contact_id: str) -> Response:
    """A reviewer's answer to one question, with the reason it differs."""
    try:
        body = _body()
        reviewer, change = _reviewer(body), _override(body)
        changed = served().override(contact_id, reviewer, change)
    except (http.BodyError, http.NoCallerError) as problem:
        return _refused(problem)
    except ReviewError as problem:
        return _conflict(problem)
    return Response(body={"review": _review(changed)}, status_code=200)


@bp.route(
    "/qa/reviews/{contact_id}/submit",
    methods=["POST"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def submit_review(contact_id: str) -> Response:
    try:
        reviewer = _reviewer(_body())
        done = served().submit(contact_id, reviewer)
    except (http.BodyError, http.NoCallerError) as problem:
        return _refused(problem)
    except ReviewError as problem:
        return _conflict(problem)
    return Response(body={"review": _review(done)}, status_code=200)


def _week() -> str | Response:
    params: Mapping[str, str] = bp.current_request.query_params or {}
    week = params.get("week", "")
    if not is_week(week):
        return http.error(400, "invalid_week", "week", "week must look like 2026-W49")
    return week


@bp.route("/qa/reports/agents/{agent_id}", methods=["GET"], authorizer=IAMAuthorizer())
def agent_report(agent_id: str) -> Response:
    week = _week()
    if isinstance(week, Response):
        return week
    return Response(body=served().agent_report(agent_id, week), status_code=200)


@bp.route("/qa/reports/queues/{queue}", methods=["GET"], authorizer=IAMAuthorizer())
def queue_report(queue: str) -> Response:
    week = _week()
    if isinstance(week, Response):
        return week
    return Response(body=served().team_report(queue, week), status_code=200)


@bp.route("/qa/calibration", methods=["GET"], authorizer=IAMAuthorizer())
def calibration() -> Response:
    """Reviewers' agreement on the calibration contacts they submitted in the week."""
    week = _week()
    if isinstance(week, Response):
        return week
    return Response(body=served().calibration(week), status_code=200)


@bp.route("/qa/warnings", methods=["GET"], authorizer=IAMAuthorizer())
def warnings() -> Response:
    """Early warnings raised in the last 24 hours."""
    service = served()
    now = service.clock.now()
    raised = service.reasons.raised(now - timedelta(hours=24), now)
    return Response(body={"warnings": raised}, status_code=200)
