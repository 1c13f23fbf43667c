"""Scenario files: the outside world a simulated call meets that is not ours.

{
  "at": "2026-11-24T15:00:00Z",                 # when the call happens
  "caller": "+14155550101",                     # '' for a withheld number
  "attributes": {"INIT_MODULE_ID": "InitModule"},
  "flows": {"InitModule": "path/to/InitModule.json"},   # relative to this file
  "hours": {"main": true,
            "support": {"timezone": "Europe/London", "weekly": {"mon": ["09:00-17:00"]},
                        "holidays": ["2026-12-25"]}},
  "queues": {"billing": {"id": "arn:...:queue/4f1c...",          # names the queue in flows
                         "metrics": {"NumberOfContactsInQueue": 3}, "at_capacity": false}},
  "queue": "billing",                           # the queue a queue/hold/whisper flow's
                                                # contact is already waiting in
  "agent_answers_after_seconds": 95,            # a queue flow's prompts end when an agent
                                                # answers; its interrupts come every N s
  "lex": {"i want to buy": "Sales"},             # utterance -> intent
  "lambdas": {"update-status": {"status": "ok"}}, # answers of Lambdas we do not own
  "third_party_answers": true
}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, field_validator

from chalicelib.platform.hours import Hours, parse_hours
from chalicelib.platform.schema import Document, HoursDocument, SchemaError, check, describe
from flowlang.loader import read_text
from flowlang.model import Flow, FlowError
from flowlang.simulator import Scenario


def _calendar_or_flag(value: Any) -> str:
    return "<always>" if isinstance(value, bool) else "<calendar>"


# `true`/`false` (always open or closed) or a calendar; the tags keep pydantic's error
# locations reading as the file does (`hours.support.timezone`).
HoursSpec = Annotated[
    Annotated[bool, Tag("<always>")] | Annotated[HoursDocument, Tag("<calendar>")],
    Discriminator(_calendar_or_flag),
]


class QueueScenario(Document):
    id: str = ""  # the queue's id or ARN in the flows, so that $.Queue.Name is this name
    metrics: dict[str, float] = {}
    at_capacity: bool = False


class ScenarioDocument(Document):
    at: str | None = None
    caller: str | None = None
    attributes: dict[str, str | int | float | bool] = {}
    inputs: list[str] = []
    flows: dict[str, str] = {}
    hours: dict[str, HoursSpec] = {}
    queues: dict[str, QueueScenario] = {}
    lex: dict[str, str] = {}
    lambdas: dict[str, dict[str, Any]] = {}
    third_party_answers: bool = True
    agent_answers_after_seconds: Annotated[float, Field(ge=0)] | None = None
    queue: str = ""

    @field_validator("at")
    @classmethod
    def _an_instant(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO 8601 time") from None
        return value


@dataclass(frozen=True)
class ScenarioFile:
    at: datetime | None = None
    caller: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)  # Scenario fields

    def apply(self, scenario: Scenario) -> Scenario:
        named = {**scenario.queue_ids, **self.extras.get("queue_ids", {})}
        extras = {**self.extras, "queue_ids": named}
        return replace(scenario, **extras, now=self.at or scenario.now)


def _hours(raw: Mapping[str, Any], source: Path) -> dict[str, bool | Hours]:
    calendars: dict[str, bool | Hours] = {}
    problems: list[str] = []
    for name, spec in raw.items():
        if isinstance(spec, bool):
            calendars[name] = spec
        elif (parsed := parse_hours(name, spec, problems)) is not None:
            calendars[name] = parsed
    if problems:
        raise FlowError(f"{source}: " + "; ".join(problems))
    return calendars


def _flows(raw: Mapping[str, str], source: Path) -> dict[str, Flow]:
    flows: dict[str, Flow] = {}
    for name, relative in raw.items():
        path = (source.parent / relative).resolve()
        if not path.exists():
            raise FlowError(f"{source}: flow {name!r} points to {relative!r}, which does not exist")
        flow = read_text(path.read_text(encoding="utf-8"), str(path)).flow
        flows[name] = flows[flow.name] = flows[path.stem] = flow
    return flows


def _last(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


def load_scenario(path: Path) -> ScenarioFile:
    """The scenario at `path`: its structure checked against `ScenarioDocument` (every
    problem at once, each naming its key), then its flows, calendars and time read."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    try:
        check(ScenarioDocument, raw)
    except SchemaError as error:
        raise FlowError(f"{path}: " + "; ".join(describe(error.problems))) from None
    queues = raw.get("queues", {})
    extras = {
        "flows": _flows(raw.get("flows", {}), path),
        "hours_open": _hours(raw.get("hours", {}), path),
        "queue_metrics": {q: dict(spec.get("metrics", {})) for q, spec in queues.items()},
        "queues_at_capacity": frozenset(q for q, spec in queues.items() if spec.get("at_capacity")),
        "lex_intents": {k.lower(): v for k, v in raw.get("lex", {}).items()},
        "lambda_responses": dict(raw.get("lambdas", {})),
        "third_party_answers": raw.get("third_party_answers", True),
        "agent_answers_after_seconds": raw.get("agent_answers_after_seconds"),
        "queue": raw.get("queue", ""),
        "queue_ids": {q: _last(spec["id"]) for q, spec in queues.items() if spec.get("id")},
    }
    at = datetime.fromisoformat(raw["at"]).astimezone(UTC) if raw.get("at") else None
    return ScenarioFile(
        at,
        raw.get("caller"),
        {str(k): str(v) for k, v in raw.get("attributes", {}).items()},
        tuple(raw.get("inputs", ())),
        extras,
    )
