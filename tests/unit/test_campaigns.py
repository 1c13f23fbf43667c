"""Campaigns as data, and `switchboard compliance check` (issue 10, first part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.dialer.schema import CampaignError, read_campaign
from devkit.cli import UNREADABLE, main

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = sorted((ROOT / "campaigns").glob("*.json"))
CARD = json.loads((ROOT / "campaigns" / "card-upgrade.json").read_text())


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.stem)
def test_every_shipped_campaign_is_valid_and_named_as_its_file(path: Path) -> None:
    assert read_campaign(json.loads(path.read_text())).name == path.stem


def test_a_bad_campaign_names_every_field_at_once() -> None:
    raw = {**CARD, "mode": "turbo", "max_attempts": 0, "caller_ids": ["2125550199"], "colour": 1}
    del raw["contact_flow"]
    with pytest.raises(CampaignError) as error:
        read_campaign(raw)
    said = "; ".join(error.value.problems)
    for field in ("mode must be", "contact_flow is required", "max_attempts must be at least 1",
                  "caller_ids[0]", "unknown keys colour"):  # fmt: skip
        assert field in said, said


def test_references_are_checked_after_the_structure() -> None:
    raw = {**CARD, "jurisdiction": "mars", "ends_on": "2026-11-01", "queue": ""}
    with pytest.raises(CampaignError) as error:
        read_campaign(raw)
    assert error.value.problems == (
        "jurisdiction 'mars' is not a profile we have (cn, us)",
        "ends_on is before starts_on",
        "queue is required for a progressive campaign (agents take the calls)",
    )


def run(*args: str):
    return CliRunner().invoke(main, ["compliance", "check", *args])


FRESH_STATE = {"national_dnc_copy_at": "2026-11-28T00:00:00Z", "consent": {}}


def test_the_verdict_is_json_and_exit_0_whether_allowed_or_not(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(FRESH_STATE))
    noon_in_miami = [
        "--number",
        "+13055550100",
        "--at",
        "2026-12-01T17:00",
        "--campaign",
        "card-upgrade",
    ]
    allowed = run(*noon_in_miami, "--state", str(state))
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout) == {
        "allowed": True,
        "reasons": [],
        "local_times": {"America/New_York": "2026-12-01T12:00:00-05:00"},
        "campaign": "card-upgrade",
        "at": "2026-12-01T17:00:00+00:00",
    }
    state.write_text(json.dumps({**FRESH_STATE, "internal_dnc_at": "2026-12-01T16:59:00Z"}))
    refused = run(*noon_in_miami, "--state", str(state))
    assert refused.exit_code == 0
    assert [r["reason"] for r in json.loads(refused.stdout)["reasons"]] == ["internal_dnc"]


def test_a_stated_zone_and_state_override_the_numbers_own(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(FRESH_STATE))
    # 20:30 in New York; the record says the person lives in Florida (ported mobile).
    args = ["--number", "+12125550142", "--at", "2026-12-02T01:30", "--campaign", "card-upgrade",
            "--state", str(state)]  # fmt: skip
    assert json.loads(run(*args).stdout)["allowed"] is True
    florida = json.loads(run(*args, "--subdivision", "fl").stdout)
    assert [r["rule"] for r in florida["reasons"]] == ["Florida (FTSA)"]
    pacific = json.loads(run(*args, "--zone", "America/Los_Angeles").stdout)
    assert pacific["allowed"] is True and "America/Los_Angeles" in pacific["local_times"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--campaign", "no-such-campaign"], "no campaign 'no-such-campaign'"),
        (["--campaign", "card-upgrade", "--state", "{bad}"], "not valid JSON"),
        (
            ["--campaign", "card-upgrade", "--state", '{"on_national_dnc": "maybe"}'],
            "on_national_dnc",
        ),
    ],
)
def test_a_campaign_or_state_it_cannot_read_is_exit_2_naming_why(tmp_path, args, said) -> None:
    if "--state" in args:
        state = tmp_path / "state.json"
        state.write_text(args[-1])
        args = [*args[:-1], str(state)]
    result = run("--number", "+13055550100", "--at", "2026-12-01T17:00", *args)
    assert result.exit_code == UNREADABLE
    assert said in result.stderr and "Traceback" not in result.output


def test_the_outbound_commands_have_help() -> None:
    for command in (["campaigns", "ingest"], ["compliance", "check"], ["dialer", "simulate"]):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_an_agentless_campaigns_concurrency_and_the_planned_handle_time_are_its_own() -> None:
    from chalicelib.dialer.schema import campaign_of
    from devkit.campaigns import CAMPAIGNS_DIR

    document = json.loads((CAMPAIGNS_DIR / "nps-survey.json").read_text())
    campaign = campaign_of(read_campaign({**document, "max_in_flight": 25, "handle_seconds": 240}))
    assert (campaign.max_in_flight, campaign.handle_seconds) == (25, 240)
    with pytest.raises(CampaignError, match="max_in_flight"):
        read_campaign({**document, "max_in_flight": 0})
