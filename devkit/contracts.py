"""The ports a capability's service takes, and whether a class keeps one's contract.

A service is a dataclass whose fields are typed with `Protocol` ports (`ledger: CallbackLedger`).
Its adapters (built by the composition root) and its fakes (the capability's declared `fakes`
module) stand in for them. Python checks neither at run time, and mypy only where a fake is
passed to a service in checked code, so a port that gains a method or renames a parameter can
leave a fake (or an adapter) behind, and the tests built on that fake then test nothing:
`tests/unit/test_fakes.py` and `tests/integration/test_adapters.py` hold both to every port.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import sys
import types
import typing
from collections.abc import Iterable
from typing import Any

_EMPTY = inspect.Parameter.empty


def ports(service: type) -> dict[str, type]:
    """The service's fields typed with a Protocol, by field name. A field with a default
    whose type is imported only for type checking (a collaborator built on first use, kept
    off a hook's cold start) is no port and is passed over; any other must resolve."""
    namespace = vars(sys.modules[service.__module__])
    found = {}
    for field in dataclasses.fields(service):
        try:
            hint = eval(field.type, namespace) if isinstance(field.type, str) else field.type
        except NameError:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                raise
            continue
        port = _port_in(hint)
        if port is not None:
            found[field.name] = port
    return found


def _port_in(hint: Any) -> type | None:
    """The Protocol a field is typed with, optional or not."""
    candidates = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    protocols = [c for c in candidates if getattr(c, "_is_protocol", False)]
    return protocols[0] if protocols else None


def _members(port: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in vars(port).items()
        if callable(member) and (not name.startswith("_") or name == "__call__")
    }


def _own(kind: type, name: str) -> Any:
    """What the class (or a base other than `object`) defines under this name."""
    for base in kind.__mro__[:-1]:
        if name in vars(base):
            return vars(base)[name]
    return None


def broken(kind: type, port: type) -> list[str]:
    """How `kind` fails the port's contract: each method missing, and each whose parameters
    a caller of the port could not pass (a name, a kind or an order that differs, or an
    extra parameter without a default). Empty when it keeps it."""
    found = []
    for name, wanted in _members(port).items():
        given = _own(kind, name)
        if isinstance(given, (staticmethod, classmethod)):
            given = given.__func__
        if given is None or not callable(given):
            found.append(f"{kind.__name__} has no {name} for {port.__name__}")
            continue
        found += _parameters(f"{kind.__name__}.{name}", wanted, given)
    return found


def broken_by(adapter: object, port: type) -> list[str]:
    """`broken` for an object standing in for a port: its class's methods, or, for a plain
    function given for a callable port (`new_id=lambda: ...`), the function itself."""
    if inspect.isfunction(adapter) and set(_members(port)) == {"__call__"}:
        name = getattr(adapter, "__name__", "function")
        return _parameters(name, vars(port)["__call__"], adapter)
    return broken(type(adapter), port)


def _parameters(where: str, wanted: Any, given: Any) -> list[str]:
    expected = list(inspect.signature(wanted).parameters.values())[1:]  # the port's self
    actual = list(inspect.signature(given).parameters.values())
    if actual and actual[0].name == "self":
        actual = actual[1:]
    found = []
    for index, parameter in enumerate(expected):
        match = actual[index] if index < len(actual) else None
        if match is None or (match.name, match.kind) != (parameter.name, parameter.kind):
            found.append(f"{where}: parameter {index + 1} is not {parameter.name}")
    for extra in actual[len(expected) :]:
        if extra.default is _EMPTY and extra.kind is not extra.VAR_KEYWORD:
            found.append(f"{where}: {extra.name} is not the port's and has no default")
    return found


def keeping(port: type, modules: Iterable[types.ModuleType]) -> list[type]:
    """The classes of these modules that keep the port's contract."""
    return [
        kind
        for module in modules
        for _, kind in inspect.getmembers(module, inspect.isclass)
        if kind.__module__ == module.__name__
        and not getattr(kind, "_is_protocol", False)
        and not broken(kind, port)
    ]


def modules(*names: str) -> list[types.ModuleType]:
    return [importlib.import_module(name) for name in names]
