"""What every `switchboard` command shares: exit statuses, where flows live, the stage's
settings and the consoles."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from devkit.local_aws import ROOT

FLOWS_DIR = ROOT / "flows"
DEFAULT_CALLER = "+14155550101"
UNREADABLE = 2  # exit status when a file or folder cannot be read as flows


def unreadable(error: Exception | str) -> NoReturn:
    click.echo(f"error: {error}", err=True)
    sys.exit(UNREADABLE)


def use_stage(stage: str) -> None:
    """The deployed stage's settings, for the commands that read or write its tables."""
    import os

    from devkit.deploy import deployed_environment

    for variable, value in deployed_environment(stage).items():
        os.environ.setdefault(variable, value)


def stdout_console() -> Any:
    from rich.console import Console

    return Console()
