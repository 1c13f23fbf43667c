"""`switchboard`: the command line for flow designers and ops.

switchboard flows validate [PATHS]...   check flows before Connect does
switchboard flows graph FLOW            draw a flow (Mermaid or DOT)
switchboard flows simulate FLOW         play one call through a flow, offline
switchboard flows test [PATHS]...       run testing-language cases offline
switchboard flows deploy --stage S      create or update every flow in Connect
switchboard rules check [PATH]          check the routing rules
switchboard campaigns ingest LIST --campaign C       add a contact list, row by row
switchboard campaigns pause --all --stage S          stop every campaign dialling at once
switchboard compliance check --number N --at T --campaign C   may we call, and why not
switchboard dialer simulate --mode M --agents N ...  a day of dialling, simulated

Exit status: 0 all well; 1 the flows have errors (or a test failed); 2 a file or folder could
not be read as flows (not JSON, legacy, neither flow nor wrapper, nothing found), said as
`error: <file>: <why>` on standard error by every command alike.
switchboard caller-key rotate --stage S  a new caller-key secret (old ones stay readable)
switchboard caller-key retire --stage S  drop the old secrets once the repeat window passed
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import click

from devkit.local_aws import ROOT

FLOWS_DIR = ROOT / "flows"
DEFAULT_CALLER = "+14155550101"
UNREADABLE = 2  # exit status when a file or folder cannot be read as flows


def _unreadable(error: Exception | str) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    sys.exit(UNREADABLE)


@click.group()
def main() -> None:
    """Switchboard: offline tools for Amazon Connect flows and the hooks behind them."""


@main.group()
def flows() -> None:
    """Validate, draw and simulate Amazon Connect flows (flow language 2019-10-30)."""


def _flow_files(paths: tuple[Path, ...]) -> list[Path]:
    from flowlang.loader import flow_files
    from flowlang.model import FlowError

    try:
        return flow_files(list(paths) or [FLOWS_DIR])
    except FlowError as error:
        _unreadable(error)


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
        _unreadable(error)


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
        _unreadable(error)
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
        _unreadable(error)
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
        _unreadable(error)
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


@main.group()
def campaigns() -> None:
    """Outbound campaigns (campaigns/*.json) and their contact lists."""


@campaigns.command("ingest")
@click.argument("contact_list", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", required=True, help="A campaign in campaigns/ (its file name).")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["auto", "csv", "jsonl"]),
    default="auto",
    show_default=True,
    help="auto: .jsonl/.ndjson is JSON Lines, anything else CSV (`,`, `;` or tab).",
)
@click.option("--region", default="US", show_default=True, help="For numbers without +.")
@click.option("--stage", default="dev", show_default=True, help="Whose dialer table to add to.")
@click.option("--check", is_flag=True, help="Read and report only; add nothing.")
@click.option(
    "--campaigns-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT / "campaigns",
)
def ingest_list(
    contact_list: Path,
    campaign: str,
    kind: str,
    region: str,
    stage: str,
    check: bool,
    campaigns_dir: Path,
) -> None:
    """Add a contact list's good rows to a campaign, streamed; report each bad row.

    Exit status: 0 every row was good; 1 some rows were rejected (the good ones were added);
    2 the list or the campaign cannot be read (nothing was added).
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from chalicelib.dialer.contacts import ListError, kind_of, read_contacts
    from chalicelib.dialer.service import ingest
    from devkit.campaigns import UnreadableError, check_utf8, load_campaign

    try:
        name = load_campaign(campaign, campaigns_dir).name
        check_utf8(contact_list)
    except UnreadableError as error:
        _unreadable(error)
    book = _contact_book(stage, check)
    with (
        contact_list.open(encoding="utf-8-sig", newline="") as stream,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            transient=True,
            console=_stderr(),
        ) as progress,  # fmt: skip
    ):
        rows = progress.add_task("ingest")
        try:
            reads = read_contacts(
                stream, kind_of(contact_list.name) if kind == "auto" else kind, region
            )
            report = ingest(
                reads, book, name, datetime.now(UTC), lambda n: progress.advance(rows, n)
            )
        except ListError as error:
            _unreadable(f"{contact_list}: {error}")
    for problem in report.problems:
        click.echo(f"{contact_list}: {problem}")
    if report.rejected > len(report.problems):
        click.echo(f"... and {report.rejected - len(report.problems):,} more rejected rows")
    by_reason = ", ".join(
        f"{reason} {count:,}" for reason, count in report.problem_counts.most_common()
    )
    click.echo(
        f"{report.rows:,} rows: {report.added:,} added to {name}"
        f"{' (checked only, nothing written)' if check else ''}, "
        f"{report.already_in_campaign:,} already in it, {report.rejected:,} rejected"
        + (f" ({by_reason})" if by_reason else "")
    )
    sys.exit(1 if report.rejected else 0)


@campaigns.command("put")
@click.argument("campaign")
@click.option("--stage", default="dev", show_default=True, help="Whose dialer table to write.")
@click.option(
    "--campaigns-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT / "campaigns",
)
def put_campaign(campaign: str, stage: str, campaigns_dir: Path) -> None:
    """Check campaigns/CAMPAIGN.json and store it for the stage's dialer (create or replace).

    Exit status: 0 stored; 2 the campaign cannot be read (nothing was stored).
    """
    from devkit.campaigns import UnreadableError, load_campaign

    try:
        document = load_campaign(campaign, campaigns_dir)
    except UnreadableError as error:
        _unreadable(error)
    _use_stage(stage)
    from chalicelib.dialer.store import DynamoCampaigns

    DynamoCampaigns().put(document.model_dump_json(), datetime.now(UTC))
    click.echo(f"{document.name}: stored for {stage} ({document.mode}, {document.purpose})")


@campaigns.command("pause")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every campaign the stage has.")
@click.option("--resume", is_flag=True, help="Resume them instead.")
@click.option("--stage", required=True, help="Whose dialer table to write.")
def pause_campaigns(names: tuple[str, ...], every: bool, resume: bool, stage: str) -> None:
    """Pause campaigns (or, with --resume, resume them): the next run of the dialer dials
    none of their records; calls already placed end as they would. The HTTP API does one
    campaign (POST /campaigns/NAME/pause); this stops them all at once.

    Exit status: 0 each one paused (or resumed); 2 nothing named, or a name that is no
    campaign (the others were still paused).
    """
    if bool(names) == every:
        _unreadable("name the campaigns, or say --all (not both)")
    _use_stage(stage)
    from chalicelib.dialer.store import DynamoCampaigns

    store = DynamoCampaigns()
    chosen = [c.name for c in store.all()] if every else list(names)
    now = datetime.now(UTC)
    unknown = [name for name in chosen if store.set_paused(name, not resume, now) is None]
    for name in chosen:
        if name not in unknown:
            click.echo(f"{name}: {'resumed' if resume else 'paused'} in {stage}")
    if unknown:
        _unreadable(f"no campaign {', '.join(map(repr, unknown))} in {stage}")


@campaigns.command("report")
@click.argument("name")
@click.option("--stage", default="dev", show_default=True, help="Whose dialer table to read.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def campaign_report_command(name: str, stage: str, as_json: bool) -> None:
    """Where a campaign stands: dialled, connected, right-party contacts, abandoned (to date
    and over the rolling 30 days the 3 % rule uses), dispositions, NPS and its records.

    Exit status: 0 the report; 2 there is no such campaign.
    """
    _use_stage(stage)
    from chalicelib.dialer.service import campaign_report
    from chalicelib.dialer.store import DynamoCampaigns, DynamoDialLedger

    report = campaign_report(DynamoCampaigns(), DynamoDialLedger(), name, datetime.now(UTC))
    if report is None:
        _unreadable(f"no campaign {name!r} in {stage} (store it: switchboard campaigns put)")
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    from devkit.campaigns import report_table

    _stdout().print(report_table(report.as_dict()))


def _use_stage(stage: str) -> None:
    import os

    from devkit.deploy import deployed_environment

    for variable, value in deployed_environment(stage).items():
        os.environ.setdefault(variable, value)


def _stdout() -> Any:
    from rich.console import Console

    return Console()


def _contact_book(stage: str, check: bool) -> Any:
    if check:
        from chalicelib.dialer.service import CheckOnly

        return CheckOnly()
    _use_stage(stage)
    from chalicelib.dialer.store import DynamoDialLedger

    return DynamoDialLedger()


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@main.group()
def dialer() -> None:
    """Outbound pacing: how many calls to place for the agents on the floor."""


@dialer.command("simulate")
@click.option("--mode", type=click.Choice(["progressive", "predictive", "oracle"]), required=True)
@click.option("--agents", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option(
    "--answer-rate", type=click.FloatRange(0.01, 1.0), default=0.25, show_default=True,
    help="Share of dials a live person answers.",
)  # fmt: skip
@click.option("--aht", type=click.FloatRange(10, 3600), default=180, show_default=True,
              help="Mean talk time, seconds (lognormal).")  # fmt: skip
@click.option("--hours", type=click.FloatRange(0.1, 24), default=8, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def simulate_dialling(
    mode: str, agents: int, answer_rate: float, aht: float, hours: float, seed: int, as_json: bool
) -> None:
    """A day of dialling in a discrete-event simulation (devkit/dialer_sim.py has the model):
    occupancy, abandonment rate, contacts per agent-hour."""
    from rich.console import Console
    from rich.table import Table

    from devkit.dialer_sim import Day, simulate

    day = Day(agents=agents, answer_rate=answer_rate, aht_seconds=aht, hours=hours, seed=seed)
    result = simulate(day, mode)
    figures = {
        "mode": mode,
        "dials": result.dials,
        "answered": result.answered,
        "connected": result.connected,
        "abandoned": result.abandoned,
        "occupancy": round(result.occupancy, 4),
        "abandonment_rate": round(result.abandonment, 4),
        "contacts_per_agent_hour": round(result.contacts_per_agent_hour, 2),
    }
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    table = Table(title=f"{mode}: {agents} agents, {hours:g} h, answer rate {answer_rate:.0%}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("talk-time occupancy", f"{result.occupancy:.1%}")
    table.add_row("abandonment (of answered)", f"{result.abandonment:.2%}")
    table.add_row("contacts per agent-hour", f"{result.contacts_per_agent_hour:.1f}")
    table.add_row("dials / answered / connected", f"{result.dials:,} / {result.answered:,} / "
                  f"{result.connected:,}")  # fmt: skip
    Console().print(table)


@main.group()
def compliance() -> None:
    """Outbound calling rules: windows, do-not-call lists, consent, frequency caps."""


@compliance.command("load-registry")
@click.argument("numbers", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--taken-on",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the registry copy was downloaded: marketing calls stop 31 days after it.",
)
@click.option("--stage", default="dev", show_default=True, help="Whose dialer table to load.")
@click.option("--region", default="US", show_default=True, help="For numbers without +.")
def load_registry(numbers: Path, taken_on: datetime, stage: str, region: str) -> None:
    """Load a national do-not-call registry copy: one number a line, streamed.

    The numbers are written first and the copy's date last, so a half-loaded copy is never
    taken for a fresh one. Exit status: 0 loaded; 1 loaded, some lines were not numbers
    (each listed); 2 the file cannot be read (nothing written).
    """
    from collections.abc import Iterator

    from chalicelib.platform.phone import parse_for_dialling
    from devkit.campaigns import UnreadableError, check_utf8

    try:
        check_utf8(numbers)
    except UnreadableError as error:
        _unreadable(error)
    _use_stage(stage)
    from chalicelib.dialer.store import DynamoRegistry

    bad: list[int] = []

    def valid() -> Iterator[str]:
        with numbers.open(encoding="utf-8-sig") as lines:
            for row, line in enumerate(lines, start=1):
                if line.strip():
                    found = parse_for_dialling(line.strip(), region)
                    if found is None:
                        bad.append(row)
                    else:
                        yield found.e164

    taken_at = taken_on.replace(tzinfo=UTC)
    loaded = DynamoRegistry().load(valid(), taken_at)
    for row in bad[:100]:
        click.echo(f"{numbers}:{row}: not a phone number")
    summary = f"{loaded:,} numbers loaded for {stage}, copy taken {taken_at:%Y-%m-%d}"
    click.echo(f"{summary}; {len(bad):,} lines skipped")
    sys.exit(1 if bad else 0)


@compliance.command("check")
@click.option("--number", required=True, help="The number to call, E.164 (+13055550100).")
@click.option(
    "--at",
    "at",
    required=True,
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M%z"]),
    help="When the call would be placed (UTC unless an offset is given).",
)
@click.option("--campaign", required=True, help="A campaign in campaigns/ (its file name).")
@click.option(
    "--state",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="What we know of the person (JSON: lists, consent, past calls; docs/dialer.md). "
    "Without it: nothing, so marketing is refused for want of a DNC registry copy.",
)
@click.option("--zone", default="", help="A time zone the contact record states.")
@click.option("--subdivision", default="", help="A state the contact record states (FL).")
@click.option(
    "--campaigns-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=ROOT / "campaigns",
    show_default=True,
)
def check_compliance(
    number: str,
    at: datetime,
    campaign: str,
    state: Path | None,
    zone: str,
    subdivision: str,
    campaigns_dir: Path,
) -> None:
    """A JSON verdict: {"allowed": bool, "reasons": [...], "local_times": {...}}. Exit 0
    whether the call is allowed or not; 2 if the campaign or state cannot be read."""
    from devkit.campaigns import UnreadableError, load_campaign, load_state, verdict

    try:
        answer = verdict(
            number, at, load_campaign(campaign, campaigns_dir), load_state(state), zone, subdivision
        )
    except UnreadableError as error:
        _unreadable(error)
    click.echo(json.dumps(answer, indent=2))


@main.group()
def rules() -> None:
    """Routing rules (chalicelib/ivr/routing_rules.json)."""


@rules.command("check")
@click.argument(
    "path", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.pass_context
def check_rules(context: click.Context, path: Path | None) -> None:
    """Validate the routing rules and list them in the order they are tried."""
    from devkit.rules import main as rules_main

    context.invoke(rules_main, path=path or rules_main.params[0].default)


@main.group()
def qa() -> None:
    """After-call QA: rubrics, and contacts scored against them (docs/qa.md)."""


def _rubric(path: Path) -> Any:
    from chalicelib.qa.schema import RubricError, read_rubric

    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        _unreadable(f"{path}: not valid JSON: {error}")
    try:
        return read_rubric(raw)
    except RubricError as error:
        _unreadable(f"{path}: " + "; ".join(error.problems))


@qa.command("score")
@click.argument("analysis", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rubric",
    "rubric_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The rubric (rubrics/*.json).",
)
def qa_score(analysis: Path, rubric_path: Path) -> None:
    """Score a Contact Lens analysis file against a rubric; the scorecard as JSON.

    Exit status: 0 scored (whatever the score); 2 the analysis or the rubric cannot be read,
    with a message that names the file, the position and why.
    """
    from chalicelib.qa.analysis import AnalysisError, read_analysis
    from chalicelib.qa.model import score, scorecard_dict

    rubric = _rubric(rubric_path)
    contact_id = analysis.name.split("_analysis", 1)[0] if "_analysis" in analysis.name else ""
    try:
        conversation = read_analysis(analysis.read_bytes(), str(analysis), contact_id)
    except AnalysisError as error:
        _unreadable(error)
    click.echo(json.dumps(scorecard_dict(score(rubric, conversation)), indent=2))


@qa.group("rubric")
def qa_rubric() -> None:
    """Rubrics in the shape of Contact Lens evaluation forms."""


@qa_rubric.command("check")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def qa_rubric_check(paths: tuple[Path, ...]) -> None:
    """Check rubrics: keys, types, options the automation names, weights that add up.

    Exit status: 0 every rubric is good; 2 one cannot be used (each problem names its item).
    """
    for path in paths:
        rubric = _rubric(path)
        questions = rubric.questions()
        automated = sum(1 for q in questions if q.rules or q.metric)
        click.echo(
            f"{path}: {rubric.name} v{rubric.version}, {rubric.mode.value}, "
            f"{len(rubric.sections)} sections, {len(questions)} questions "
            f"({automated} answered automatically)"
        )


@qa_rubric.command("put")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--queue",
    "queues",
    multiple=True,
    default=("*",),
    show_default=True,
    help="A queue whose contacts it scores (repeat; * for every queue no rubric names).",
)
@click.option("--stage", default="dev", show_default=True, help="Whose QA table to write.")
def qa_rubric_put(path: Path, queues: tuple[str, ...], stage: str) -> None:
    """Check a rubric and store it for the stage's QA (create or replace); contacts of its
    queues are scored with it from the next minute on.

    Exit status: 0 stored; 2 the rubric cannot be used (nothing was stored).
    """
    rubric = _rubric(path)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    _use_stage(stage)
    from chalicelib.qa.store import DynamoRubrics

    DynamoRubrics().put(document, queues, datetime.now(UTC))
    click.echo(f"{rubric.name} v{rubric.version}: stored for {stage}, scores {', '.join(queues)}")


def _check_week(week: str) -> None:
    from chalicelib.qa.records import is_week

    if not is_week(week):
        _unreadable(f"--week {week!r}: give an ISO week, as 2026-W49")


@qa.command("report")
@click.option("--agent", help="An agent's id (the end of the agent ARN).")
@click.option("--queue", help="A queue (team) name, instead of an agent.")
@click.option("--week", required=True, help="The ISO week, as 2026-W49.")
@click.option("--stage", default="dev", show_default=True, help="Whose QA table to read.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def qa_report(agent: str | None, queue: str | None, week: str, stage: str, as_json: bool) -> None:
    """An agent's (or a team's) week: contacts, scores by rubric, the questions most often
    failed, the flagged contacts.

    Exit status: 0 the report (also for a week with no contacts); 2 the week or the choice
    of agent or queue cannot be used.
    """
    if (agent is None) == (queue is None):
        _unreadable("give one of --agent ID or --queue NAME")
    _check_week(week)
    _use_stage(stage)
    from chalicelib.qa.report import report
    from chalicelib.qa.store import DynamoQaRecords

    records = DynamoQaRecords()
    found = records.of_agent(agent, week) if agent else records.of_queue(queue or "", week)
    result = report(agent or queue or "", week, found)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from devkit.qa_tables import report_table

    _stdout().print(report_table(result))


@qa.command("calibration")
@click.option("--week", required=True, help="The ISO week, as 2026-W49.")
@click.option("--stage", default="dev", show_default=True, help="Whose QA table to read.")
def qa_calibration(week: str, stage: str) -> None:
    """How far reviewers agreed on the calibration contacts they submitted in the week:
    Cohen's kappa per question, mean absolute difference of totals; JSON.

    Exit status: 0 (also for a week with none); 2 the week cannot be used.
    """
    _check_week(week)
    _use_stage(stage)
    from chalicelib.qa.calibration import calibration
    from chalicelib.qa.store import DynamoQaRecords, DynamoReviews, DynamoRubrics

    records, submitted = DynamoQaRecords(), []
    for copy in DynamoReviews().calibrated(week):
        record = records.get(copy.contact_id)
        if record is not None and record.card:
            submitted.append((copy, json.loads(record.card)))
    click.echo(json.dumps(calibration(week, submitted, DynamoRubrics().named), indent=2))


@qa.command("warnings")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, 24 * 14))
@click.option("--stage", default="dev", show_default=True, help="Whose QA table to read.")
@click.option("--json", "as_json", is_flag=True, help="The warnings as JSON.")
def qa_warnings(hours: int, stage: str, as_json: bool) -> None:
    """Early warnings raised in the last HOURS: which reason spiked in which queue, when.

    Exit status: 0 (with or without warnings).
    """
    _use_stage(stage)
    from chalicelib.qa.store import DynamoReasonCounts

    now = datetime.now(UTC)
    raised = DynamoReasonCounts().raised(now - timedelta(hours=hours), now)
    if as_json:
        click.echo(json.dumps(raised, indent=2))
        return
    from devkit.qa_tables import warnings_table

    _stdout().print(warnings_table(raised, hours))


@main.group("caller-key")
def caller_key() -> None:
    """The secret behind caller keys (an SSM SecureString); never printed."""


def _caller_key_parameter(stage: str) -> tuple[Any, str]:
    import boto3

    from devkit.local_aws import stage_environment

    return boto3.client("ssm"), stage_environment(stage)["CALLER_KEY_PARAMETER"]


@caller_key.command("rotate")
@click.option("--stage", required=True, help="Chalice stage whose CALLER_KEY_PARAMETER to set.")
def rotate_caller_key(stage: str) -> None:
    """A new current secret; the previous ones are still read, so repeat callers are kept."""
    from devkit.caller_key import rotate

    ssm, name = _caller_key_parameter(stage)
    count = rotate(ssm, name)
    click.echo(f"{name}: new current key; {count - 1} previous key(s) still read")


@caller_key.command("retire")
@click.option("--stage", required=True, help="Chalice stage whose CALLER_KEY_PARAMETER to set.")
@click.option("--force", is_flag=True, help="Retire inside the repeat window (loses history).")
def retire_caller_key(stage: str, force: bool) -> None:
    """Keep only the current secret. Exit status 1 inside the repeat window, unless --force."""
    from devkit.caller_key import CallerKeyRefusedError, retire

    ssm, name = _caller_key_parameter(stage)
    try:
        dropped = retire(ssm, name, datetime.now(UTC), force)
    except CallerKeyRefusedError as error:
        click.echo(f"retire refused: {error}", err=True)
        sys.exit(1)
    click.echo(f"{name}: {dropped} previous key(s) retired")


if __name__ == "__main__":
    main()
