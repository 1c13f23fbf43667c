"""`parse_for_dialling`, the fast path contact lists use, says exactly what phonenumbers'
general API says: same validity, same E.164, same time zones."""

from __future__ import annotations

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import timezone

from chalicelib.platform.phone import parse_for_dialling


def reference(raw: str, region: str = "US") -> tuple[str, tuple[str, ...]] | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    zones = tuple(z for z in timezone.time_zones_for_number(number) if z != "Etc/Unknown")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), zones


def ours(raw: str, region: str = "US") -> tuple[str, tuple[str, ...]] | None:
    found = parse_for_dialling(raw, region)
    return None if found is None else (found.e164, found.time_zones)


EXAMPLES = [
    phonenumbers.format_number(sample, phonenumbers.PhoneNumberFormat.E164)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    for kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
    )
    if (sample := phonenumbers.example_number_for_type(region, kind)) is not None
]


def test_every_regions_example_numbers_read_the_same() -> None:
    assert len(EXAMPLES) > 500
    assert [ours(n) for n in EXAMPLES] == [reference(n) for n in EXAMPLES]


AREA_CODES = [
    "212",
    "305",
    "415",
    "800",
    "888",
    "900",
    "250",
    "416",
    "787",
    "876",
    "671",
    "555",
    "011",
    "199",
]


@settings(max_examples=2_000, deadline=None)
# Found by this test: an 800 number valid in another country than the area code's first one.
@example(area="800", rest=1400000, shape="+1{}{:07d}")
@given(
    st.sampled_from(AREA_CODES),
    st.integers(0, 9_999_999),
    st.sampled_from(["+1{}{:07d}", "({}) {:07d}", "1-{}-{:07d}", "+1 {} {:07d} ext. 5"]),
)
def test_north_american_numbers_read_the_same_in_any_order_and_shape(area, rest, shape) -> None:
    raw = shape.format(area, rest)
    assert ours(raw) == reference(raw)


@given(st.text(max_size=20))
def test_anything_else_reads_the_same(raw) -> None:
    assert ours(raw) == reference(raw)
