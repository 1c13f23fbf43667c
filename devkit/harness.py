"""A whole Switchboard on a laptop: moto tables from the template, sample data, simulated
Connect metrics, our real Chalice hooks and the real flow, driven by scripted callers.

The demo, the flow tests and the benchmarks all stand on this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devkit.local_aws import ROOT, local_aws

if TYPE_CHECKING:
    from chalicelib.platform.clock import FixedClock
    from devkit.connect_sim import ConnectSimulator
    from flowlang.simulator import CallResult

INBOUND_FLOW = ROOT / "flows" / "inbound-main.json"


@dataclass(frozen=True)
class QueueLoadScript:
    contacts_in_queue: int = 0
    agents_available: int = 2
    agents_staffed: int = 4


@dataclass(frozen=True)
class ScriptedCall:
    title: str
    number: str | None
    at: datetime
    inputs: tuple[str, ...] = ()
    loads: dict[str, QueueLoadScript] = field(default_factory=dict)
    connect_failure: str = ""  # e.g. "ThrottlingException"
    contact_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    initiation_method: str = "INBOUND"  # "API" when StartOutboundVoiceContact placed it


class Switchboard:
    """Plays scripted calls through a flow; build it with `local_switchboard()`."""

    def __init__(
        self, flow_path: Path, clock: FixedClock, connect: ConnectSimulator, client: Any
    ) -> None:
        from flowlang.loader import read_file
        from flowlang.simulator import Scenario

        self.flow = replace(read_file(flow_path).flow, name=flow_path.stem)
        self.clock = clock
        self.connect = connect
        self.client = client
        self.scenario = Scenario(
            instance_arn="arn:aws:connect:us-east-1:111122223333:instance/"
            + _env("CONNECT_INSTANCE_ID"),
            queue_ids=dict(connect.queue_ids),
        )
        self._count = 0
        self.callback_ids: set[str] = set()  # callbacks the demo's calls asked for

    def hooks(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        from app import app

        return {
            function.name: self._invoker(function.name) for function in app.pure_lambda_functions
        }

    def _invoker(self, name: str) -> Callable[[dict[str, Any]], Any]:
        def invoke(event: dict[str, Any]) -> Any:
            return self.client.lambda_.invoke(name, event).payload

        return invoke

    def _stage(self, call: ScriptedCall) -> Any:
        from devkit.connect_sim import QueueState
        from flowlang.simulator import Caller

        self._count += 1
        self.clock.set(call.at.astimezone(UTC))
        self.connect.queues = {
            queue: QueueState(s.contacts_in_queue, s.agents_available, s.agents_staffed)
            for queue, s in call.loads.items()
        }
        self.connect.fail_with = call.connect_failure
        contact_id = call.contact_id or f"c0ffee00-0000-4000-8000-{self._count:012d}"
        return Caller(
            number=call.number,
            inputs=call.inputs,
            contact_id=contact_id,
            attributes=dict(call.attributes),
            initiation_method=call.initiation_method,
        )

    def play(
        self, call: ScriptedCall, flow: Any = None, scenario: Any = None, director: Any = None
    ) -> CallResult:
        """Play one call; `flow`, `scenario` and `director` default to this switchboard's."""
        from flowlang.simulator import Simulator

        caller = self._stage(call)
        scenario = replace(scenario or self.scenario, now=call.at.astimezone(UTC))
        simulator = Simulator(flow or self.flow, self.hooks(), scenario)
        return simulator.run(caller, director)

    def reset_data(self, pin_cost: int) -> None:
        """Empty every table and seed the sample data again: each test starts the same."""
        from devkit.local_aws import empty_tables
        from devkit.seed import seed

        empty_tables()
        seed(self.clock.now(), pin_cost)


def _env(name: str) -> str:
    import os

    return os.environ[name]


@contextmanager
def local_switchboard(
    flow_path: Path = INBOUND_FLOW, pin_cost: int = 2**14, seeded_at: datetime | None = None
) -> Iterator[Switchboard]:
    """Everything up, inside moto, torn down on exit.

    The sample data's "yesterday" is relative to `seeded_at` (default: now); a script of calls
    at fixed times passes its own start, or its predictions would depend on today's date."""
    with local_aws():
        import boto3
        from chalice.test import Client

        from app import app
        from chalicelib import composition
        from chalicelib.capabilities import CAPABILITIES
        from chalicelib.platform.clock import FixedClock
        from chalicelib.platform.settings import settings
        from devkit.connect_sim import ConnectSimulator
        from devkit.seed import seed

        config = settings()
        clock = FixedClock((seeded_at or datetime.now(UTC)).astimezone(UTC))
        seed(clock.now(), pin_cost)
        connect = ConnectSimulator(dict(config.queue_ids))
        client = boto3.client("connect", region_name=config.region)
        connect.attach(client)
        for capability in CAPABILITIES:
            capability.served.override(composition.build(capability, clock, client))
        try:
            with Client(app, stage_name=config.stage, project_dir=str(ROOT)) as test_client:
                yield Switchboard(flow_path, clock, connect, test_client)
        finally:
            composition.reset()
