"""The dialer's values: a campaign as the dialer uses it, and the call a record is about to
get, as the compliance engine sees it. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from chalicelib.dialer.compliance import CallingWindow, Dial, Purpose
from chalicelib.outbound.model import Outcome
from chalicelib.platform import phone


class Mode(Enum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    AGENTLESS = "agentless"


@dataclass(frozen=True)
class Callee:
    """Where a contact-list record's number is: from the number, or stated in the record."""

    number: str  # E.164
    country: str
    area: str
    time_zones: tuple[str, ...]
    subdivision: str = ""


@dataclass(frozen=True)
class CampaignRules:
    """What of a campaign the compliance engine needs."""

    jurisdiction: str  # a profile in jurisdictions.PROFILES
    purpose: Purpose
    subject: str
    consent_required: bool = False
    window: CallingWindow | None = None


def callee_for(number: str, stated_zone: str = "", subdivision: str = "") -> Callee:
    """Where a number's owner is: the zone a record states wins over the number's own zones
    (a ported mobile's area code is not where the phone is); none known means never called."""
    zones = (stated_zone,) if stated_zone else phone.time_zones(number)
    return Callee(
        number, phone.region_of(number), phone.area_code(number), zones, subdivision.upper()
    )


def dial_for(callee: Callee, campaign: CampaignRules, at: datetime) -> Dial:
    return Dial(
        country=callee.country,
        area=callee.area,
        time_zones=callee.time_zones,
        at=at,
        purpose=campaign.purpose,
        subject=campaign.subject,
        subdivision=callee.subdivision,
        consent_required=campaign.consent_required,
        campaign_window=campaign.window,
    )


# -- what became of an attempt, and what comes next ---------------------------------------------


class Disposition(Enum):
    CONNECTED = "connected"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    SIT_TONE = "sit_tone"
    INVALID_NUMBER = "invalid_number"
    DECLINED = "declined"
    WRONG_PARTY = "wrong_party"
    ABANDONED = "abandoned"  # a live answer no agent took within 2 s
    FAILED = "failed"  # the network or Connect could not place it


# The outbound core's outcome of a dial -> the campaign's word for it.
_BY_OUTCOME = {
    Outcome.CONNECTED: Disposition.CONNECTED,
    Outcome.DECLINED: Disposition.DECLINED,
    Outcome.NO_ANSWER: Disposition.NO_ANSWER,
    Outcome.BUSY: Disposition.BUSY,
    Outcome.VOICEMAIL: Disposition.VOICEMAIL,
    Outcome.DIAL_FAILED: Disposition.FAILED,
    Outcome.UNREACHABLE: Disposition.INVALID_NUMBER,
}
# What an agent may set when wrapping up a connected call.
_BY_AGENT = {d.value: d for d in (Disposition.WRONG_PARTY, Disposition.DECLINED)}


def disposition_of(outcome: Outcome, agent_says: str = "") -> Disposition:
    """The disposition of an ended attempt; a connected call's is the agent's, if given."""
    if outcome is Outcome.CONNECTED and agent_says in _BY_AGENT:
        return _BY_AGENT[agent_says]
    return _BY_OUTCOME[outcome]


@dataclass(frozen=True)
class RetryRule:
    retry: bool = True
    after: timedelta = timedelta(hours=1)


NO_RETRY = RetryRule(retry=False)
# Reached, refused, the wrong person, or a number that cannot take calls: never again in this
# campaign, whatever its rules say.
NEVER_RETRIED = frozenset(
    {
        Disposition.CONNECTED,
        Disposition.DECLINED,
        Disposition.WRONG_PARTY,
        Disposition.INVALID_NUMBER,
        Disposition.SIT_TONE,
    }
)
# When a campaign says nothing of a disposition.
DEFAULT_RETRY: Mapping[Disposition, RetryRule] = {
    Disposition.BUSY: RetryRule(after=timedelta(minutes=20)),
    Disposition.NO_ANSWER: RetryRule(after=timedelta(hours=3)),
    Disposition.VOICEMAIL: RetryRule(after=timedelta(hours=24)),
    Disposition.FAILED: RetryRule(after=timedelta(minutes=15)),
    Disposition.ABANDONED: RetryRule(after=timedelta(hours=24)),
    Disposition.SIT_TONE: NO_RETRY,
    Disposition.INVALID_NUMBER: NO_RETRY,
    Disposition.DECLINED: NO_RETRY,
    Disposition.WRONG_PARTY: NO_RETRY,
}


@dataclass(frozen=True)
class NextStep:
    final: bool
    at: datetime | None  # when to try again; None when final
    reason: str


def next_step(
    disposition: Disposition,
    attempt: int,
    max_attempts: int,
    rules: Mapping[Disposition, RetryRule],
    ended_at: datetime,
) -> NextStep:
    """After attempt number `attempt` (1 for the first) ended so: done, or when to retry."""
    if disposition is Disposition.CONNECTED:
        return NextStep(True, None, "reached")
    if disposition in NEVER_RETRIED:
        return NextStep(True, None, f"{disposition.value}: never retried")
    rule = rules.get(disposition, DEFAULT_RETRY.get(disposition, NO_RETRY))
    if not rule.retry:
        return NextStep(True, None, f"{disposition.value}: not retried")
    if attempt >= max_attempts:
        return NextStep(True, None, f"{disposition.value}: {max_attempts} attempts used")
    return NextStep(False, ended_at + rule.after, f"{disposition.value}: retry")


# -- caller IDs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerId:
    number: str  # E.164, one of the campaign's pool
    country: str
    area: str  # NANP area code, "" elsewhere


def caller_id_for(
    pool: Sequence[CallerId],
    callee: Callee,
    used_today: Mapping[str, int],
    daily_cap: int,
    turn: int,
) -> CallerId | None:
    """The number to call from: one with the callee's area code if the pool has one under
    its daily cap, else one in the callee's country, else any; among equals, in turn (so a
    number is not worn out and labelled as spam). None when every number is at its cap."""
    usable = [c for c in pool if used_today.get(c.number, 0) < daily_cap]
    local = [c for c in usable if c.country == callee.country and c.area and c.area == callee.area]
    national = [c for c in usable if c.country == callee.country]
    best = local or national or usable
    return best[turn % len(best)] if best else None
