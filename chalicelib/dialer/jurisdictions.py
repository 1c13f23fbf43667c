"""The calling rules, as data (docs/dialer.md quotes each with its source).

US: the TCPA/TSR window (08:00-21:00 local), the national DNC (a registry copy at most 31
days old; express consent overrides it), the company's own DNC, applied at once rather than
within 10 business days. Florida (FTSA, a Florida area code or a Florida address): telephonic
sales only 08:00-20:00 and at most 3 calls in 24 h on one subject. Debt collection (Reg F):
at most 7 calls in 7 days per debt. China: commercial calls only with consent; no numeric
window or cap is in force that we could confirm, so a campaign sets its own window.
"""

from __future__ import annotations

from datetime import time, timedelta

from chalicelib.dialer.compliance import (
    CallingWindow,
    CapScope,
    FrequencyCap,
    Profile,
    Purpose,
    Rule,
)

# Area codes of Florida: a number with one is presumed to be a Florida resident's (FTSA).
FLORIDA_AREA_CODES = frozenset(
    {
        "239", "305", "321", "324", "352", "386", "407", "448", "561", "645", "656", "689",
        "727", "728", "754", "772", "786", "813", "850", "863", "904", "941", "954",
    }
)  # fmt: skip

US_FEDERAL = Rule(
    name="US federal (TCPA, TSR)",
    countries=frozenset({"US"}),
    window=CallingWindow(time(8), time(21)),
    national_dnc_purposes=frozenset({Purpose.MARKETING}),
    internal_dnc_purposes=frozenset({Purpose.MARKETING}),
)
US_FLORIDA = Rule(
    name="Florida (FTSA)",
    countries=frozenset({"US"}),
    areas=FLORIDA_AREA_CODES | {"FL"},
    window=CallingWindow(time(8), time(20)),
    window_purposes=frozenset({Purpose.MARKETING}),
    caps=(
        FrequencyCap(
            "FTSA: 3 calls in 24 h on one subject",
            3,
            timedelta(hours=24),
            CapScope.SUBJECT,
            frozenset({Purpose.MARKETING}),
        ),
    ),
)
US_REG_F = Rule(
    name="Debt collection (Reg F)",
    countries=frozenset({"US"}),
    caps=(
        FrequencyCap(
            "Reg F: 7 calls in 7 days per debt",
            7,
            timedelta(days=7),
            CapScope.SUBJECT,
            frozenset({Purpose.DEBT_COLLECTION}),
        ),
    ),
)
CHINA = Rule(
    name="China (MIIT: consent for commercial calls)",
    countries=frozenset({"CN"}),
    internal_dnc_purposes=frozenset({Purpose.MARKETING}),
    consent_purposes=frozenset({Purpose.MARKETING}),
)

PROFILES: dict[str, Profile] = {
    "us": Profile("us", (US_FEDERAL, US_FLORIDA, US_REG_F)),
    "cn": Profile("cn", (CHINA,)),
}
