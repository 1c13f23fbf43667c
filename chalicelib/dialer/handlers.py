"""The dialer's entry points: the run schedule, the campaign flows' hooks, the HTTP API and
the contact-list upload.

The schedule dials every running campaign and settles what is past its lease, once a minute.
Hooks answer flat string maps through `connect_hook` and never import the schema library.
Contact events for our calls come through the outbound core to `capability.settle`. Logs
carry counts and campaign names, never a number.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, IAMAuthorizer, Rate, Response

from chalicelib.capability import Provided
from chalicelib.dialer.model import Disposition, Heard, nps_group, record_ref
from chalicelib.dialer.service import DialerError, DialerService, RunReport
from chalicelib.platform import http
from chalicelib.platform.clock import Deadline
from chalicelib.platform.contact import ContactContext, flag
from chalicelib.platform.digits import parse_digits
from chalicelib.platform.hooks import connect_hook
from chalicelib.platform.observability import count, gauge, logger
from chalicelib.platform.phone import NumberKind, normalise
from chalicelib.platform.settings import settings

bp = Blueprint(__name__)
served = Provided(DialerService)  # given by the composition root (chalicelib/composition.py)
MAX_BODY_BYTES = 64 * 1024  # a campaign document with its caller-ID pool


# -- the run ------------------------------------------------------------------------------------


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="dial_campaigns")
def dial_campaigns(event: Any) -> dict[str, int]:
    service = served()
    reports = service.run()
    settled = service.reconcile()
    summary = {
        "campaigns": len(reports),
        "dialled": sum(len(r.dialled) for r in reports),
        "uncertain": sum(len(r.uncertain) for r in reports),
        "deferred": sum(len(r.deferred) for r in reports),
        "stopped": sum(len(r.stopped) for r in reports),
        "failed": sum(len(r.failed) for r in reports),
        "lost_races": sum(r.lost_races for r in reports),
        "reconciled": len(settled),
    }
    count("CampaignCallsDialled", summary["dialled"])
    _watch_abandonment(reports)
    for report in reports:
        if report.note or report.refusals:
            logger.info(
                "campaign run",
                extra={
                    "campaign": report.campaign,
                    "note": report.note,
                    "refusals": dict(report.refusals),
                },
            )
    logger.info("dialer run", extra=summary)
    return summary


def _watch_abandonment(reports: list[RunReport]) -> None:
    """The highest rolling 30-day abandonment of the campaigns that ran, for the alarm near
    the law's 3 % (docs/ops.md); each campaign over the pacer's aim is named in the log."""
    from chalicelib.dialer.pacing import TARGET

    rates = {r.campaign: r.abandonment for r in reports if r.abandonment is not None}
    if not rates:
        return
    gauge("CampaignAbandonmentPercent", round(100 * max(rates.values()), 2))
    for campaign, rate in rates.items():
        if rate > TARGET:
            extra = {"campaign": campaign, "rate_rolling_30_days": round(rate, 4)}
            logger.warning("campaign abandonment over the pacer's aim", extra=extra)


# -- the campaign flows' hooks --------------------------------------------------------------------

NO_RECORD = {"campaign_found": "false"}


def _ref(contact: ContactContext) -> tuple[str, int] | None:
    """The record and attempt of an outbound campaign contact, from its own attributes
    (set when it was dialled) and the number it called."""
    campaign = contact.attributes.get("campaign", "")
    attempt = parse_digits(contact.attributes.get("campaign_attempt")) or 0
    number = normalise(contact.customer_address, settings().default_country)
    if not campaign or not attempt or number.kind is not NumberKind.VALID:
        return None
    return record_ref(campaign, number.e164), attempt


@bp.lambda_function(name="campaign_abandoned")
@connect_hook("campaign_abandoned", NO_RECORD)
def campaign_abandoned(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    """A person answered and no agent was free within 2 s: the flow plays the safe-harbour
    message (the seller's name and number) and tells us, so the call counts as abandoned."""
    found = _ref(contact)
    if found is None:
        return {"result": "ok", **NO_RECORD}
    record = served().flow_heard(found[0], found[1], contact.contact_id, Heard.ABANDONED)
    return {"result": "ok", "campaign_found": flag(record is not None)}


@bp.lambda_function(name="survey_answer")
@connect_hook("survey_answer", {"survey_recorded": "false"})
def survey_answer(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    """The survey's answer: a score 0-10, or `none` after the second silence."""
    raw = contact.param("score").lower()
    unanswered = raw in ("", "none", "timeout")
    score = None if unanswered else parse_digits(raw)
    if not unanswered and (score is None or score > 10):  # digits only: never below 0
        return {"result": "invalid", "reason": "invalid_score", "field": "score"}
    found = _ref(contact)
    if found is None:
        return {"result": "ok", "survey_recorded": "false"}
    service = served()
    recorded = service.record_survey(found[0], found[1], contact.contact_id, score)
    return {
        "result": "ok",
        "survey_recorded": flag(recorded),
        "nps_group": nps_group(score).value,
    }


@bp.lambda_function(name="campaign_do_not_call")
@connect_hook("campaign_do_not_call", {"do_not_call": "false"})
def campaign_do_not_call(contact: ContactContext, deadline: Deadline) -> dict[str, str]:
    """ "Don't call me again", pressed in any campaign's flow: no marketing call from any
    campaign from this moment on."""
    try:
        served().do_not_call(str(contact.customer_address or ""))
    except DialerError as error:
        return {"result": "invalid", "reason": error.code, "field": error.field}
    return {"result": "ok", "do_not_call": "true"}


_HOOK_KEYS = frozenset({"result", "reason", "hook", "field", "message"})
OUTPUTS: dict[str, frozenset[str]] = {
    "campaign_abandoned": _HOOK_KEYS | {"campaign_found"},
    "survey_answer": _HOOK_KEYS | {"survey_recorded", "nps_group"},
    "campaign_do_not_call": _HOOK_KEYS | {"do_not_call"},
}


# -- HTTP API ------------------------------------------------------------------------------------

_STATUS_BY_CODE = {"not_found": 404, "busy": 503, "not_deployed": 503, "body_too_large": 413}


def _refusal(error: DialerError) -> Response:
    return http.error(_STATUS_BY_CODE.get(error.code, 400), error.code, error.field, str(error))


def _body() -> dict[str, Any]:
    try:
        return http.json_object(bp.current_request.raw_body, MAX_BODY_BYTES)
    except http.BodyError as problem:
        raise DialerError(problem.code, "body", str(problem)) from None


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise DialerError(f"invalid_{field}", field, f"{field} must be a non-empty string")
    return value.strip()


@bp.route(
    "/campaigns/{name}",
    methods=["PUT"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def put_campaign(name: str) -> Response:
    from chalicelib.dialer.schema import CampaignError, read_campaign  # pydantic: off hooks

    try:
        body = _body()
    except DialerError as error:
        return _refusal(error)
    if body.get("name", name) != name:
        return http.error(400, "name_mismatch", "name", "the body's name is not the path's")
    try:
        document = read_campaign({**body, "name": name})
    except CampaignError as error:
        problems = [
            {"error": "invalid_campaign", "field": "", "message": p} for p in error.problems
        ]
        return http.invalid(problems)
    service = served()
    existed = service.campaigns.get(name) is not None
    service.campaigns.put(document.model_dump_json(), service.clock.now())
    report = service.report(name)
    assert report is not None  # just written
    return Response(body=report.as_dict(), status_code=200 if existed else 201)


@bp.route("/campaigns/{name}", methods=["GET"], authorizer=IAMAuthorizer())
def get_campaign(name: str) -> Response:
    report = served().report(name)
    if report is None:
        return http.error(404, "not_found", "name", "no such campaign")
    return Response(body=report.as_dict(), status_code=200)


@bp.route("/campaigns/{name}/pause", methods=["POST"], authorizer=IAMAuthorizer())
def pause_campaign(name: str) -> Response:
    return _paused(name, True)


@bp.route("/campaigns/{name}/resume", methods=["POST"], authorizer=IAMAuthorizer())
def resume_campaign(name: str) -> Response:
    return _paused(name, False)


def _paused(name: str, paused: bool) -> Response:
    campaign = served().pause(name, paused)
    if campaign is None:
        return http.error(404, "not_found", "name", "no such campaign")
    return Response(body={"campaign": name, "paused": campaign.paused}, status_code=200)


@bp.route(
    "/do-not-call", methods=["POST"], authorizer=IAMAuthorizer(), content_types=["application/json"]
)
def post_do_not_call() -> Response:
    """A "don't call me" taken by any channel (an agent, the website, a letter)."""
    service = served()
    try:
        number = service.do_not_call(_text(_body(), "number"))
    except DialerError as error:
        return _refusal(error)
    body: dict[str, Any] = {"do_not_call": True, "number_ends": number[-4:]}
    going = service.calls_in_progress(number)  # read after the word is written
    if going:
        # 200 promises that no call follows; these were sent to Connect before it came.
        body |= {"calls_in_progress": going, "message": "no further call will be made, "
                 "but the calls already placed may ring"}  # fmt: skip
        return Response(body=body, status_code=202)
    return Response(body=body, status_code=200)


@bp.route(
    "/campaigns/{name}/preview",
    methods=["POST"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def preview_next(name: str) -> Response:
    """Preview mode: the next record for this agent, theirs alone until the offer lapses."""
    try:
        agent = _text(_body(), "agent")
        record = served().next_for_agent(name, agent)
    except DialerError as error:
        return _refusal(error)
    if record is None:
        return Response(body={"record": None}, status_code=200)
    body = {
        "number": record.number,
        "attempt": record.attempt.ordinal,
        "offer_ends": record.offered_until.isoformat() if record.offered_until else None,
    }
    return Response(body={"record": body}, status_code=200)


@bp.route(
    "/campaigns/{name}/preview/{number}/{choice}",
    methods=["POST"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def preview_answer(name: str, number: str, choice: str) -> Response:
    if choice not in ("accept", "skip"):
        return http.error(404, "not_found", "choice", "accept or skip")
    try:
        agent = _text(_body(), "agent")
        record = served().answer_offer(name, number, agent, accept=choice == "accept")
    except DialerError as error:
        return _refusal(error)
    return Response(body={"status": record.status.value}, status_code=200)


@bp.route(
    "/campaigns/{name}/wrap-up",
    methods=["POST"],
    authorizer=IAMAuthorizer(),
    content_types=["application/json"],
)
def wrap_up(name: str) -> Response:
    """The agent's disposition of a connected call: wrong_party or declined."""
    try:
        body = _body()
        number, said = _text(body, "number"), _text(body, "disposition")
        if said not in {d.value for d in Disposition}:
            raise DialerError("invalid_disposition", "disposition", "not a disposition")
        record = served().wrap_up(record_ref(name, number), Disposition(said))
    except DialerError as error:
        return _refusal(error)
    disposition = record.disposition.value if record.disposition else None
    return Response(body={"disposition": disposition}, status_code=200)


# -- contact lists uploaded to S3 -----------------------------------------------------------------


# S3 sends "Object Created" to EventBridge (the lists bucket has EventBridge notifications on,
# infra/template.yaml): the rule matches every stage's lists bucket in the account, and the
# handler takes only its own stage's (its policy could read no other).
@bp.on_cw_event(
    {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"prefix": "switchboard-"}]},
            "object": {"key": [{"prefix": "lists/"}]},
        },
    },
    name="contact_list_uploaded",
)
def contact_list_uploaded(event: CloudWatchEvent) -> dict[str, Any]:
    """`lists/<campaign>/<file>.csv|.jsonl` uploaded: ingest it, streamed; the report is
    written beside it as `reports/<campaign>/<file>.json` (each bad row with its number and
    reason), so nothing is lost and nobody has to read logs for it."""
    from chalicelib.dialer.upload import ingest_upload

    detail = event.detail if isinstance(event.detail, dict) else {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        logger.error("list upload event without bucket or key", extra={"id": event.event_id})
        return {"ingested": False, "error": "the event names no bucket and key"}
    ours = f"switchboard-{settings().stage}-lists-"
    if not bucket.startswith(ours):  # another stage's lists, seen by this account's rule
        logger.info("another stage's list upload ignored", extra={"bucket": bucket})
        return {"ingested": False, "error": f"not this stage's lists bucket ({ours}...)"}
    # EventBridge gives the key as it is (S3's own notifications URL-encode it).
    report = ingest_upload(bucket, key, served())
    logger.info(
        "contact list ingested",
        extra={k: report.get(k) for k in ("list", "campaign", "ingested", "added", "rejected")},
    )
    return report
