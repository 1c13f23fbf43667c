"""Phone numbers: E.164 normalisation with `phonenumbers`, and the only way we print one."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from enum import Enum

import phonenumbers
from phonenumbers.phonenumberutil import _number_type_helper

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


MIN_KEY_BYTES = 32


class CallerKeyError(ValueError):
    """The caller-key secret is missing or malformed; the message never contains it."""


@dataclass(frozen=True)
class CallerKeys:
    """The secrets of the HMAC that stands for a number in indexes: the first is current,
    the rest are previous keys still read during a rotation. Never printed."""

    secrets: tuple[bytes, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.secrets:
            raise CallerKeyError("the caller key has no current key")
        if any(len(secret) < MIN_KEY_BYTES for secret in self.secrets):
            raise CallerKeyError(f"every caller key must be at least {MIN_KEY_BYTES} bytes")

    def current(self, e164: str) -> str:
        """The key new records are written under."""
        return _hmac(self.secrets[0], e164)

    def every(self, e164: str) -> tuple[str, ...]:
        """The key under every secret, current first: what to look records up by."""
        return tuple(_hmac(secret, e164) for secret in self.secrets)


def _hmac(secret: bytes, e164: str) -> str:
    return hmac.new(secret, e164.encode(), hashlib.sha256).hexdigest()[:32]


def parse_caller_keys(text: str) -> CallerKeys:
    """`{"current": "<base64>", "previous": ["<base64>", ...]}`, as kept in SSM."""
    try:
        document = json.loads(text)
        current, previous = document["current"], document.get("previous", [])
        if not isinstance(current, str) or not isinstance(previous, list):
            raise TypeError
        secrets = tuple(base64.b64decode(value, validate=True) for value in [current, *previous])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise CallerKeyError(
            'the caller key must be JSON {"current": base64, "previous": [base64, ...]}'
        ) from None  # the cause would quote the secret
    return CallerKeys(secrets)


def region_of(e164: str) -> str:
    """The ISO country of a valid E.164 number ("US", "GB"), or "" if unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


def time_zones(e164: str) -> tuple[str, ...]:
    """The time zones a number may be in (several for some area codes); empty if unknown."""
    number = parse_for_dialling(e164)
    return number.time_zones if number else ()


def area_code(e164: str) -> str:
    """The area code of a North American (+1) number ("305"); "" for any other number."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return ""
    return str(number.national_number)[:3] if number.country_code == 1 else ""


@dataclass(frozen=True)
class DiallingNumber:
    """A number we may place a call to, and the zones its owner may be in (empty: unknown)."""

    e164: str
    time_zones: tuple[str, ...]


_CANONICAL = re.compile(r"\+([1-9]\d{0,2})([1-9]\d{3,16})")


def parse_for_dialling(raw: str, default_region: str = "US") -> DiallingNumber | None:
    """The number if `phonenumbers` says it is a valid one, else None. Lists bring a million
    of these: text already in E.164 skips the general parser (`_canonical`), and the type
    check that validity needs is done once and reused for the time zones (its country is
    left to `region_of`, at dial time: finding it among +1's 25 countries costs as much as
    the rest)."""
    canonical = _canonical(raw)
    number = canonical or _parsed(raw, default_region)
    if number is None:
        return None
    kind = _number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    from phonenumbers import timezone

    if phonenumbers.is_number_type_geographical(kind, number.country_code or 0):
        zones = timezone.time_zones_for_geographical_number(number)
    else:
        zones = timezone.time_zones_for_number(number)  # the country's zones
    if canonical is not None:
        e164 = raw.strip()  # already what format_number would write
    else:
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return DiallingNumber(e164, tuple(z for z in zones if z != "Etc/Unknown"))


def _number_type(number: phonenumbers.PhoneNumber) -> int:
    """`phonenumbers.number_type`, with the country of a +1 number found once per area code:
    finding it among the plan's 25 countries costs as much as the type check itself. Only a
    geographic area code (fixed or mobile numbers) belongs to one country; a toll-free one
    (800, 888, ...) does not, so only a geographic answer is trusted from the cache and
    anything else is asked of `number_type`. Pinned phonenumbers version;
    tests/unit/test_phone_dialling.py compares the result with `number_type`."""
    if number.country_code != 1:
        return int(phonenumbers.number_type(number))
    area = str(number.national_number)[:3]
    region = _NANP_REGIONS.get(area)
    if region is not None:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        national = phonenumbers.national_significant_number(number)
        if metadata is not None:
            kind = int(_number_type_helper(national, metadata))
            if kind in _GEOGRAPHIC:
                return kind
    kind = int(phonenumbers.number_type(number))
    found = phonenumbers.region_code_for_number(number) if kind in _GEOGRAPHIC else None
    if found:
        _NANP_REGIONS[area] = found
    return kind


_GEOGRAPHIC = frozenset(
    int(kind)
    for kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
)
_NANP_REGIONS: dict[str, str] = {}  # geographic area code -> its one country


def _canonical(raw: str) -> phonenumbers.PhoneNumber | None:
    """What `phonenumbers.parse` gives for text already in E.164 (no leading zero after the
    country code), without its general parser; anything else returns None."""
    match = _CANONICAL.fullmatch(raw.strip())
    if match is None:
        return None
    digits = match[1] + match[2]
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if national.startswith("0") or not 2 <= len(national) <= 17:
                return None
            return phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    return None


def _parsed(raw: str, default_region: str) -> phonenumbers.PhoneNumber | None:
    if len(raw) > _MAX_RAW_LENGTH:
        return None
    try:
        return phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return None
