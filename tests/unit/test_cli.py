"""The `switchboard` command: exit codes, JSON for CI, drawings, a simulated call."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from devkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
INBOUND = str(ROOT / "flows" / "inbound-main.json")
REAL = ROOT / "tests" / "fixtures" / "real-flows"


def run(*args: str):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def test_every_subcommand_has_help() -> None:
    for command in (
        ["flows", "validate"],
        ["flows", "graph"],
        ["flows", "simulate"],
        ["rules", "check"],
        ["flows"],
        ["rules"],
        [],
    ):
        result = run(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_validate_passes_our_flows_and_reports_real_flow_warnings() -> None:
    ours = run("flows", "validate", INBOUND)
    assert ours.exit_code == 0 and "0 errors, 0 warnings" in ours.output
    real = run(
        "flows", "validate", str(REAL / "gitlab-cicd-terraform"), str(REAL / "outbound-call")
    )
    assert real.exit_code == 0 and "15 files, 0 errors, 3 warnings" in real.output
    assert "unrouted-error" in real.output


def test_validate_fails_with_json_findings_on_a_broken_flow(tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "Version": "2019-10-30",
                "StartAction": "x",
                "Actions": [
                    {
                        "Identifier": "x",
                        "Type": "InvokeExternalResource",
                        "Parameters": {},
                        "Transitions": {"NextAction": "gone"},
                    }
                ],
            }
        )
    )
    result = run("flows", "validate", "--format", "json", str(broken))
    assert result.exit_code == 1
    findings = json.loads(result.output)
    assert {f["rule"] for f in findings} >= {"unknown-action-type", "dangling-transition"}
    assert all(f["file"] == str(broken) and f["action_id"] == "x" for f in findings)


def test_unreadable_file_is_an_error_not_a_crash(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = run("flows", "validate", str(bad))
    # Issue 9 made an unreadable file exit 2 (was 1 with a "[load]" finding), as every
    # command now does: tests/unit/test_cli_files.py.
    assert (
        result.exit_code == 2 and "error: " in result.stderr and "not valid JSON" in result.stderr
    )


def test_graph_prints_mermaid_and_dot() -> None:
    assert run("flows", "graph", INBOUND).output.startswith("flowchart TD")
    assert run("flows", "graph", "--format", "dot", INBOUND).output.startswith("digraph")


def test_simulate_plays_a_call_with_our_hooks() -> None:
    result = run(
        "flows",
        "simulate",
        INBOUND,
        "--caller",
        "+14155550101",
        "--dtmf",
        "1",
        "--at",
        "2026-11-24T15:00",
        "--load",
        "vip=0/1/2",
        "--json",
    )
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert (outcome["outcome"], outcome["queue"], outcome["priority"]) == ("queued", "vip", 1)
    assert outcome["path"][:3] == ["logging", "greet", "identify"]


def test_simulate_rejects_a_malformed_load() -> None:
    result = run("flows", "simulate", INBOUND, "--load", "vip=lots")
    assert result.exit_code != 0 and "WAITING/AVAILABLE/STAFFED" in result.output


def test_the_complexity_gate_counts_boolean_operators_and_names_the_function(tmp_path) -> None:
    from devkit import complexity

    tangled = "def tangled(a, b, c, d):\n" + "".join(
        f"    if a{i} and b or c and d:\n        return {i}\n" for i in range(5)
    )
    module = tmp_path / "tangled.py"
    module.write_text(tangled)
    # 1 + five ifs, each with three boolean operators; mccabe would say 6
    assert complexity.too_complex((module,)) == ["tangled.py:1 tangled (21)"]
    assert complexity.too_complex() == []
