"""Campaign files for the command line: reading a campaign and a person's state, and
`switchboard compliance check`'s verdict (the same engine the dialer runs after its claim,
chalicelib/dialer/compliance.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devkit.local_aws import ROOT

CAMPAIGNS_DIR = ROOT / "campaigns"


class UnreadableError(ValueError):
    """A campaign or state file that cannot be used, said with the file and the field."""


def load_campaign(name: str, folder: Path = CAMPAIGNS_DIR) -> Any:
    from chalicelib.dialer.schema import CampaignError, read_campaign

    path = folder / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.json"))) or "none"
        raise UnreadableError(f"{path}: no campaign {name!r} (campaigns here: {known})")
    try:
        return read_campaign(_json(path))
    except CampaignError as error:
        raise UnreadableError(f"{path}: " + "; ".join(error.problems)) from None


def load_state(path: Path | None) -> Any:
    from chalicelib.dialer.compliance import Recipient
    from chalicelib.dialer.schema import CampaignError, read_recipient

    if path is None:
        return Recipient()
    try:
        return read_recipient(_json(path))
    except CampaignError as error:
        raise UnreadableError(f"{path}: " + "; ".join(error.problems)) from None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableError(f"{path}: not valid JSON: {error}") from None


def verdict(
    number: str, at: datetime, campaign: Any, state: Any, zone: str = "", subdivision: str = ""
) -> dict[str, Any]:
    from chalicelib.dialer.compliance import check
    from chalicelib.dialer.jurisdictions import PROFILES
    from chalicelib.dialer.model import callee_for, dial_for
    from chalicelib.dialer.schema import campaign_rules

    rules = campaign_rules(campaign)
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    dial = dial_for(callee_for(number, zone, subdivision), rules, moment)
    result = check(dial, state, PROFILES[rules.jurisdiction])
    return {
        "allowed": result.allowed,
        "reasons": [refusal.as_dict() for refusal in result.refusals],
        "local_times": result.local_times,
        "campaign": campaign.name,
        "at": moment.isoformat(),
    }


def check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 before any of it is used, naming where it breaks."""
    from chalicelib.dialer.contacts import utf8_problem

    with path.open("rb") as stream:
        problem = utf8_problem(iter(lambda: stream.read(1 << 20), b""))
    if problem:
        raise UnreadableError(f"{path}: {problem}")


def report_table(report: dict[str, Any]) -> Any:
    """`switchboard campaigns report` as a table people read (the JSON has the same keys)."""
    from rich.table import Table

    abandoned = report["abandoned"]
    table = Table(title=f"{report['campaign']} ({report['mode']}"
                  f"{', paused' if report['paused'] else ''}) at {report['at'][:16]}")  # fmt: skip
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("dialled", f"{report['dialled']:,}"),
        ("connected", f"{report['connected']:,}"),
        ("right-party contacts", f"{report['right_party_contacts']:,}"),
        ("abandoned, to date", _rate(abandoned, "campaign_to_date")),
        ("abandoned, rolling 30 days", _rate(abandoned, "rolling_30_days")),
        *((f"disposition: {k}", f"{v:,}") for k, v in report["dispositions"].items()),
        *((f"survey: {k}", f"{v:,}") for k, v in report["survey"].items()),
        ("NPS", "-" if report["nps"] is None else f"{report['nps']:+.1f}"),
        *((f"records {k}", f"{v:,}") for k, v in report["records"].items()),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _rate(abandoned: dict[str, Any], span: str) -> str:
    return f"{abandoned[span]:,} ({abandoned['rate_' + span]:.1%} of answered)"
