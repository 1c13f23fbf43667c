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

import importlib

import click

from chalicelib.capabilities import CAPABILITIES
from devkit.cli import flows
from devkit.cli.common import UNREADABLE

__all__ = ["UNREADABLE", "main"]


@click.group()
def main() -> None:
    """Switchboard: offline tools for Amazon Connect flows and the hooks behind them."""


main.add_command(flows.flows)  # the flow designers' tools, which no capability owns
# Each capability's own commands, from the module its declaration names.
for _declared in CAPABILITIES:
    for _command in importlib.import_module(_declared.cli).COMMANDS if _declared.cli else ():
        main.add_command(_command)
