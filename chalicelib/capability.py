"""What a capability gives the rest of the app, and the list of them.

Each capability folder has a `capability.py` exporting one `Capability`; `CAPABILITIES` in
`chalicelib/capabilities.py` lists them, and everything that spans capabilities derives from
that list: `app.py` (blueprints), `bootstrap` (services), the flow validator's hook catalogue
(outputs), the local switchboard and the demo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import Blueprint
    from mypy_boto3_connect import ConnectClient

    from chalicelib.outbound.model import ContactEnded
    from chalicelib.platform.clock import Clock


@dataclass(frozen=True)
class Capability:
    name: str
    blueprint: Blueprint
    service: type[Any]
    # Builds the service from the stage settings; tests and the demo pass a clock and a
    # (stubbed or simulated) Connect client.
    build: Callable[[Clock | None, ConnectClient | None], Any]
    # Hook name -> every attribute it may answer, for the flow validator.
    outputs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Hook name -> the attributes a transcript shows (the demo, `flows simulate`).
    highlights: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # For a capability that places calls: how its service takes the end of one of its
    # contacts (the outbound core routes contact events here by the contact's owner, which
    # is this capability's `name`).
    settle: Callable[[Any, ContactEnded], object] | None = None
