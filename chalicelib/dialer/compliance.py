"""Whether a campaign call may be dialled at this moment: calling windows in the callee's
local time, do-not-call lists, consent and frequency caps. The rules are data per
jurisdiction (`jurisdictions.py`); every rule that applies to the number is checked and
every one that refuses is reported with its reason code, so the strictest always wins.

Pure: the caller brings the time, the recipient's state (lists, consent, past calls) read
fresh after the claim, and the campaign's purpose and window.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo


class Purpose(Enum):
    MARKETING = "marketing"
    INFORMATIONAL = "informational"
    DEBT_COLLECTION = "debt_collection"
    SURVEY = "survey"


ALL_PURPOSES = frozenset(Purpose)


class Reason(Enum):
    NO_JURISDICTION = "no_jurisdiction"  # the profile has no rule for the number's country
    ZONE_UNKNOWN = "zone_unknown"  # no time zone for the number: never dial
    OUTSIDE_WINDOW = "outside_window"
    DNC_COPY_STALE = "dnc_copy_stale"  # no national registry copy, or one too old
    NATIONAL_DNC = "national_dnc"
    INTERNAL_DNC = "internal_dnc"
    NO_CONSENT = "no_consent"
    CONSENT_REVOKED = "consent_revoked"
    FREQUENCY_CAP = "frequency_cap"


class CapScope(Enum):
    RECIPIENT = "recipient"  # every counted call to the number, in any campaign
    SUBJECT = "subject"  # calls on the same subject (a product, a debt)


@dataclass(frozen=True)
class CallingWindow:
    start: time
    end: time  # exclusive; time(0) is midnight at the end of the day

    def contains(self, local: time) -> bool:
        return self.start <= local and (self.end == time(0) or local < self.end)


@dataclass(frozen=True)
class FrequencyCap:
    name: str
    calls: int  # at most this many counted calls ...
    within: timedelta  # ... in any span this long ending now
    scope: CapScope
    purposes: frozenset[Purpose]  # calls of these purposes count, and are limited


@dataclass(frozen=True)
class Rule:
    """One jurisdiction's rules. It applies to a number of one of `countries` and, when
    `areas` is not empty, only to one whose area code or stated subdivision is in it."""

    name: str
    countries: frozenset[str]
    areas: frozenset[str] = frozenset()  # NANP area codes or subdivisions ("FL")
    window: CallingWindow | None = None
    window_purposes: frozenset[Purpose] = ALL_PURPOSES
    national_dnc_purposes: frozenset[Purpose] = frozenset()
    internal_dnc_purposes: frozenset[Purpose] = frozenset()
    consent_purposes: frozenset[Purpose] = frozenset()
    caps: tuple[FrequencyCap, ...] = ()


@dataclass(frozen=True)
class Profile:
    name: str
    rules: tuple[Rule, ...]
    national_dnc_max_age: timedelta = timedelta(days=31)


@dataclass(frozen=True)
class ContactLimit:
    """An instance-wide limit, like Connect's communication limits: at most `calls` calls to
    one person in any `within`, of any purpose, from every campaign together."""

    calls: int
    within: timedelta

    def rule(self, countries: frozenset[str]) -> Rule:
        cap = FrequencyCap(
            f"instance limit: {self.calls} calls in {_span(self.within)} per person",
            self.calls,
            self.within,
            CapScope.RECIPIENT,
            ALL_PURPOSES,
        )
        return Rule(name="instance limit", countries=countries, caps=(cap,))


def limited(profile: Profile, limit: ContactLimit | None) -> Profile:
    """The profile with the instance's contact limit added to it, for the countries it
    covers (the strictest rule still wins: it is one more rule)."""
    if limit is None:
        return profile
    countries = frozenset().union(*(rule.countries for rule in profile.rules))
    return replace(profile, rules=(*profile.rules, limit.rule(countries)))


@dataclass(frozen=True)
class PastCall:
    at: datetime
    purpose: Purpose
    subject: str = ""


@dataclass(frozen=True)
class Consent:
    given_at: datetime | None = None
    revoked_at: datetime | None = None

    def holds_at(self, moment: datetime) -> bool:
        given = self.given_at is not None and self.given_at <= moment
        return given and not self.revoked_at_or_before(moment)

    def revoked_at_or_before(self, moment: datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= moment


@dataclass(frozen=True)
class Recipient:
    """What we know of the person, read fresh at dial time."""

    on_national_dnc: bool = False
    national_dnc_copy_at: datetime | None = None  # when our registry copy was downloaded
    internal_dnc_at: datetime | None = None  # a "don't call me", in any call or campaign
    consent: Consent = Consent()
    calls: tuple[PastCall, ...] = ()


@dataclass(frozen=True)
class Dial:
    """The call about to be placed."""

    country: str  # ISO region of the number ("US")
    area: str  # NANP area code ("305"), or "" outside NANP
    time_zones: tuple[str, ...]  # every zone the callee may be in; empty when unknown
    at: datetime
    purpose: Purpose
    subject: str = ""
    subdivision: str = ""  # a stated state or province ("FL"), from the contact record
    consent_required: bool = False  # the campaign asks for consent whatever the law says
    campaign_window: CallingWindow | None = None  # the campaign's own daily window


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    rule: str  # the rule (or "campaign") that refuses
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[Refusal, ...]
    local_times: dict[str, str] = field(default_factory=dict)  # zone -> local ISO time

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return tuple(dict.fromkeys(refusal.reason for refusal in self.refusals))


def applicable_rules(profile: Profile, dial: Dial) -> tuple[Rule, ...]:
    places = {dial.area, dial.subdivision} - {""}
    return tuple(
        rule
        for rule in profile.rules
        if dial.country in rule.countries and (not rule.areas or rule.areas & places)
    )


def check(dial: Dial, recipient: Recipient, profile: Profile) -> Verdict:
    """Every refusal that applies, or none: the call may be placed now."""
    rules = applicable_rules(profile, dial)
    refusals = [
        *_jurisdiction(dial, rules),
        *_windows(dial, rules),
        *_national_dnc(dial, recipient, rules, profile.national_dnc_max_age),
        *_internal_dnc(dial, recipient, rules),
        *_consent(dial, recipient, rules),
        *_caps(dial, recipient, rules),
    ]
    return Verdict(tuple(refusals), local_times(dial.at, dial.time_zones))


ALLOWED_SEARCH_STEP = timedelta(minutes=5)
ALLOWED_SEARCH_SPAN = timedelta(days=8)  # past the longest cap we keep (Reg F's 7 days)


def next_allowed(dial: Dial, recipient: Recipient, profile: Profile) -> datetime | None:
    """The first instant, on a 5-minute grid, when the call would be allowed with the
    recipient's state as it is; None if not within 8 days (it waits on more than time)."""
    moment = dial.at.replace(second=0, microsecond=0) + ALLOWED_SEARCH_STEP
    ends = dial.at + ALLOWED_SEARCH_SPAN
    while moment < ends:
        if check(replace(dial, at=moment), recipient, profile).allowed:
            return moment
        moment += ALLOWED_SEARCH_STEP
    return None


def local_times(moment: datetime, zones: Sequence[str]) -> dict[str, str]:
    return {zone: moment.astimezone(ZoneInfo(zone)).isoformat() for zone in zones}


def _jurisdiction(dial: Dial, rules: Sequence[Rule]) -> Iterator[Refusal]:
    if not rules:
        yield Refusal(Reason.NO_JURISDICTION, "profile", f"no rule for numbers in {dial.country}")


def _windows(dial: Dial, rules: Sequence[Rule]) -> Iterator[Refusal]:
    windows = [(r.name, r.window) for r in rules if r.window and dial.purpose in r.window_purposes]
    if dial.campaign_window is not None:
        windows.append(("campaign", dial.campaign_window))
    if not dial.time_zones:
        yield Refusal(Reason.ZONE_UNKNOWN, "all", "the callee's time zone is unknown")
        return
    for name, window in windows:
        for zone in dial.time_zones:
            local = dial.at.astimezone(ZoneInfo(zone)).time()
            if window is not None and not window.contains(local):
                yield Refusal(
                    Reason.OUTSIDE_WINDOW,
                    name,
                    f"{local:%H:%M} in {zone} is outside {window.start:%H:%M}-{window.end:%H:%M}",
                )


def _national_dnc(
    dial: Dial, recipient: Recipient, rules: Sequence[Rule], max_age: timedelta
) -> Iterator[Refusal]:
    for rule in rules:
        if dial.purpose not in rule.national_dnc_purposes:
            continue
        copy_at = recipient.national_dnc_copy_at
        if copy_at is None or dial.at - copy_at > max_age:
            yield Refusal(
                Reason.DNC_COPY_STALE, rule.name, f"no registry copy within {max_age.days} days"
            )
        elif recipient.on_national_dnc and not recipient.consent.holds_at(dial.at):
            yield Refusal(Reason.NATIONAL_DNC, rule.name, "the number is on the national list")


def _internal_dnc(dial: Dial, recipient: Recipient, rules: Sequence[Rule]) -> Iterator[Refusal]:
    asked_at = recipient.internal_dnc_at
    if asked_at is None or asked_at > dial.at:
        return
    for rule in rules:
        if dial.purpose in rule.internal_dnc_purposes:
            yield Refusal(
                Reason.INTERNAL_DNC, rule.name, f"asked not to be called {asked_at:%Y-%m-%d}"
            )


def _consent(dial: Dial, recipient: Recipient, rules: Sequence[Rule]) -> Iterator[Refusal]:
    needed_by = [r.name for r in rules if dial.purpose in r.consent_purposes]
    if dial.consent_required:
        needed_by.append("campaign")
    consent = recipient.consent
    for name in needed_by:
        if consent.revoked_at_or_before(dial.at):
            yield Refusal(Reason.CONSENT_REVOKED, name, "consent was withdrawn")
        elif not consent.holds_at(dial.at):
            yield Refusal(Reason.NO_CONSENT, name, "no consent on record")


def _caps(dial: Dial, recipient: Recipient, rules: Sequence[Rule]) -> Iterator[Refusal]:
    for rule in rules:
        for cap in rule.caps:
            if dial.purpose not in cap.purposes:
                continue
            counted = sum(1 for call in recipient.calls if _counts(call, cap, dial))
            if counted >= cap.calls:
                yield Refusal(
                    Reason.FREQUENCY_CAP,
                    rule.name,
                    f"{cap.name}: {counted} calls in the last {_span(cap.within)}",
                )


def _counts(call: PastCall, cap: FrequencyCap, dial: Dial) -> bool:
    recent = dial.at - cap.within < call.at <= dial.at
    same = cap.scope is CapScope.RECIPIENT or call.subject == dial.subject
    return recent and same and call.purpose in cap.purposes


def _span(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{span.days} days"
