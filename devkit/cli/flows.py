"""`switchboard flows ...`: the flow designers' tools (validate, draw, simulate, test,
deploy, export, diff)."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from devkit.cli.common import (
    DEFAULT_CALLER,
    FLOWS_DIR,
    UNREADABLE,
    unreadable,
)


@click.group()
def flows() -> None:
    """Validate, draw and simulate Amazon Connect flows (flow language 2019-10-30)."""


def _flow_files(paths: tuple[Path, ...]) -> list[Path]:
    from flowlang.loader import flow_files
    from flowlang.model import FlowError

    try:
        return flow_files(list(paths) or [FLOWS_DIR])
    except FlowError as error:
        unreadable(error)


@flows.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    help="json: one object per finding, for CI.",
)
@click.option("--type", "flow_type", default="", help="Flow type when the file does not say.")
@click.option(
    "--stage", default="dev", show_default=True, help="Stage whose Lambda timeouts apply."
)
def validate(paths: tuple[Path, ...], output: str, flow_type: str, stage: str) -> None:
    """Check flows (files or folders, searched recursively; default: flows/), together: what
    a flow reads from $.External after a Transfer to flow is checked against its callers.

    Exit status 1 on any error in a flow, 2 if a file could not be read as a flow (the others
    are still checked) or nothing was found to check."""
    from devkit.catalogue import hook_catalogue
    from flowlang.loader import FlowDocument, read_file
    from flowlang.model import FlowError
    from flowlang.validate import Finding, Severity, validate_set

    started = time.perf_counter()
    documents: list[FlowDocument] = []
    findings: list[Finding] = []
    unreadable: list[FlowError] = []
    files = _flow_files(paths)
    for path in files:
        try:
            documents.append(read_file(path, flow_type))
        except FlowError as error:
            unreadable.append(error)
            findings.append(
                Finding(Severity.ERROR, "unreadable", str(path), "", "", "", str(error))
            )
    findings += validate_set(documents, hook_catalogue(stage))
    errors = sum(f.severity is Severity.ERROR for f in findings)
    if output == "json":
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for finding in findings:
            if finding.rule != "unreadable":
                click.echo(str(finding))
        click.echo(
            f"{len(files)} files, {errors} errors, {len(findings) - errors} warnings "
            f"({(time.perf_counter() - started) * 1000:.0f} ms)"
        )
    for problem in unreadable:
        click.echo(f"error: {problem}", err=True)
    sys.exit(UNREADABLE if unreadable else 1 if errors else 0)


def _read(path: Path, flow_type: str = "") -> Any:
    """The flow in PATH, or exit 2 saying why it cannot be read."""
    from flowlang.loader import read_file
    from flowlang.model import FlowError

    try:
        return read_file(path, flow_type)
    except FlowError as error:
        unreadable(error)


def _inputs(dtmf: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in dtmf.split(",") if key.strip())


def _loads(specs: tuple[str, ...]) -> dict[str, Any]:
    from devkit.harness import QueueLoadScript

    loads = {}
    for spec in specs:
        try:
            queue, numbers = spec.split("=", 1)
            waiting, available, staffed = (int(n) for n in numbers.split("/"))
        except ValueError:
            raise click.BadParameter(f"{spec!r}: use QUEUE=WAITING/AVAILABLE/STAFFED") from None
        loads[queue] = QueueLoadScript(waiting, available, staffed)
    return loads


def _play(
    flow: Path,
    caller: str | None,
    dtmf: str,
    at: datetime | None,
    load: tuple[str, ...],
    connect_failure: str,
    scenario: Path | None = None,
) -> Any:
    from devkit.harness import ScriptedCall, local_switchboard
    from devkit.scenario import ScenarioFile, load_scenario
    from flowlang.model import FlowError

    _read(flow)  # a file no command can read stops here, as it does everywhere
    try:
        world = load_scenario(scenario) if scenario else ScenarioFile()
    except FlowError as error:
        unreadable(error)
    number = caller if caller is not None else world.caller
    call = ScriptedCall(
        flow.name,
        (DEFAULT_CALLER if number is None else number) or None,
        at or world.at or datetime.now(UTC),
        _inputs(dtmf) or world.inputs,
        loads=_loads(load),
        connect_failure=connect_failure,
        attributes=dict(world.attributes),
    )
    with local_switchboard(flow, seeded_at=call.at) as switchboard:
        return call, switchboard.play(call, scenario=world.apply(switchboard.scenario))


_CALL_OPTIONS = [
    click.option(
        "--caller",
        default=None,
        help=f"The caller's number ('' for withheld); default {DEFAULT_CALLER}.",
    ),
    click.option("--dtmf", default="", help="Keys pressed at each prompt, e.g. 3,2468#,timeout"),
    click.option(
        "--at",
        type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M%z"]),
        help="When the call happens (UTC unless an offset is given); default now.",
    ),
    click.option(
        "--load",
        multiple=True,
        help="Queue load, e.g. billing=12/0/3 (waiting/available/staffed); repeatable.",
    ),
    click.option(
        "--connect-failure",
        default="",
        help="Make Connect's metrics API fail with this error code, e.g. ThrottlingException.",
    ),
    click.option(
        "--scenario",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A scenario file: other flows and modules, hours, queue metrics, Lex and "
        "Lambdas we do not own (see devkit/scenario.py).",
    ),
]


def _call_options(function: Any) -> Any:
    for option in reversed(_CALL_OPTIONS):
        function = option(function)
    return function


def _utc(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


@flows.command()
@click.argument("flow", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_call_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def simulate(
    flow: Path,
    caller: str | None,
    dtmf: str,
    at: datetime | None,
    load: tuple[str, ...],
    connect_failure: str,
    scenario: Path | None,
    as_json: bool,
) -> None:
    """Play one call through FLOW with our real hooks on an embedded local AWS."""
    from devkit.demo import print_transcript
    from flowlang.model import FlowError

    try:
        call, result = _play(flow, caller, dtmf, _utc(at), load, connect_failure, scenario)
    except FlowError as error:
        click.echo(f"simulation stopped: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": result.path,
                    "outcome": result.outcome.value if result.outcome else None,
                    "queue": result.queue,
                    "priority": result.priority,
                    "prompts": result.prompts(),
                    "attributes": result.attributes,
                    # Branches taken because the scenario or a mock said so, not the flow.
                    "decided_by_scenario": [
                        {"action": e.action_id, "why": e.text}
                        for e in result.events
                        if e.kind == "scenario"
                    ],
                },
                indent=2,
            )
        )
        return
    print_transcript(1, call, result)
    click.echo(
        f"outcome: {result.outcome.value if result.outcome else 'none'}"
        f"{' in ' + result.queue if result.queue else ''}; {len(result.path)} actions"
    )


@flows.command()
@click.argument("flow", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
)
@click.option(
    "--highlight", is_flag=True, help="Simulate a call (options below) and highlight its path."
)
@_call_options
def graph(
    flow: Path,
    output: str,
    highlight: bool,
    caller: str | None,
    dtmf: str,
    at: datetime | None,
    load: tuple[str, ...],
    connect_failure: str,
    scenario: Path | None,
) -> None:
    """Draw FLOW as Mermaid or Graphviz DOT, error branches dashed."""
    from flowlang.graph import to_dot, to_mermaid

    document = _read(flow)
    path: list[str] = []
    if highlight:
        path = _play(flow, caller, dtmf, _utc(at), load, connect_failure, scenario)[1].path
    draw = to_mermaid if output == "mermaid" else to_dot
    click.echo(draw(document.flow, path), nl=False)


@flows.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--flows-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=FLOWS_DIR,
    show_default=True,
    help="Where the flows under test live.",
)
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text")
def test_flows(paths: tuple[Path, ...], flows_dir: Path, output: str) -> None:
    """Run Connect testing-language cases (default: flows/tests/) offline, with coverage.

    Exit status 1 if a case fails or a flow's coverage is under the thresholds in
    pyproject.toml ([tool.switchboard.flow-tests]); 2 if a case or flow cannot be read or
    there is no case to run.
    """
    from devkit.flowtests import as_json, load_tests, run_tests, summary, thresholds
    from flowlang.model import FlowError

    try:
        tests = load_tests(list(paths) or [FLOWS_DIR / "tests"])
        reports, coverage = run_tests(tests, flows_dir)
    except FlowError as error:  # a test case or flow that cannot be read, or no test at all
        unreadable(error)
    lines, ok = summary(reports, coverage, thresholds())
    click.echo(
        json.dumps(as_json(reports, coverage), indent=2) if output == "json" else "\n".join(lines)
    )
    sys.exit(0 if ok else 1)


def _deployer(stage: str, flows_dir: Path) -> Any:
    import boto3

    from devkit.catalogue import hook_catalogue
    from devkit.deploy import Deployer

    return Deployer(boto3.client("connect"), stage, flows_dir, hook_catalogue(stage))


@flows.command()
@click.option("--stage", required=True, help="Chalice stage: its Lambdas and Connect instance.")
@click.option(
    "--flows-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=FLOWS_DIR,
    show_default=True,
)
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
def deploy(stage: str, flows_dir: Path, dry_run: bool) -> None:
    """Resolve placeholders for STAGE and create or update every flow by name."""
    from devkit.deploy import DeployError
    from flowlang.model import FlowError

    deployer = _deployer(stage, flows_dir)
    try:
        plan = deployer.plan()[0] if dry_run else deployer.apply()
    except DeployError as error:
        click.echo("\n".join(["deploy refused:", *error.problems]), err=True)
        sys.exit(1)
    except FlowError as error:  # read before anything is asked of Connect
        unreadable(error)
    click.echo("\n".join(plan.lines()))


@flows.command()
@click.option("--stage", required=True)
@click.option(
    "--name",
    "names",
    multiple=True,
    help="Flow or module name (repeatable); default: every flow already in the output folder.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=FLOWS_DIR,
    show_default=True,
)
def export(stage: str, names: tuple[str, ...], out_dir: Path) -> None:
    """Pull flows from STAGE's instance, ARNs turned back into placeholders."""
    from devkit.deploy import DeployError

    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        written = _deployer(stage, out_dir).export(list(names) or None, out_dir)
    except DeployError as error:
        click.echo("\n".join(error.problems), err=True)
        sys.exit(1)
    click.echo("\n".join(f"wrote {path}" for path in written))


@flows.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def diff(old: Path, new: Path) -> None:
    """What changed between two versions of a flow: actions added, removed, changed."""
    from flowlang.diff import diff_flows

    changes = diff_flows(_read(old).flow, _read(new).flow)
    click.echo("\n".join(str(c) for c in changes) if changes else "no changes")
