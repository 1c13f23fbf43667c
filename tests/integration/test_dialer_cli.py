"""`switchboard campaigns put` and `switchboard campaigns report` against the stage's dialer
table (moto, from infra/template.yaml)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from chalicelib.dialer.contacts import Contact
from devkit.cli import main
from tests.integration.conftest import NOW


def run(*args: str):
    return CliRunner().invoke(main, ["campaigns", *args])


def test_a_campaign_is_stored_then_reported(tables) -> None:
    from chalicelib.dialer.store import DynamoDialLedger

    stored = run("put", "nps-survey", "--stage", "dev")
    assert stored.exit_code == 0 and "nps-survey: stored for dev" in stored.output
    DynamoDialLedger().add("nps-survey", [Contact(2, "+12125550143", ("America/New_York",))], NOW)

    as_json = run("report", "nps-survey", "--json")
    table = run("report", "nps-survey")

    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert (report["campaign"], report["records"], report["nps"]) == (
        "nps-survey",
        {"READY": 1},
        None,
    )
    assert report["abandoned"] == {
        "campaign_to_date": 0,
        "rate_campaign_to_date": 0.0,
        "rolling_30_days": 0,
        "rate_rolling_30_days": 0.0,
    }
    assert table.exit_code == 0 and "right-party contacts" in table.output


def test_every_campaign_is_paused_at_once_and_resumed(tables) -> None:
    from chalicelib.dialer.store import DynamoCampaigns

    for name in ("nps-survey", "card-upgrade"):
        assert run("put", name, "--stage", "dev").exit_code == 0
    paused = run("pause", "--all", "--stage", "dev")
    assert paused.exit_code == 0, paused.output
    assert sorted(paused.output.splitlines()) == [
        "card-upgrade: paused in dev",
        "nps-survey: paused in dev",
    ]
    assert all(c.paused for c in DynamoCampaigns().all())
    resumed = run("pause", "card-upgrade", "--resume", "--stage", "dev")
    assert resumed.output == "card-upgrade: resumed in dev\n"
    assert {c.name: c.paused for c in DynamoCampaigns().all()} == {
        "card-upgrade": False,
        "nps-survey": True,
    }
    unknown = run("pause", "nps-survey", "nope", "--stage", "dev")
    assert unknown.exit_code == 2 and "no campaign 'nope' in dev" in unknown.output
    assert "nps-survey: paused in dev" in unknown.output  # the others still paused
    assert run("pause", "--stage", "dev").exit_code == 2  # nothing named
    assert run("pause", "nps-survey", "--all", "--stage", "dev").exit_code == 2


def test_an_unknown_or_unreadable_campaign_exits_2(tables, tmp_path) -> None:
    assert run("report", "nope").exit_code == 2
    (tmp_path / "broken.json").write_text('{"name": "broken", "mode": "blaster"}')
    broken = run("put", "broken", "--campaigns-dir", str(tmp_path))
    assert broken.exit_code == 2 and "mode" in broken.output


def test_a_registry_copy_is_loaded_numbers_first_then_its_date(tables, tmp_path) -> None:
    from chalicelib.dialer.store import DynamoRecipients

    copy = tmp_path / "ndnc.txt"
    copy.write_text("+12125550143\n(212) 555-0144\n\nnot a number\n")
    run = CliRunner().invoke(
        main, ["compliance", "load-registry", str(copy), "--taken-on", "2026-11-20"]
    )
    assert run.exit_code == 1 and f"{copy}:4: not a phone number" in run.output
    assert "2 numbers loaded for dev, copy taken 2026-11-20; 1 lines skipped" in run.output
    seen = DynamoRecipients().read("+12125550144").recipient
    assert seen.on_national_dnc and seen.national_dnc_copy_at.date().isoformat() == "2026-11-20"
    assert not DynamoRecipients().read("+12125550145").recipient.on_national_dnc
