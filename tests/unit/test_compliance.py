"""The dialer's compliance engine against an oracle written here, separately, from the rules'
text in docs/dialer.md: over 10,000 generated calls (numbers in several countries and zones,
times around window edges and DST changes, lists, consent and call histories) the two must
agree on every refusal reason, so a call is placed exactly when the rules allow it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.dialer.compliance import (
    CallingWindow,
    Consent,
    Dial,
    PastCall,
    Purpose,
    Reason,
    Recipient,
    check,
)
from chalicelib.dialer.jurisdictions import PROFILES
from chalicelib.platform.phone import area_code, region_of, time_zones

# -- the oracle: docs/dialer.md, "The rules", read literally -----------------------------------

# Florida's area codes as the FTSA presumption lists them (docs/dialer.md).
FLORIDA = (
    "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904 941 954"
)


def minutes(moment: datetime, zone: str) -> int:
    local = moment.astimezone(ZoneInfo(zone))
    return local.hour * 60 + local.minute


# One function, top to bottom, in the order of the text, on purpose: split into helpers it
# would start to mirror the engine it is there to check.
def oracle(dial: Dial, person: Recipient, profile: str) -> set[str]:  # noqa: C901
    said: set[str] = set()
    us = profile == "us" and dial.country == "US"
    china = profile == "cn" and dial.country == "CN"
    florida = us and (dial.area in FLORIDA.split() or dial.subdivision == "FL")
    marketing = dial.purpose == Purpose.MARKETING
    at = dial.at
    # 1. A country the profile has no rule for is never called.
    if not us and not china:
        said.add("no_jurisdiction")
    # 2. A callee in no known time zone is never called.
    if len(dial.time_zones) == 0:
        said.add("zone_unknown")
    # 3. Inside every window that applies, in every zone the callee may be in.
    for zone in dial.time_zones:
        now = minutes(at, zone)
        if us and not 8 * 60 <= now < 21 * 60:
            said.add("outside_window")
        if florida and marketing and not 8 * 60 <= now < 20 * 60:
            said.add("outside_window")
        window = dial.campaign_window
        if window is not None:
            start = window.start.hour * 60 + window.start.minute
            end = window.end.hour * 60 + window.end.minute
            if not start <= now < end:
                said.add("outside_window")
    consent = person.consent
    revoked = consent.revoked_at is not None and consent.revoked_at <= at
    consented = consent.given_at is not None and consent.given_at <= at and not revoked
    # 4. National DNC: US marketing, with a registry copy no older than 31 days.
    if us and marketing:
        copy = person.national_dnc_copy_at
        if copy is None or at - copy > timedelta(days=31):
            said.add("dnc_copy_stale")
        elif person.on_national_dnc and not consented:
            said.add("national_dnc")
    # 5. Our own DNC: any "don't call me" stops marketing at once, in the US and China.
    asked = person.internal_dnc_at
    if (us or china) and marketing and asked is not None and asked <= at:
        said.add("internal_dnc")
    # 6. Consent: Chinese marketing, and any campaign that asks for it.
    if (china and marketing) or dial.consent_required:
        if revoked:
            said.add("consent_revoked")
        elif not consented:
            said.add("no_consent")

    # 7. Caps: Florida marketing 3 in 24 h per subject; US debt collection 7 in 7 days per debt.
    def recent(purpose: Purpose, span: timedelta) -> int:
        return len(
            [
                c
                for c in person.calls
                if c.purpose == purpose and c.subject == dial.subject and at - span < c.at <= at
            ]
        )

    if florida and marketing and recent(Purpose.MARKETING, timedelta(hours=24)) >= 3:
        said.add("frequency_cap")
    debt = dial.purpose == Purpose.DEBT_COLLECTION
    if us and debt and recent(Purpose.DEBT_COLLECTION, timedelta(days=7)) >= 7:
        said.add("frequency_cap")
    return said


# -- the cases ----------------------------------------------------------------------------------

NUMBERS = [
    "+12125550142",  # New York
    "+13055550100",  # Miami: Florida
    "+18505550100",  # Pensacola: Florida
    "+13105550100",  # Los Angeles
    "+19285550100",  # Arizona: no DST
    "+18005550100",  # toll-free: 42 zones
    "+8613812345678",  # China
    "+447911123456",  # UK: 4 zones, no rule in either profile
    "+12505550100",  # Canada
]
DAYS = [
    datetime(2026, 3, 8, tzinfo=UTC),  # US DST starts
    datetime(2026, 11, 1, tzinfo=UTC),  # US DST ends
    datetime(2026, 3, 29, tzinfo=UTC),  # EU DST starts
    datetime(2026, 6, 15, tzinfo=UTC),
    datetime(2026, 12, 1, tzinfo=UTC),
]


class Draw:
    """One source of choices for both generators: hypothesis (which shrinks a failure to its
    smallest case) and a seeded `random.Random` (which runs 10,000 cases in seconds)."""

    def __init__(self, pick, integer) -> None:  # type: ignore[no-untyped-def]
        self.pick = pick  # a sequence -> one of its items
        self.integer = integer  # (low, high) -> an int in [low, high]

    def moment(self) -> datetime:
        day = self.pick(DAYS)
        # On the hour and a second or a minute either side, so every window edge in every
        # zone is hit, plus anywhere in the hour.
        second = self.pick([-61, -1, 0, 1, 59, 61, self.integer(0, 3599)])
        return day + timedelta(hours=self.integer(0, 47), seconds=second)

    def around(self, at: datetime) -> datetime | None:
        offsets = [
            None,
            -timedelta(days=400),
            -timedelta(hours=1),
            timedelta(0),
            timedelta(hours=1),
        ]
        offset = self.pick(offsets)
        return None if offset is None else at + offset

    def case(self) -> tuple[Dial, Recipient, str]:
        number = self.pick(NUMBERS)
        at = self.moment()
        zones = self.pick([
            time_zones(number), time_zones(number), (), ("America/Chicago",),
            ("America/New_York", "America/Los_Angeles"),
        ])  # fmt: skip
        dial = Dial(
            country=region_of(number),
            area=area_code(number),
            time_zones=zones,
            at=at,
            purpose=self.pick(list(Purpose)),
            subject=self.pick(["card-offer", "debt-1"]),
            subdivision=self.pick(["", "", "FL", "NY"]),
            consent_required=self.pick([False, True]),
            campaign_window=self.pick([None, None, CallingWindow(time(9), time(17))]),
        )
        age = self.pick([None, 0, 30, 31, 32])
        jitter = self.pick([timedelta(0), timedelta(hours=-1), timedelta(hours=1)])
        calls = tuple(
            PastCall(
                at - timedelta(minutes=self.integer(-60, 8 * 24 * 60)),
                self.pick([Purpose.MARKETING, Purpose.DEBT_COLLECTION, Purpose.SURVEY]),
                self.pick(["card-offer", "debt-1"]),
            )
            for _ in range(self.integer(0, 9))
        )
        person = Recipient(
            on_national_dnc=self.pick([False, True]),
            national_dnc_copy_at=None if age is None else at - timedelta(days=age) + jitter,
            internal_dnc_at=self.around(at),
            consent=Consent(self.around(at), self.around(at)),
            calls=calls,
        )
        return dial, person, self.pick(["us", "cn"])


def disagreement(case: tuple[Dial, Recipient, str]) -> str:
    dial, person, profile = case
    verdict = check(dial, person, PROFILES[profile])
    engine = {reason.value for reason in verdict.reasons}
    expected = oracle(dial, person, profile)
    if engine != expected or verdict.allowed != (not expected):
        return f"engine {sorted(engine)} != rules {sorted(expected)} for {case}"
    return ""


def test_ten_thousand_generated_calls_are_refused_exactly_as_the_rules_say() -> None:
    generator = random.Random(20261201)
    draw = Draw(generator.choice, generator.randint)
    problems = [p for p in (disagreement(draw.case()) for _ in range(10_000)) if p]
    assert problems == [], f"{len(problems)} violations; first: {problems[0]}"


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_same_property_shrinks_a_failure_to_its_smallest_case(data) -> None:
    draw = Draw(
        lambda items: data.draw(st.sampled_from(items)), lambda a, b: data.draw(st.integers(a, b))
    )
    assert disagreement(draw.case()) == ""


# -- named cases, the ones a reviewer asks about ------------------------------------------------

NOON_NY = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def us_dial(number: str = "+12125550142", at: datetime = NOON_NY, **fields) -> Dial:
    values = {
        "country": region_of(number),
        "area": area_code(number),
        "time_zones": time_zones(number),
        "at": at,
        "purpose": Purpose.MARKETING,
        "subject": "card-offer",
        **fields,
    }
    return Dial(**values)


FRESH = Recipient(national_dnc_copy_at=NOON_NY - timedelta(days=3))


def reasons(dial: Dial, person: Recipient = FRESH, profile: str = "us") -> list[str]:
    return [r.value for r in check(dial, person, PROFILES[profile]).reasons]


def test_a_number_is_called_only_when_lawful_in_every_zone_it_may_be_in() -> None:
    # 17:00 UTC is noon in New York but 09:00 in Los Angeles: lawful in both.
    both = ("America/New_York", "America/Los_Angeles")
    assert reasons(us_dial(time_zones=both)) == []
    # 14:30 UTC: 09:30 in New York, 06:30 in Los Angeles.
    assert reasons(us_dial(time_zones=both, at=NOON_NY - timedelta(hours=2, minutes=30))) == [
        "outside_window"
    ]
    # A toll-free number may be anywhere from Pago Pago (UTC-11) to Guam (UTC+10): of the
    # day's 24 hours only the three from 22:00 UTC are 08:00-21:00 in all 42 of its zones.
    hours = [NOON_NY + timedelta(hours=h) for h in range(24)]
    lawful = [at.hour for at in hours if reasons(us_dial("+18005550100", at=at)) == []]
    assert lawful == [22, 23, 0]


def test_florida_ends_marketing_an_hour_earlier_than_federal_law() -> None:
    at = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 20:30 in Miami
    assert reasons(us_dial("+13055550100", at=at)) == ["outside_window"]
    assert reasons(us_dial("+12125550142", at=at)) == []  # New York: 20:30 is lawful
    survey = us_dial("+13055550100", at=at, purpose=Purpose.SURVEY)
    assert reasons(survey) == []  # the FTSA window is for sales calls


def test_an_unknown_zone_is_never_called() -> None:
    assert reasons(us_dial(time_zones=())) == ["zone_unknown"]


def test_a_registry_copy_older_than_31_days_stops_marketing_only() -> None:
    stale = Recipient(national_dnc_copy_at=NOON_NY - timedelta(days=31, hours=1))
    assert reasons(us_dial(), stale) == ["dnc_copy_stale"]
    assert reasons(us_dial(purpose=Purpose.INFORMATIONAL), stale) == []


def test_a_dont_call_me_stops_marketing_the_moment_it_is_recorded() -> None:
    asked = Recipient(national_dnc_copy_at=FRESH.national_dnc_copy_at, internal_dnc_at=NOON_NY)
    assert reasons(us_dial(), asked) == ["internal_dnc"]
    assert reasons(us_dial(at=NOON_NY - timedelta(seconds=1)), asked) == []


def test_the_third_florida_sales_call_in_a_day_is_the_last() -> None:
    calls = tuple(
        PastCall(NOON_NY - timedelta(hours=h), Purpose.MARKETING, "card-offer") for h in (1, 5, 23)
    )
    person = Recipient(national_dnc_copy_at=FRESH.national_dnc_copy_at, calls=calls)
    verdict = check(us_dial("+13055550100"), person, PROFILES["us"])
    assert [r.reason for r in verdict.refusals] == [Reason.FREQUENCY_CAP]
    assert verdict.refusals[0].rule == "Florida (FTSA)"
    assert reasons(us_dial("+13055550100", subject="other-product"), person) == []


def test_china_needs_consent_and_stops_when_it_is_withdrawn() -> None:
    cn = Dial(
        country="CN", area="", time_zones=("Asia/Shanghai",), at=NOON_NY, purpose=Purpose.MARKETING
    )
    assert reasons(cn, Recipient(), "cn") == ["no_consent"]
    given = Consent(given_at=NOON_NY - timedelta(days=1))
    assert reasons(cn, Recipient(consent=given), "cn") == []
    withdrawn = Consent(given.given_at, revoked_at=NOON_NY - timedelta(minutes=1))
    assert reasons(cn, Recipient(consent=withdrawn), "cn") == ["consent_revoked"]


def test_every_refusal_is_reported_with_its_rule_and_local_times() -> None:
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 22:00 in New York
    verdict = check(us_dial(at=at), Recipient(), PROFILES["us"])
    assert [(r.reason.value, r.rule) for r in verdict.refusals] == [
        ("outside_window", "US federal (TCPA, TSR)"),
        ("dnc_copy_stale", "US federal (TCPA, TSR)"),
    ]
    assert verdict.local_times == {"America/New_York": "2026-11-30T22:00:00-05:00"}
