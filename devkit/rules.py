"""Check routing rules before they ship: `python -m devkit.rules [PATH]`.

Exits 1 and lists every problem (each naming its rule, queue or hours) if the file is invalid;
otherwise prints the rules in the order they are tried.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from chalicelib.bootstrap import ROUTING_RULES_PATH
from chalicelib.ivr.routing import RoutingRulesError, parse_routing_rules


@click.command()
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=ROUTING_RULES_PATH
)
def main(path: Path) -> None:
    """Validate a routing rules file and show the rules in the order they are tried."""
    console = Console(highlight=False, soft_wrap=True)
    try:
        rules = parse_routing_rules(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as error:
        console.print(f"[red]{path}: not JSON: {error}[/]")
        sys.exit(1)
    except RoutingRulesError as error:
        for problem in error.problems:
            console.print(f"[red]{path}: {problem}[/]")
        sys.exit(1)
    table = Table(title=f"{path.name}: {len(rules.rules)} rules, tried top to bottom")
    for column in ("rule", "when", "queue", "priority", "backup", "hours"):
        table.add_column(column)
    for rule in rules.rules:
        queue = rules.queues[rule.queue]
        when = (
            ", ".join(
                f"{k}={'|'.join(sorted(v)) if isinstance(v, frozenset) else str(v).lower()}"
                for k, v in rule.when.items()
            )
            or "(anyone)"
        )
        table.add_row(
            rule.name, when, rule.queue, str(rule.priority), queue.backup or "-", queue.hours
        )
    console.print(table)
    console.print(
        f"default queue: {rules.default_queue}; after hours: {rules.night_queue or '-'}; "
        f"callback offered above {rules.callback_offer_above_seconds} s wait"
    )


if __name__ == "__main__":
    main()
