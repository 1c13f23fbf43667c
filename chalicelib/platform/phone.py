"""Phone numbers: E.164 normalisation with `phonenumbers`, and the only way we print one."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum

import phonenumbers

# What carriers put in the ANI when the caller withholds their number.
_WITHHELD_MARKERS = {"anonymous", "restricted", "private", "unavailable", "unknown", "withheld"}
_MAX_RAW_LENGTH = 64


class NumberKind(Enum):
    VALID = "valid"
    WITHHELD = "withheld"
    INVALID = "invalid"


@dataclass(frozen=True)
class CallerNumber:
    kind: NumberKind
    e164: str = ""

    @property
    def masked(self) -> str:
        return mask(self.e164) if self.e164 else self.kind.value


def normalise(raw: object, default_region: str = "US") -> CallerNumber:
    """Turn what Connect put in CustomerEndpoint.Address into an E.164 number, or say why not."""
    if raw is None:
        return CallerNumber(NumberKind.WITHHELD)
    if not isinstance(raw, str) or len(raw) > _MAX_RAW_LENGTH:
        return CallerNumber(NumberKind.INVALID)
    text = raw.strip()
    if not text or text.lower() in _WITHHELD_MARKERS:
        return CallerNumber(NumberKind.WITHHELD)
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return CallerNumber(NumberKind.INVALID)
    if not phonenumbers.is_valid_number(parsed):
        return CallerNumber(NumberKind.INVALID)
    return CallerNumber(
        NumberKind.VALID, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    )


def mask(e164: str) -> str:
    """Keep the country prefix and the last two digits: enough to debug, not enough to dial."""
    digits = re.sub(r"\D", "", e164)
    if len(digits) < 6:
        return "*" * len(digits)
    return f"+{digits[:1]}{'*' * (len(digits) - 3)}{digits[-2:]}"


def caller_key(e164: str) -> str:
    """A stable, non-reversible key for a number, for indexes that must not hold the number."""
    return hashlib.sha256(f"switchboard-caller:{e164}".encode()).hexdigest()[:32]


def region_of(e164: str) -> str:
    """The ISO country of a valid E.164 number ("US", "GB"), or "" if unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


def time_zones(e164: str) -> tuple[str, ...]:
    """The time zones a number may be in (several for some area codes); empty if unknown."""
    from phonenumbers import timezone

    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in zones if z != "Etc/Unknown")
