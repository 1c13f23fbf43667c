"""What a capability declares, and how its handlers receive their service.

Each capability folder has a `capability.py` exporting one `Capability`; `CAPABILITIES` in
`chalicelib/capabilities.py` lists them. A declaration is light (it imports neither its
handlers nor its service), so the composition root (`chalicelib/composition.py`) can load
only the capability whose function a Lambda runs. Everything that spans capabilities derives
from that list: `app.py` (blueprints), the composition root (services), the flow validator's
hook catalogue (outputs), the local switchboard and the demo.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from chalice.app import Blueprint

    from chalicelib.outbound.model import ContactEnded

S = TypeVar("S")


class Provided(Generic[S]):
    """A handlers module's service, given to it by the composition root.

    The module declares what it needs (`served = Provided(IvrService)`) and calls `served()`;
    it never builds adapters or asks a registry. The root says how to build it (`provide`),
    once per cold start, on first use. Tests and the demo `override` it with another service
    of the same type, never a look-alike that would let a handler quietly reach real AWS."""

    def __init__(self, kind: type[S]) -> None:
        self.kind = kind
        self._build: Callable[[], S] | None = None
        self._served: S | None = None

    def provide(self, build: Callable[[], S]) -> None:
        self._build = build

    def override(self, replacement: S) -> None:
        """Serve `replacement` until `reset()`."""
        if not isinstance(replacement, self.kind):
            raise TypeError(
                f"an override for {self.kind.__name__} must be one, not {replacement!r}"
            )
        self._served = replacement

    def reset(self) -> None:
        self._served = None

    @property
    def current(self) -> S | None:
        """What is served now, if anything has been built or given."""
        return self._served

    def __call__(self) -> S:
        if self._served is None:
            if self._build is None:
                raise LookupError(f"nothing provides {self.kind.__name__}: app.py wires it")
            self._served = self._build()
        return self._served


@dataclass(frozen=True)
class Function:
    """One Lambda function: its name (the handler's), timeout (seconds) and memory (MB), as
    every stage's `.chalice/config.json` must configure it (`make check`)."""

    name: str
    timeout: int = 8  # a Connect hook: Connect waits at most 8 s for a Lambda
    memory: int = 512


@dataclass(frozen=True)
class Capability:
    name: str
    # The module with the capability's Chalice blueprint `bp`, its `served` service and, for
    # Connect hooks, `OUTPUTS`: imported only when one of `functions` runs (or the HTTP API).
    handlers: str
    # Every Lambda function the blueprint registers (tests check the two agree).
    functions: tuple[Function, ...]
    # Its DynamoDB tables, by the name after `switchboard-<stage>-` (`make check` holds the
    # template, the settings and every stage's configuration to it: devkit/declarations.py).
    tables: tuple[str, ...]
    # Builds the service from the stage settings; tests and the demo pass a clock and a
    # (stubbed or simulated) Connect client. Keyword arguments named in `peers` receive
    # other capabilities' services, built on first use.
    build: Callable[..., Any]
    # Keyword argument of `build` -> the capability whose service it takes.
    peers: Mapping[str, str] = field(default_factory=dict)
    # Hook name -> the attributes a transcript shows (the demo, `flows simulate`).
    highlights: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # For a capability that places calls: how its service takes the end of one of its
    # contacts (the outbound core routes contact events here by the contact's owner, which
    # is this capability's `name`).
    settle: Callable[[Any, ContactEnded], object] | None = None
    # The environment variables of its own settings (beyond its tables' and the platform's,
    # `platform.settings.PLATFORM_VARIABLES`): `make check` names one a stage sets or the
    # settings read that nobody declares.
    settings: tuple[str, ...] = ()
    # Its `switchboard` commands: the module whose `COMMANDS` the CLI registers
    # (devkit/cli/<name>.py; "" for none). Its fakes: the module of in-memory ports that
    # tests/unit/test_fakes.py holds to every port of its service (devkit/fakes/<name>.py).
    # Named, not imported: the package Lambda runs carries no devkit.
    cli: str = ""
    fakes: str = ""

    @property
    def function_names(self) -> tuple[str, ...]:
        return tuple(function.name for function in self.functions)

    def module(self) -> ModuleType:
        return importlib.import_module(self.handlers)

    @property
    def blueprint(self) -> Blueprint:
        return cast("Blueprint", self.module().bp)

    @property
    def served(self) -> Provided[Any]:
        return cast(Provided[Any], self.module().served)

    @property
    def outputs(self) -> Mapping[str, frozenset[str]]:
        """Hook name -> every attribute it may answer, for the flow validator."""
        return cast(Mapping[str, frozenset[str]], getattr(self.module(), "OUTPUTS", {}))
