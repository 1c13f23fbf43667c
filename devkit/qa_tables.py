"""`switchboard qa report` and `qa warnings` as tables people read (`--json` has the same
keys)."""

from __future__ import annotations

from typing import Any


def report_table(report: dict[str, Any]) -> Any:
    from rich.table import Table

    average = "-" if report["average"] is None else f"{report['average']:.1f}"
    table = Table(
        title=f"{report['who']}, {report['week']}: {report['contacts']} contacts, "
        f"average {average}, {report['automatic_fails']} automatic fails"
    )
    for column in ("rubric", "contacts", "average", "most failed (failed of asked)"):
        table.add_column(column)
    for name, figures in report["by_rubric"].items():
        failed = ", ".join(
            f"{q['question']} ({q['failed']}/{q['of']})" for q in figures["most_failed"]
        )
        score = "-" if figures["average"] is None else f"{figures['average']:.1f}"
        table.add_row(name, str(figures["contacts"]), score, failed or "none")
    return table


def warnings_table(warnings: list[dict[str, Any]], hours: int) -> Any:
    from rich.table import Table

    table = Table(title=f"early warnings, last {hours} h: {len(warnings)}")
    for column in ("bucket (UTC)", "queue", "reason"):
        table.add_column(column)
    for warning in warnings:
        table.add_row(warning["bucket"][:16], warning["scope"], warning["reason"])
    return table
