"""Flow toolkit throughput: validating every real flow, and simulating calls.

Validation is compared with the raw cost of reading the same files (`json.loads`), and
simulation with a bare walk over the same path (dictionary look-ups from action to action).
"""

from __future__ import annotations

import json
import time
from typing import Any

from devkit.local_aws import ROOT
from flowlang.loader import read_text
from flowlang.simulator import Caller, Scenario, Simulator
from flowlang.validate import validate

# Vendored with their sources and licences; the two aws-samples sets, 15 flows.
REAL_FLOWS = ROOT / "tests" / "fixtures" / "real-flows"
SAMPLE_SETS = ("gitlab-cicd-terraform", "outbound-call")
ROUNDS = 30
CALLS = 400


def _best(function: Any, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def measure_validation() -> dict[str, float]:
    from devkit.catalogue import hook_catalogue

    hooks = hook_catalogue()
    paths = sorted(p for s in SAMPLE_SETS for p in (REAL_FLOWS / s).glob("*.json"))
    texts = [(p.name, p.read_text()) for p in paths]
    actions = sum(len(read_text(text, name).flow.actions) for name, text in texts)
    validate_all = _best(lambda: [validate(read_text(t, n), hooks) for n, t in texts], ROUNDS)
    parse_all = _best(lambda: [json.loads(t) for _, t in texts], ROUNDS)
    return {
        "files": len(texts),
        "actions": actions,
        "seconds": validate_all,
        "actions_per_s": actions / validate_all,
        "parse_seconds": parse_all,
        "ratio": validate_all / parse_all,
    }


def _outbound() -> tuple[Simulator, Caller]:
    base = REAL_FLOWS / "outbound-call"
    modules = {
        n: read_text((base / f"{n}.json").read_text(), n).flow
        for n in ("InitModule", "GetCustomerNameModule", "GetCustomerResponseModule", "ErrorModule")
    }
    main = read_text((base / "OutboundCallFlow.json").read_text()).flow
    arn = "arn:aws:lambda:us-east-1:111122223333:function:"
    attributes = {
        "INIT_MODULE_ID": "InitModule",
        "GET_CUST_NAME_MODULE_ID": "GetCustomerNameModule",
        "CUST_RESPONSE_MODULE_ID": "GetCustomerResponseModule",
        "ERROR_HANDLING_MODULE_ID": "ErrorModule",
        "UPDATE_LAMBDA_ARN": arn + "update",
        "TRIGGER_RECORDING_LAMBDA_ARN": arn + "record",
    }
    scenario = Scenario(
        flows=modules,
        lambda_responses={"update": {"status": "ok"}, "record": {}},
        lex_intents={"yes": "yes"},
    )
    caller = Caller(
        "+14155550101", ("my name", "my name", "my name", "timeout"), attributes=attributes
    )
    return Simulator(main, {}, scenario), caller


def measure_simulation() -> dict[str, float]:
    simulator, caller = _outbound()
    steps = simulator.run(caller).steps
    flows = {simulator.flow.name: simulator.flow, **simulator.scenario.flows}
    by_name = {f.name: f for f in flows.values()}

    def bare_walk() -> None:
        for flow_name, identifier in steps:
            by_name[flow_name].actions[identifier].parameters.get("Text")

    def walk_every_call() -> None:
        for _ in range(CALLS):
            bare_walk()

    simulate = _best(lambda: [simulator.run(caller) for _ in range(CALLS)], 5)
    walk = _best(walk_every_call, 5)
    actions = len(steps) * CALLS
    return {
        "actions_per_call": len(steps),
        "actions_per_s": actions / simulate,
        "walk_actions_per_s": actions / walk,
        "ratio": simulate / walk,
    }
