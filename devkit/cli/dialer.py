"""`switchboard campaigns|dialer|compliance ...`: the outbound dialer's commands."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from devkit.cli.common import (
    stdout_console,
    unreadable,
    use_stage,
)
from devkit.local_aws import ROOT


@click.group()
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
        unreadable(error)
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
            unreadable(f"{contact_list}: {error}")
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
        unreadable(error)
    use_stage(stage)
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
        unreadable("name the campaigns, or say --all (not both)")
    use_stage(stage)
    from chalicelib.dialer.store import DynamoCampaigns

    store = DynamoCampaigns()
    chosen = [c.name for c in store.all()] if every else list(names)
    now = datetime.now(UTC)
    unknown = [name for name in chosen if store.set_paused(name, not resume, now) is None]
    for name in chosen:
        if name not in unknown:
            click.echo(f"{name}: {'resumed' if resume else 'paused'} in {stage}")
    if unknown:
        unreadable(f"no campaign {', '.join(map(repr, unknown))} in {stage}")


@campaigns.command("report")
@click.argument("name")
@click.option("--stage", default="dev", show_default=True, help="Whose dialer table to read.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def campaign_report_command(name: str, stage: str, as_json: bool) -> None:
    """Where a campaign stands: dialled, connected, right-party contacts, abandoned (to date
    and over the rolling 30 days the 3 % rule uses), dispositions, NPS and its records.

    Exit status: 0 the report; 2 there is no such campaign.
    """
    use_stage(stage)
    from chalicelib.dialer.service import campaign_report
    from chalicelib.dialer.store import DynamoCampaigns, DynamoDialLedger

    report = campaign_report(DynamoCampaigns(), DynamoDialLedger(), name, datetime.now(UTC))
    if report is None:
        unreadable(f"no campaign {name!r} in {stage} (store it: switchboard campaigns put)")
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    from devkit.campaigns import report_table

    stdout_console().print(report_table(report.as_dict()))


def _contact_book(stage: str, check: bool) -> Any:
    if check:
        from chalicelib.dialer.service import CheckOnly

        return CheckOnly()
    use_stage(stage)
    from chalicelib.dialer.store import DynamoDialLedger

    return DynamoDialLedger()


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@click.group()
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


@click.group()
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
        unreadable(error)
    use_stage(stage)
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
        unreadable(error)
    click.echo(json.dumps(answer, indent=2))


# What `switchboard` registers for the dialer (its declaration names this module).
COMMANDS = (campaigns, dialer, compliance)
