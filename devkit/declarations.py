"""`make check`: every hand-kept list agrees with the capabilities' declarations.

A capability declares its functions and its tables once (`chalicelib/<name>/capability.py`);
the outbound core declares its own (`chalicelib/composition.py`). Checked against them:
- `infra/template.yaml`: its DynamoDB tables, each declared by exactly one owner;
- `.chalice/config.json`: for every stage, each table's variable naming its table, and
  `lambda_functions` configuring exactly the declared functions and the HTTP API, each with
  its declared timeout and memory;
- `infra/permissions.json`: a policy entry for exactly those functions, each granting only
  tables that the capabilities the function runs declare (`composition.tables`: with their
  peers', and the outbound core's for a capability that places calls): a grant reaching
  into another capability's table is named. (That every grant is used and every call
  allowed is proved by running the functions: tests/integration/test_policies.py.)
- settings: every environment variable `load_settings` reads, and every one a stage sets, is
  the platform's (`PLATFORM_VARIABLES`), a declared table's or declared by a capability
  (`settings`); a declared one the settings never read is named too;
- `devkit/cli/` and `devkit/fakes/`: each module a capability names as its `cli` or `fakes`
  exists, and every module there belongs to a capability or is one of the shared ones.
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
from chalicelib.platform.settings import table_variable
from devkit.local_aws import CHALICE_CONFIG, ROOT, TEMPLATE, _CfnLoader

PERMISSIONS = ROOT / "infra" / "permissions.json"
API_HANDLER = "api_handler"
# Modules of devkit/cli and devkit/fakes that no capability owns.
SHARED = {
    "devkit.cli.common": "what every command shares",
    "devkit.cli.flows": "the flow designers' tools",
    "devkit.fakes.outbound": "the outbound core's fakes",
}


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
    modules: set[str] | None = None,
    read: set[str] | None = None,
) -> list[str]:
    tables, functions = declared()
    config = config or json.loads(CHALICE_CONFIG.read_text())
    permissions = permissions or json.loads(PERMISSIONS.read_text())
    in_template = template_tables() if in_template is None else in_template
    found = _differences("infra/template.yaml tables", in_template, set(tables))
    names = set(functions) | {API_HANDLER}
    found += _differences("infra/permissions.json functions", set(permissions["functions"]), names)
    found += _reach(permissions["functions"])
    found += _modules(devkit_modules() if modules is None else modules)
    found += _settings(config, set(tables), variables_read() if read is None else read)
    for stage, settings in config["stages"].items():
        configured = settings.get("lambda_functions", {})
        where = f".chalice/config.json {stage} lambda_functions"
        found += _differences(where, set(configured), names)
        found += _sizes(where, configured, functions)
        environment = settings.get("environment_variables", {})
        for table in sorted(tables):
            expected = f"switchboard-{stage}-{table}"
            if environment.get(table_variable(table)) != expected:
                found.append(
                    f".chalice/config.json {stage}: {table_variable(table)} is not {expected}"
                )
    return found


def variables_read() -> set[str]:
    """Every environment variable the settings read: `load_settings` run on a stage's
    environment that notes each variable asked for (tables are read by pattern)."""
    from chalicelib.platform.settings import load_settings
    from devkit.local_aws import stage_environment

    asked: set[str] = set()

    class Noting(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            asked.add(key)
            return super().get(key, default)

    load_settings(Noting(stage_environment("dev")))
    return asked


def _settings(config: dict[str, Any], tables: set[str], read: set[str]) -> list[str]:
    from chalicelib.capabilities import CAPABILITIES
    from chalicelib.platform.settings import PLATFORM_VARIABLES

    declared = {variable for c in CAPABILITIES for variable in c.settings}
    known = PLATFORM_VARIABLES | declared
    found = [f"settings read {name}, which no capability declares" for name in sorted(read - known)]
    found += [
        f"{name} is declared by a capability and never read by the settings"
        for name in sorted(declared - read)
    ]
    known |= {table_variable(table) for table in tables}
    for stage, settings in config["stages"].items():
        given = set(settings.get("environment_variables", {}))
        found += [
            f".chalice/config.json {stage}: {name} is declared by no capability"
            for name in sorted(given - known)
        ]
    return found


def devkit_modules() -> set[str]:
    """The modules of devkit/cli and devkit/fakes."""
    return {
        f"devkit.{folder}.{path.stem}"
        for folder in ("cli", "fakes")
        for path in (ROOT / "devkit" / folder).glob("*.py")
        if not path.stem.startswith("__")
    }


def _modules(present: set[str]) -> list[str]:
    from chalicelib.capabilities import CAPABILITIES

    named = {m for c in CAPABILITIES for m in (c.cli, c.fakes) if m}
    found = [
        f"{name} is named by a capability and does not exist" for name in sorted(named - present)
    ]
    found += [
        f"{name} belongs to no capability (name it as one's cli or fakes)"
        for name in sorted(present - named - set(SHARED))
    ]
    return found


def _reach(granted: dict[str, dict[str, list[str]]]) -> list[str]:
    from chalicelib import composition

    found = []
    for function, grants in sorted(granted.items()):
        tables = {r.split("/")[1] for rs in grants.values() for r in rs if r.startswith("table/")}
        found += [
            f"infra/permissions.json: {function} is granted table {table}, "
            "which no capability it runs declares"
            for table in sorted(tables - composition.tables(function))
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
