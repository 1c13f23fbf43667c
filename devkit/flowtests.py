"""`switchboard flows test`: Connect testing-language cases, run offline on the simulator with
our real hooks, an embedded local AWS and the scenario in each case's `Metadata.switchboard`."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devkit.harness import QueueLoadScript, ScriptedCall, Switchboard, local_switchboard
from devkit.local_aws import ROOT
from flowlang.coverage import CoverageTracker, FlowCoverage
from flowlang.loader import NoFlowsError, flow_files, read_file
from flowlang.model import Flow, FlowError
from flowlang.placeholders import placeholder_name
from flowlang.testing import TestCase, TestReport, TestRunner, load_test_case

DEFAULT_AT = "2026-11-24T15:00:00+00:00"  # a Tuesday, 10:00 in New York: the centre is open
TEST_PIN_COST = 2**4


@dataclass(frozen=True)
class Thresholds:
    actions: float
    branches: float


def thresholds(pyproject: Path = ROOT / "pyproject.toml") -> Thresholds:
    config = tomllib.loads(pyproject.read_text())["tool"]["switchboard"]["flow-tests"]
    return Thresholds(float(config["min_action_coverage"]), float(config["min_branch_coverage"]))


def load_flows(folder: Path) -> dict[str, Flow]:
    """Every flow in the folder, by file stem and by its own name."""
    flows: dict[str, Flow] = {}
    for path in flow_files([folder]):
        flows[path.stem] = replace(read_file(path).flow, name=path.stem)
    return flows


def load_tests(paths: list[Path]) -> list[TestCase]:
    tests = []
    for path in paths:
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        tests += [load_test_case(_json(f), str(f)) for f in files]
    if not tests:
        raise NoFlowsError(f"{', '.join(map(str, paths))}: no test cases here (*.json)")
    return tests


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FlowError(f"{path}: not valid JSON: {error}") from None


def _entry(test: TestCase, flows: Mapping[str, Flow]) -> Flow:
    name = placeholder_name(test.flow, "flow") or test.flow
    if name not in flows:
        raise FlowError(f"{test.source}: EntryPoint FlowId {test.flow!r} is not a flow in flows/")
    return flows[name]


def _call(test: TestCase) -> ScriptedCall:
    offline = test.offline
    loads = {
        queue: QueueLoadScript(*numbers) for queue, numbers in offline.get("loads", {}).items()
    }
    return ScriptedCall(
        test.name,
        test.caller or None,
        datetime.fromisoformat(offline.get("at", DEFAULT_AT)).astimezone(UTC),
        loads=loads,
        connect_failure=offline.get("connect_failure", ""),
        attributes=dict(test.attributes),
    )


def _seed_callbacks(callbacks: list[dict[str, str]]) -> None:
    """Callbacks already waiting when the test call comes in (`Metadata.switchboard`)."""
    from chalicelib.callbacks import handlers as callbacks_handlers

    for callback in callbacks:
        callbacks_handlers.served().request(callback["number"], callback["queue"], source="test")


def _run_one(
    switchboard: Switchboard, test: TestCase, flows: Mapping[str, Flow], tracker: CoverageTracker
) -> TestReport:
    runner = TestRunner(test)
    try:
        call = _call(test)
        switchboard.clock.set(call.at)
        switchboard.reset_data(TEST_PIN_COST)
        offline = test.offline
        _seed_callbacks(offline.get("callbacks", []))
        scenario = replace(
            switchboard.scenario,
            flows=flows,
            hours_open=offline.get("hours_open", {}),
            lex_intents=offline.get("lex_intents", {}),
            lambda_responses=offline.get("lambda_responses", {}),
            # A queue flow's case says which queue the contact waits in and when an agent
            # takes it (the testing language has no word for either).
            queue=str(offline.get("queue", "")),
            agent_answers_after_seconds=offline.get("agent_answers_after_seconds"),
        )
        result = switchboard.play(call, _entry(test, flows), scenario, runner)
    except (FlowError, ValueError, KeyError) as error:
        return runner.report([], f"{type(error).__name__}: {error}")
    tracker.record(result.steps, result.edges)
    return runner.report(result.path)


def run_tests(
    tests: list[TestCase], flows_dir: Path
) -> tuple[list[TestReport], list[FlowCoverage]]:
    flows = load_flows(flows_dir)
    tracker = CoverageTracker(flows)
    with local_switchboard(pin_cost=TEST_PIN_COST) as switchboard:
        reports = [_run_one(switchboard, test, flows, tracker) for test in tests]
    tested = sorted({name for name, _ in tracker.steps})
    return reports, [tracker.coverage(name) for name in tested]


def summary(
    reports: list[TestReport], coverage: list[FlowCoverage], limits: Thresholds
) -> tuple[list[str], bool]:
    lines: list[str] = []
    ok = True
    for report in reports:
        ok &= report.passed
        lines.append(
            f"{'PASS' if report.passed else 'FAIL'} {report.test.name} ({report.test.source})"
        )
        for result in report.results.values():
            detail = "; ".join(result.failures)
            lines.append(
                f"  {result.status:<11} {result.identifier}{': ' + detail if detail else ''}"
            )
        for waiting in report.waiting_for:
            lines.append(f"  missing     {waiting}: never observed before the call ended")
        if report.error:
            lines.append(f"  error       {report.error}")
        for log in report.logs:
            lines.append(f"  log         {json.dumps(log)}")
        lines.append(f"  path: {' > '.join(report.path)}")
    for flow in coverage:
        below = flow.action_percent < limits.actions or flow.branch_percent < limits.branches
        ok &= not below
        lines.append(
            f"coverage {flow.flow}: actions {flow.actions_hit}/{flow.actions} "
            f"({flow.action_percent:.0f}%), branches {flow.branches_hit}/{flow.branches} "
            f"({flow.branch_percent:.0f}%){'  BELOW THRESHOLD' if below else ''}"
        )
        if flow.missed_actions:
            lines.append(f"  never reached: {', '.join(flow.missed_actions)}")
    passed = sum(r.passed for r in reports)
    lines.append(f"{passed} passed, {len(reports) - passed} failed")
    return lines, ok


def as_json(reports: list[TestReport], coverage: list[FlowCoverage]) -> dict[str, Any]:
    return {
        "tests": [
            {
                "name": r.test.name,
                "file": r.test.source,
                "passed": r.passed,
                "observations": {
                    i: {"status": o.status, "failures": o.failures} for i, o in r.results.items()
                },
                "missing": r.waiting_for,
                "error": r.error,
                "path": r.path,
            }
            for r in reports
        ],
        "coverage": [
            {
                "flow": c.flow,
                "actions": c.action_percent,
                "branches": c.branch_percent,
                "never_reached": list(c.missed_actions),
            }
            for c in coverage
        ],
    }
