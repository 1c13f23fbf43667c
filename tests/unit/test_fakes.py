"""Every port of every capability's service has a fake in the module its declaration names (or
the shared ones), keeping the port's contract: a port that gains a method or renames a
parameter fails here, not silently in the tests built on a stale fake."""

from __future__ import annotations

from typing import Protocol

import pytest

from chalicelib.capabilities import CAPABILITIES
from devkit.contracts import broken, broken_by, keeping, modules, ports

SHARED = ("devkit.fakes.outbound", "chalicelib.platform.clock")


@pytest.mark.parametrize("declared", CAPABILITIES, ids=lambda c: c.name)
def test_each_port_of_the_service_has_a_fake_that_keeps_its_contract(declared) -> None:
    found = ports(declared.served.kind)
    assert not found or declared.fakes, f"{declared.name} takes ports and names no fakes"
    where = modules(*filter(None, [declared.fakes]), *SHARED)
    missing = [
        f"{name}: {port.__name__}" for name, port in found.items() if not keeping(port, where)
    ]
    assert missing == [], f"no fake keeps these ports' contracts: {missing}"


class Ledger(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, *, expected: int = 0) -> bool: ...


class Keeps:
    def get(self, key: str) -> str | None:
        return None

    def put(self, key: str, value: str, *, expected: int = 0, note: str = "") -> bool:
        return True


class Renamed:
    def get(self, name: str) -> str | None:
        return None

    def put(self, key: str, value: str, *, expected: int = 0) -> bool:
        return True


class Missing:
    def get(self, key: str) -> str | None:
        return None


class Needs:
    def get(self, key: str) -> str | None:
        return None

    def put(self, key: str, value: str, *, expected: int = 0, reason: str) -> bool:
        return True


def test_a_class_keeps_a_contract_only_with_every_method_and_parameter() -> None:
    assert broken(Keeps, Ledger) == []  # an extra parameter with a default is fine
    assert broken(Renamed, Ledger) == ["Renamed.get: parameter 1 is not key"]
    assert broken(Missing, Ledger) == ["Missing has no put for Ledger"]
    assert broken(Needs, Ledger) == ["Needs.put: reason is not the port's and has no default"]


class NewId(Protocol):
    def __call__(self) -> str: ...


def test_a_function_given_for_a_callable_port_is_held_to_its_signature() -> None:
    assert broken_by(lambda: "id-1", NewId) == []
    assert broken_by(lambda prefix: prefix + "1", NewId) == [
        "<lambda>: prefix is not the port's and has no default"
    ]
    assert broken_by(Keeps(), Ledger) == []
