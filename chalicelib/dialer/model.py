"""The dialer's values: a campaign as the dialer uses it, and the call a record is about to
get, as the compliance engine sees it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from chalicelib.dialer.compliance import CallingWindow, Dial, Purpose
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
