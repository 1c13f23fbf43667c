"""`switchboard qa ...`: after-call QA's commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from devkit.cli.common import (
    stdout_console,
    unreadable,
    use_stage,
)


@click.group()
def qa() -> None:
    """After-call QA: rubrics, and contacts scored against them (docs/qa.md)."""


def _rubric(path: Path) -> Any:
    from chalicelib.qa.schema import RubricError, read_rubric

    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        unreadable(f"{path}: not valid JSON: {error}")
    try:
        return read_rubric(raw)
    except RubricError as error:
        unreadable(f"{path}: " + "; ".join(error.problems))


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
        unreadable(error)
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
    use_stage(stage)
    from chalicelib.qa.store import DynamoRubrics

    DynamoRubrics().put(document, queues, datetime.now(UTC))
    click.echo(f"{rubric.name} v{rubric.version}: stored for {stage}, scores {', '.join(queues)}")


def _check_week(week: str) -> None:
    from chalicelib.qa.records import is_week

    if not is_week(week):
        unreadable(f"--week {week!r}: give an ISO week, as 2026-W49")


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
        unreadable("give one of --agent ID or --queue NAME")
    _check_week(week)
    use_stage(stage)
    from chalicelib.qa.report import report
    from chalicelib.qa.store import DynamoQaRecords

    records = DynamoQaRecords()
    found = records.of_agent(agent, week) if agent else records.of_queue(queue or "", week)
    result = report(agent or queue or "", week, found)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    from devkit.qa_tables import report_table

    stdout_console().print(report_table(result))


@qa.command("calibration")
@click.option("--week", required=True, help="The ISO week, as 2026-W49.")
@click.option("--stage", default="dev", show_default=True, help="Whose QA table to read.")
def qa_calibration(week: str, stage: str) -> None:
    """How far reviewers agreed on the calibration contacts they submitted in the week:
    Cohen's kappa per question, mean absolute difference of totals; JSON.

    Exit status: 0 (also for a week with none); 2 the week cannot be used.
    """
    _check_week(week)
    use_stage(stage)
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
    use_stage(stage)
    from chalicelib.qa.store import DynamoReasonCounts

    now = datetime.now(UTC)
    raised = DynamoReasonCounts().raised(now - timedelta(hours=hours), now)
    if as_json:
        click.echo(json.dumps(raised, indent=2))
        return
    from devkit.qa_tables import warnings_table

    stdout_console().print(warnings_table(raised, hours))


# What `switchboard` registers for QA (its declaration names this module).
COMMANDS = (qa,)
