"""The services the composition root builds for a stage hold adapters that keep the contract
of every port they stand in for: the same methods, the same parameters (devkit/contracts.py).
mypy checks this only where the types line up statically; the root builds from settings."""

from __future__ import annotations

import pytest

from chalicelib import composition
from chalicelib.capabilities import CAPABILITIES
from devkit.contracts import broken_by, ports


@pytest.mark.parametrize("declared", CAPABILITIES, ids=lambda c: c.name)
def test_every_adapter_of_a_built_service_keeps_its_ports_contract(tables, connect, declared):
    connect_client, _ = connect
    try:
        service = composition.build(declared, connect=connect_client)
        found = ports(type(service))
        assert found
        problems = [
            problem
            for name, port in found.items()
            for problem in broken_by(getattr(service, name), port)
        ]
    finally:
        composition.reset()
    assert problems == []
