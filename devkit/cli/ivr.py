"""`switchboard rules|caller-key ...`: the IVR's routing rules and caller-key secret."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click


@click.group()
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


@click.group("caller-key")
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


# What `switchboard` registers for the IVR (its declaration names this module).
COMMANDS = (rules, caller_key)
