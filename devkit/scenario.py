"""Scenario files: the outside world a simulated call meets that is not ours.

{
  "at": "2026-11-24T15:00:00Z",                 # when the call happens
  "caller": "+14155550101",                     # '' for a withheld number
  "attributes": {"INIT_MODULE_ID": "InitModule"},
  "flows": {"InitModule": "path/to/InitModule.json"},   # relative to this file
  "hours": {"main": true,
            "support": {"timezone": "Europe/London", "weekly": {"mon": ["09:00-17:00"]},
                        "holidays": ["2026-12-25"]}},
  "queues": {"billing": {"metrics": {"CONTACTS_IN_QUEUE": 3}, "at_capacity": false}},
  "lex": {"i want to buy": "Sales"},             # utterance -> intent
  "lambdas": {"update-status": {"status": "ok"}}, # answers of Lambdas we do not own
  "third_party_answers": true
}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.platform.hours import Hours, parse_hours
from flowlang.loader import read_text
from flowlang.model import Flow, FlowError
from flowlang.simulator import Scenario

_KEYS = {
    "at",
    "caller",
    "attributes",
    "flows",
    "hours",
    "queues",
    "lex",
    "lambdas",
    "third_party_answers",
    "inputs",
}


@dataclass(frozen=True)
class ScenarioFile:
    at: datetime | None = None
    caller: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)  # Scenario fields

    def apply(self, scenario: Scenario) -> Scenario:
        return replace(scenario, **self.extras, now=self.at or scenario.now)


def _hours(raw: Any, source: Path) -> dict[str, bool | Hours]:
    calendars: dict[str, bool | Hours] = {}
    problems: list[str] = []
    for name, spec in (raw or {}).items():
        if isinstance(spec, bool):
            calendars[name] = spec
        elif (parsed := parse_hours(name, spec, problems)) is not None:
            calendars[name] = parsed
    if problems:
        raise FlowError(f"{source}: " + "; ".join(problems))
    return calendars


def _flows(raw: Any, source: Path) -> dict[str, Flow]:
    flows: dict[str, Flow] = {}
    for name, relative in (raw or {}).items():
        path = (source.parent / relative).resolve()
        if not path.exists():
            raise FlowError(f"{source}: flow {name!r} points to {relative!r}, which does not exist")
        flow = read_text(path.read_text(encoding="utf-8"), str(path)).flow
        flows[name] = flows[flow.name] = flows[path.stem] = flow
    return flows


def load_scenario(path: Path) -> ScenarioFile:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise FlowError(f"{path}: a scenario must be a JSON object")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise FlowError(f"{path}: unknown keys {', '.join(unknown)}")
    queues = raw.get("queues") or {}
    extras = {
        "flows": _flows(raw.get("flows"), path),
        "hours_open": _hours(raw.get("hours"), path),
        "queue_metrics": {q: dict(spec.get("metrics", {})) for q, spec in queues.items()},
        "queues_at_capacity": frozenset(q for q, spec in queues.items() if spec.get("at_capacity")),
        "lex_intents": {k.lower(): v for k, v in (raw.get("lex") or {}).items()},
        "lambda_responses": dict(raw.get("lambdas") or {}),
        "third_party_answers": bool(raw.get("third_party_answers", True)),
    }
    at = datetime.fromisoformat(raw["at"]).astimezone(UTC) if raw.get("at") else None
    return ScenarioFile(
        at,
        raw.get("caller"),
        {str(k): str(v) for k, v in (raw.get("attributes") or {}).items()},
        tuple(raw.get("inputs") or ()),
        extras,
    )
