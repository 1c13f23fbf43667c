"""`switchboard qa rubric put`, `qa report` and `qa warnings` against the stage's QA table
(moto, from infra/template.yaml)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from chalicelib.platform.clock import FixedClock
from chalicelib.qa.records import ContactSeen, iso_week
from devkit.analyses import analysis_key, voice_analysis
from devkit.cli import main
from tests.integration.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
WEEK = iso_week(NOW)


def run(*args: str):
    return CliRunner().invoke(main, ["qa", *args])


def _scored(contacts: int) -> None:
    """Contacts of agent-7 in queue care, scored by the stored rubrics, through the service's
    own writes (the in-memory parts are the file and who handled it)."""
    from chalicelib.qa.service import ReviewQueue
    from chalicelib.qa.store import DynamoQaRecords, DynamoRubrics
    from devkit.fakes.qa import qa_world

    world = qa_world(FixedClock(NOW))
    service = world.service
    service.records, service.rubrics = DynamoQaRecords(), DynamoRubrics()
    service.reviews = ReviewQueue(world.reviews, service.clock)
    for n in range(contacts):
        contact = f"cli-{n}"
        ended = NOW - timedelta(minutes=5)
        service.take(ContactSeen(contact, ended, "agent-7", "care", ended))
        key = analysis_key(contact)
        text = voice_analysis([("AGENT", "Hello, how can I help?"), ("CUSTOMER", "A question.")])
        world.files.files[key] = (text.encode(), NOW)
        service.take_file(key)


def test_a_rubric_is_stored_and_the_agents_week_reported(tables) -> None:
    stored = run("rubric", "put", str(ROOT / "rubrics" / "collections.json"), "--queue", "care")
    assert stored.exit_code == 0, stored.output
    assert "collections v1: stored for dev, scores care" in stored.output
    _scored(3)

    as_json = run("report", "--agent", "agent-7", "--week", WEEK, "--json")
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert (report["who"], report["contacts"], report["automatic_fails"]) == ("agent-7", 3, 3)
    most = report["by_rubric"]["collections v1"]["most_failed"]
    assert most[0] == {"question": "mini-miranda", "failed": 3, "of": 3}
    table = run("report", "--queue", "care", "--week", WEEK)
    assert table.exit_code == 0 and "mini-miranda (3/3)" in table.output
    empty = run("report", "--agent", "nobody", "--week", WEEK, "--json")
    assert empty.exit_code == 0 and json.loads(empty.output)["contacts"] == 0


def test_bad_choices_exit_2_naming_them(tables, tmp_path) -> None:
    assert "--week 'week 49'" in run("report", "--agent", "a", "--week", "week 49").output
    assert run("report", "--agent", "a", "--week", "2026-W60").exit_code == 2
    both = run("report", "--agent", "a", "--queue", "q", "--week", WEEK)
    assert both.exit_code == 2 and "one of --agent" in both.output
    assert run("report", "--week", WEEK).exit_code == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"Name": "broken"}')
    refused = run("rubric", "put", str(broken))
    assert refused.exit_code == 2 and "Title" in refused.output


def test_calibration_of_a_week_with_none_says_so(tables) -> None:
    quiet = run("calibration", "--week", WEEK)
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.output) == {
        "week": WEEK, "reviewers": [], "contacts": 0, "kappa": {},
        "total_mean_abs_difference": None,
    }  # fmt: skip
    assert run("calibration", "--week", "49").exit_code == 2


def test_warnings_lists_what_was_raised_in_the_window(tables) -> None:
    from chalicelib.qa.store import DynamoReasonCounts

    now = datetime.now(UTC)
    recent = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    counts = DynamoReasonCounts()
    counts.first_alert("billing", "Complaint", recent)
    counts.first_alert("care", "Fraud", recent - timedelta(days=3))
    listed = run("warnings", "--json")
    assert listed.exit_code == 0
    assert [(w["scope"], w["reason"]) for w in json.loads(listed.output)] == [
        ("billing", "Complaint")
    ]
    table = run("warnings", "--hours", "96")
    assert table.exit_code == 0 and "Fraud" in table.output and "Complaint" in table.output
