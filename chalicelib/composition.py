"""The composition root: which capabilities a Lambda loads, and what each handler receives.

A Lambda function imports `app`, and `app` asks here for the blueprints to register. A
function that belongs to one capability (Lambda names it `<app>-<stage>-<function>`) loads
that capability alone: a hook's cold start does not import the dialer or QA. The HTTP API,
`chalice package` and the tests load every capability. Each loaded handlers module is given
how to build its service (`Provided.provide`), built once per cold start on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.capabilities import CAPABILITIES
from chalicelib.capability import Capability, Function

if TYPE_CHECKING:
    from chalice.app import Blueprint

    from chalicelib.outbound.model import ContactEnded

# The outbound core's own function: contact events, delivered to whichever capability placed
# the call (chalicelib/outbound/handlers.py).
OUTBOUND_FUNCTIONS = (Function("outbound_contact_events", 30, 256),)
# Its table: every capability's pacing and the route of each contact placed.
OUTBOUND_TABLES = ("outbound",)


def blueprints(function_name: str) -> list[Blueprint]:
    """Each blueprint the function needs, its service provided: what `app.py` registers."""
    own = [declared for declared in CAPABILITIES if _runs(function_name, declared.functions)]
    if own:
        return [_wired(declared) for declared in own]
    if _runs(function_name, OUTBOUND_FUNCTIONS):
        return [_outbound()]
    return [*(_wired(declared) for declared in CAPABILITIES), _outbound()]


def _runs(function_name: str, functions: Iterable[Function]) -> bool:
    """The function (`identify_caller`, or as Lambda names it) is one of these."""
    return any(
        function_name == function.name or function_name.endswith(f"-{function.name}")
        for function in functions
    )


def tables(function_name: str) -> set[str]:
    """The declared tables a function may use: those of the capabilities it runs (all for
    the HTTP API; those that place calls for the outbound core's function), of the peers
    whose services they take, and the outbound core's when one of them places calls. `app`
    checks at start that the stage names each one; `make check` that the function's
    permissions reach no other."""
    placing = _runs(function_name, OUTBOUND_FUNCTIONS)
    running = _with_peers(_running(function_name, placing))
    used = {table for declared in running for table in declared.tables}
    if placing or any(declared.settle is not None for declared in running):
        used |= set(OUTBOUND_TABLES)
    return used


def _running(function_name: str, placing: bool) -> list[Capability]:
    if placing:
        return [declared for declared in CAPABILITIES if declared.settle is not None]
    own = [declared for declared in CAPABILITIES if _runs(function_name, declared.functions)]
    return own or list(CAPABILITIES)


def _with_peers(running: list[Capability]) -> list[Capability]:
    by_name = {declared.name: declared for declared in CAPABILITIES}
    seen: dict[str, Capability] = {}
    while running:
        declared = running.pop()
        if declared.name not in seen:
            seen[declared.name] = declared
            running += [by_name[peer] for peer in declared.peers.values()]
    return list(seen.values())


def _wired(declared: Capability) -> Blueprint:
    _provide(declared)
    return declared.blueprint


def _outbound() -> Blueprint:
    from chalicelib.outbound import handlers

    handlers.owners.provide(_owners)
    return handlers.bp


def capability(name: str) -> Capability:
    for candidate in CAPABILITIES:
        if candidate.name == name:
            return candidate
    raise LookupError(f"no capability is called {name!r}")


def build(declared: Capability, clock: Any = None, connect: Any = None) -> Any:
    """The capability's service, with the services of its peers served to it on first use."""
    peers = {keyword: _served_by(name) for keyword, name in declared.peers.items()}
    return declared.build(clock, connect, **peers)


def reset() -> None:
    """Forget every service built or overridden (tests, the demo): the next use builds."""
    for declared in CAPABILITIES:
        declared.served.reset()


def served() -> list[Any]:
    """Every service built or given so far."""
    return [s for s in (declared.served.current for declared in CAPABILITIES) if s is not None]


def _provide(declared: Capability) -> None:
    declared.served.provide(functools.partial(build, declared))


def _served_by(name: str) -> Any:
    """Serves `name`'s service when first called (it may never be)."""
    declared = capability(name)
    _provide(declared)
    return declared.served


def _owners() -> Any:
    from chalicelib.outbound.handlers import Owners

    settles: Mapping[str, Any] = {
        declared.name: functools.partial(_settle, declared, declared.settle)
        for declared in CAPABILITIES
        if declared.settle is not None
    }
    return Owners(settles)


def _settle(
    declared: Capability, settle: Callable[[Any, ContactEnded], object], ended: ContactEnded
) -> object:
    _provide(declared)
    return settle(declared.served(), ended)
