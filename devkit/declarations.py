"""`make check`: every hand-kept list agrees with the capabilities' declarations.

A capability declares its functions and its tables once (`chalicelib/<name>/capability.py`);
the outbound core declares its own (`chalicelib/composition.py`). Checked against them:
- `infra/template.yaml`: its DynamoDB tables, each declared by exactly one owner;
- `chalicelib/platform/settings.py`: `TABLE_VARIABLES`, one variable per declared table;
- `.chalice/config.json`: for every stage, each table's variable naming its table, and
  `lambda_functions` configuring exactly the declared functions and the HTTP API, each with
  its declared timeout and memory;
- `infra/permissions.json`: a policy entry for exactly those functions, each granting only
  tables that the capabilities the function runs declare (with their peers', and the
  outbound core's for a capability that places calls): a grant reaching into another
  capability's table is named. (That every grant is used and every call allowed is proved by
  running the functions: tests/integration/test_policies.py.)
Exits 1 naming each disagreement.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from chalicelib.capability import Function
from devkit.local_aws import CHALICE_CONFIG, ROOT, TEMPLATE, _CfnLoader

PERMISSIONS = ROOT / "infra" / "permissions.json"
API_HANDLER = "api_handler"


def variable(table: str) -> str:
    """The environment variable naming a table: `account-events` -> ACCOUNT_EVENTS_TABLE."""
    return f"{table.upper().replace('-', '_')}_TABLE"


def declared() -> tuple[dict[str, str], dict[str, Function]]:
    """Each declared table with its owner, and every declared function by name."""
    from chalicelib import composition
    from chalicelib.capabilities import CAPABILITIES

    owners = [(table, c.name) for c in CAPABILITIES for table in c.tables]
    owners += [(table, "outbound") for table in composition.OUTBOUND_TABLES]
    every = [*(f for c in CAPABILITIES for f in c.functions), *composition.OUTBOUND_FUNCTIONS]
    functions = {function.name: function for function in every}
    twice = [table for table, n in Counter(t for t, _ in owners).items() if n > 1]
    if twice:
        raise ValueError(f"tables declared twice: {', '.join(sorted(twice))}")
    return dict(owners), functions


def template_tables(template: Path = TEMPLATE) -> set[str]:
    document = yaml.load(template.read_text(), Loader=_CfnLoader)
    prefix = "switchboard-${Stage}-"
    return {
        str(resource["Properties"]["TableName"]).removeprefix(prefix)
        for resource in document["Resources"].values()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def problems(
    config: dict[str, Any] | None = None,
    permissions: dict[str, Any] | None = None,
    in_template: set[str] | None = None,
) -> list[str]:
    from chalicelib.platform.settings import TABLE_VARIABLES

    tables, functions = declared()
    config = config or json.loads(CHALICE_CONFIG.read_text())
    permissions = permissions or json.loads(PERMISSIONS.read_text())
    in_template = template_tables() if in_template is None else in_template
    found = _differences("infra/template.yaml tables", in_template, set(tables))
    found += _differences(
        "TABLE_VARIABLES", set(TABLE_VARIABLES.values()), set(map(variable, tables))
    )
    names = set(functions) | {API_HANDLER}
    found += _differences("infra/permissions.json functions", set(permissions["functions"]), names)
    found += _reach(permissions["functions"])
    for stage, settings in config["stages"].items():
        configured = settings.get("lambda_functions", {})
        where = f".chalice/config.json {stage} lambda_functions"
        found += _differences(where, set(configured), names)
        found += _sizes(where, configured, functions)
        environment = settings.get("environment_variables", {})
        for table in sorted(tables):
            expected = f"switchboard-{stage}-{table}"
            if environment.get(variable(table)) != expected:
                found.append(f".chalice/config.json {stage}: {variable(table)} is not {expected}")
    return found


def reachable_tables(function: str) -> set[str]:
    """The tables a function may be granted: those of the capabilities that run it (every
    one for the HTTP API; those that place calls for the outbound core's functions), of the
    peers whose services they take, and the outbound core's when one of them places calls."""
    from chalicelib import composition
    from chalicelib.capabilities import CAPABILITIES

    by_name = {c.name: c for c in CAPABILITIES}
    outbound = {f.name for f in composition.OUTBOUND_FUNCTIONS}
    runs = [
        c
        for c in CAPABILITIES
        if function == API_HANDLER
        or function in c.function_names
        or (function in outbound and c.settle is not None)
    ]
    seen: dict[str, Any] = {}
    while runs:
        capability = runs.pop()
        if capability.name not in seen:
            seen[capability.name] = capability
            runs += [by_name[peer] for peer in capability.peers.values()]
    tables = {table for c in seen.values() for table in c.tables}
    if function in outbound or any(c.settle is not None for c in seen.values()):
        tables |= set(composition.OUTBOUND_TABLES)
    return tables


def _reach(granted: dict[str, dict[str, list[str]]]) -> list[str]:
    found = []
    for function, grants in sorted(granted.items()):
        tables = {r.split("/")[1] for rs in grants.values() for r in rs if r.startswith("table/")}
        found += [
            f"infra/permissions.json: {function} is granted table {table}, "
            "which no capability it runs declares"
            for table in sorted(tables - reachable_tables(function))
        ]
    return found


def _sizes(where: str, configured: dict[str, Any], functions: dict[str, Function]) -> list[str]:
    found = []
    for name, function in sorted(functions.items()):
        given = configured.get(name, {})
        wanted = {"lambda_timeout": function.timeout, "lambda_memory_size": function.memory}
        for key, value in wanted.items():
            if name in configured and given.get(key) != value:
                found.append(f"{where}: {name} {key} is {given.get(key)}, declared {value}")
    return found


def _differences(where: str, kept: set[str], wanted: set[str]) -> list[str]:
    found = [f"{where}: {name} is declared by no capability" for name in sorted(kept - wanted)]
    found += [f"{where}: {name} is missing" for name in sorted(wanted - kept)]
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
