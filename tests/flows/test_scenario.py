"""Scenario files and the calendar behind *Check hours of operation*."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from devkit.cli import main
from devkit.scenario import load_scenario
from flowlang.model import FlowError, load_flow
from flowlang.simulator import Caller, Simulator
from tests.flowparts import REAL_FLOWS_DIR

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "outbound-call.scenario.json"
OUTBOUND = REAL_FLOWS_DIR / "outbound-call" / "OutboundCallFlow.json"

HOURS_FLOW = load_flow(
    {
        "Version": "2019-10-30",
        "StartAction": "hours",
        "Actions": [
            {
                "Identifier": "hours",
                "Type": "CheckHoursOfOperation",
                "Parameters": {"HoursOfOperationId": "{{hours:support}}"},
                "Transitions": {
                    "Conditions": [
                        {
                            "NextAction": "open",
                            "Condition": {"Operator": "Equals", "Operands": ["True"]},
                        },
                        {
                            "NextAction": "closed",
                            "Condition": {"Operator": "Equals", "Operands": ["False"]},
                        },
                    ],
                    "Errors": [{"NextAction": "closed", "ErrorType": "NoMatchingError"}],
                },
            },
            {
                "Identifier": "open",
                "Type": "MessageParticipant",
                "Parameters": {"Text": "open"},
                "Transitions": {"NextAction": "end"},
            },
            {
                "Identifier": "closed",
                "Type": "MessageParticipant",
                "Parameters": {"Text": "closed"},
                "Transitions": {"NextAction": "end"},
            },
            {"Identifier": "end", "Type": "DisconnectParticipant", "Transitions": {}},
        ],
    }
)


def write(tmp_path: Path, scenario: dict) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    return path


@pytest.mark.parametrize(
    ("at", "heard"),
    [
        ("2026-11-24T10:00:00Z", "open"),
        ("2026-11-24T18:30:00Z", "closed"),
        ("2026-12-25T10:00:00Z", "closed"),
    ],
)
def test_check_hours_uses_the_scenario_calendar_at_the_call_time(tmp_path, at, heard) -> None:
    world = load_scenario(
        write(
            tmp_path,
            {
                "at": at,
                "hours": {
                    "support": {
                        "timezone": "Europe/London",
                        "weekly": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                        "holidays": ["2026-12-25"],
                    }
                },
            },
        )
    )
    result = Simulator(HOURS_FLOW, {}, world.apply(Simulator(HOURS_FLOW, {}).scenario)).run(
        Caller("+1")
    )
    assert result.prompts() == [heard]
    assert world.at == datetime.fromisoformat(at).astimezone(UTC)


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"colour": "blue"}, "unknown keys colour"),
        ({"flows": {"x": "missing.json"}}, "does not exist"),
        ({"hours": {"support": {"timezone": "Nowhere/Else"}}}, "unknown timezone"),
    ],
)
def test_bad_scenarios_say_what_is_wrong(tmp_path, scenario, message) -> None:
    with pytest.raises(FlowError, match=message):
        load_scenario(write(tmp_path, scenario))


def test_the_example_scenario_plays_the_real_outbound_flow_to_the_end() -> None:
    result = CliRunner().invoke(
        main, ["flows", "simulate", str(OUTBOUND), "--scenario", str(EXAMPLE), "--json"]
    )
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["outcome"] == "disconnected"
    assert "Update Complete Status" in outcome["path"]
    assert any("Thank you for confirming" in p for p in outcome["prompts"])


def test_a_flow_the_simulator_cannot_finish_stops_with_a_clear_message(tmp_path) -> None:
    result = CliRunner().invoke(main, ["flows", "simulate", str(OUTBOUND), "--json"])
    assert result.exit_code == 1
    assert "simulation stopped" in result.output and "Initialize Call" in result.output


def test_every_structural_problem_of_a_scenario_is_named_at_once(tmp_path) -> None:
    scenario = {
        "at": "yesterday",
        "hours": {"main": "open", "support": {"timezone": 1}},
        "queues": {"billing": {"metrics": {"CONTACTS_IN_QUEUE": "3"}, "busy": True}},
        "third_party_answers": "yes",
        "colour": "blue",
    }
    with pytest.raises(FlowError) as error:
        load_scenario(write(tmp_path, scenario))
    assert str(error.value).split(": ", 1)[1].split("; ") == [
        "at 'yesterday' is not an ISO 8601 time",
        "hours.main must be an object",
        "hours.support.timezone must be a string",
        "queues.billing.metrics.CONTACTS_IN_QUEUE must be a number",
        "queues.billing: unknown keys busy",
        "third_party_answers must be true or false",
        "unknown keys colour",
    ]
