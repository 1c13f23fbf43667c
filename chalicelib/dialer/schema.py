"""A campaign as people write it (`campaigns/*.json`, and the HTTP API next): keys, types and
ranges checked by the schema, every problem at once with its field; what the names refer to
(a jurisdiction profile we have, dates in order) checked in `read_campaign`. Imports pydantic:
import it lazily, off the hook path (ADR 0008).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.dialer.compliance import CallingWindow, Consent, PastCall, Purpose, Recipient
from chalicelib.dialer.jurisdictions import PROFILES
from chalicelib.dialer.model import (
    DEFAULT_RETRY,
    NEVER_RETRIED,
    CallerId,
    Campaign,
    CampaignRules,
    Disposition,
    Mode,
    RetryRule,
)
from chalicelib.platform import phone
from chalicelib.platform.schema import Document, SchemaError, check, describe

DispositionName = Literal[
    "busy", "no_answer", "voicemail", "sit_tone", "invalid_number", "declined", "wrong_party",
    "abandoned", "failed",
]  # fmt: skip
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class RetryDocument(Document):
    retry: bool = True
    after_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60


class WindowDocument(Document):
    start: HHMM
    end: HHMM


class CampaignDocument(Document):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    mode: Literal["preview", "progressive", "predictive", "agentless"]
    queue: str = ""
    contact_flow: Annotated[str, Field(min_length=1)]
    caller_id_daily_cap: Annotated[int, Field(ge=1, le=10_000)] = 100
    caller_ids: Annotated[
        list[Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")]], Field(min_length=1)
    ]
    purpose: Literal["marketing", "informational", "debt_collection", "survey"]
    subject: str = ""
    consent_required: bool = False
    jurisdiction: str
    starts_on: str
    ends_on: str
    daily_window: WindowDocument | None = None
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    retry: dict[DispositionName, RetryDocument] = {}
    answering_machine_detection: bool = False
    paused: bool = False
    max_in_flight: Annotated[int, Field(ge=1, le=500)] = 10
    handle_seconds: Annotated[int, Field(ge=10, le=3600)] = 300

    @field_validator("starts_on", "ends_on")
    @classmethod
    def _a_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
        return value


class CampaignError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def read_campaign(raw: Any) -> CampaignDocument:
    """The campaign, or CampaignError with every problem, each naming its field."""
    try:
        campaign = check(CampaignDocument, raw)
    except SchemaError as error:
        raise CampaignError(describe(error.problems)) from None
    problems = []
    if campaign.jurisdiction not in PROFILES:
        problems.append(
            f"jurisdiction {campaign.jurisdiction!r} is not a profile we have "
            f"({', '.join(sorted(PROFILES))})"
        )
    if date.fromisoformat(campaign.ends_on) < date.fromisoformat(campaign.starts_on):
        problems.append("ends_on is before starts_on")
    for name, rule in campaign.retry.items():
        if rule.retry and Disposition(name) in NEVER_RETRIED:
            problems.append(f"retry.{name}: a {name} call is never retried (set retry false)")
    if campaign.mode != Mode.AGENTLESS.value and not campaign.queue:
        problems.append(f"queue is required for a {campaign.mode} campaign (agents take the calls)")
    if problems:
        raise CampaignError(problems)
    return campaign


def retry_rules(campaign: CampaignDocument) -> dict[Disposition, RetryRule]:
    """The campaign's own rules over the defaults (`model.DEFAULT_RETRY`)."""
    return {
        **DEFAULT_RETRY,
        **{
            Disposition(name): RetryRule(rule.retry, timedelta(minutes=rule.after_minutes))
            for name, rule in campaign.retry.items()
        },
    }


def caller_id_pool(campaign: CampaignDocument) -> list[CallerId]:
    return [CallerId(n, phone.region_of(n), phone.area_code(n)) for n in campaign.caller_ids]


_PLACEHOLDER = re.compile(r"^\{\{(?:queue|flow):([^}]+)\}\}$")


def target_name(text: str) -> str:
    """A queue or flow as the campaign names it: `{{queue:sales}}` or plain `sales`."""
    match = _PLACEHOLDER.match(text)
    return match.group(1) if match else text


def campaign_of(campaign: CampaignDocument) -> Campaign:
    """The checked document, in the dialer's terms."""
    return Campaign(
        name=campaign.name,
        mode=Mode(campaign.mode),
        queue=target_name(campaign.queue),
        flow=target_name(campaign.contact_flow),
        rules=campaign_rules(campaign),
        caller_ids=tuple(caller_id_pool(campaign)),
        caller_id_daily_cap=campaign.caller_id_daily_cap,
        starts_on=date.fromisoformat(campaign.starts_on),
        ends_on=date.fromisoformat(campaign.ends_on),
        max_attempts=campaign.max_attempts,
        retry=retry_rules(campaign),
        answering_machine_detection=campaign.answering_machine_detection,
        paused=campaign.paused,
        max_in_flight=campaign.max_in_flight,
        handle_seconds=campaign.handle_seconds,
    )


def campaign_rules(campaign: CampaignDocument) -> CampaignRules:
    window = campaign.daily_window
    return CampaignRules(
        jurisdiction=campaign.jurisdiction,
        purpose=Purpose(campaign.purpose),
        subject=campaign.subject or campaign.name,
        consent_required=campaign.consent_required,
        window=CallingWindow(time.fromisoformat(window.start), time.fromisoformat(window.end))
        if window
        else None,
    )


class ConsentDocument(Document):
    given_at: datetime | None = None
    revoked_at: datetime | None = None


class PastCallDocument(Document):
    at: datetime
    purpose: Literal["marketing", "informational", "debt_collection", "survey"]
    subject: str = ""


class RecipientDocument(Document):
    """What we know of a person, as `switchboard compliance check --state FILE` takes it."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)  # ISO times as text

    on_national_dnc: bool = False
    national_dnc_copy_at: datetime | None = None
    internal_dnc_at: datetime | None = None
    consent: ConsentDocument = ConsentDocument()
    calls: list[PastCallDocument] = []


def read_recipient(raw: Any) -> Recipient:
    try:
        state = check(RecipientDocument, raw)
    except SchemaError as error:
        raise CampaignError(describe(error.problems)) from None
    return Recipient(
        on_national_dnc=state.on_national_dnc,
        national_dnc_copy_at=_aware(state.national_dnc_copy_at),
        internal_dnc_at=_aware(state.internal_dnc_at),
        consent=Consent(_aware(state.consent.given_at), _aware(state.consent.revoked_at)),
        calls=tuple(
            PastCall(_aware(c.at) or c.at, Purpose(c.purpose), c.subject) for c in state.calls
        ),
    )


def _aware(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
