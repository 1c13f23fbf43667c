"""Amazon Connect flow language (Version 2019-10-30): the document as typed values.

Pure: no AWS imports. The loader keeps `Metadata` and each action's raw JSON verbatim so a
flow can be written back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

FLOW_LANGUAGE_VERSION = "2019-10-30"


_OPERATOR_SIGNS = {
    "Equals": "=",
    "NumberGreaterThan": ">",
    "NumberLessThan": "<",
    "NumberGreaterOrEqualTo": ">=",
    "NumberLessOrEqualTo": "<=",
}


_SSML_TAG = re.compile(r"<[^>]+>")


def spoken(text: str) -> str:
    """What a prompt says: SSML tags read as pauses, whitespace as one space."""
    return " ".join(_SSML_TAG.sub(" ", text).split())


class FlowError(ValueError):
    """The document is not a usable flow; the message names the action and field."""


@dataclass(frozen=True)
class Condition:
    operator: str
    operands: tuple[str, ...]
    next_action: str


@dataclass(frozen=True)
class Transition:
    """One way out of an action, named for each reader: where it is in the document (`field`),
    what a drawing shows (`label`) and what a diff compares (`name`)."""

    kind: str  # "next" | "condition" | "error"
    target: str
    field: str
    label: str = ""
    name: str = "NextAction"


@dataclass(frozen=True)
class Action:
    identifier: str
    type: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    next_action: str = ""
    conditions: tuple[Condition, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def transitions(self) -> tuple[Transition, ...]:
        """Every way out, in document order: NextAction, each condition, each error. Built
        once per action: the validator walks them several times."""
        found = []
        if self.next_action:
            found.append(Transition("next", self.next_action, "Transitions.NextAction"))
        for index, c in enumerate(self.conditions):
            operands = "|".join(c.operands)
            found.append(
                Transition(
                    "condition",
                    c.next_action,
                    f"Transitions.Conditions[{index}].NextAction",
                    f"{_OPERATOR_SIGNS.get(c.operator, c.operator)} {operands}",
                    f"Condition {c.operator} {operands}",
                )
            )
        for error, target in self.errors.items():
            field_ = f"Transitions.Errors[{error}].NextAction"
            found.append(Transition("error", target, field_, error, f"Error {error}"))
        return tuple(found)

    def error_target(self, error_type: str) -> str:
        """Where the named error goes, falling back to the catch-all NoMatchingError."""
        return self.errors.get(error_type) or self.errors.get("NoMatchingError", "")


@dataclass(frozen=True)
class Flow:
    start_action: str
    actions: Mapping[str, Action]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    flow_type: str = ""  # CONTACT_FLOW, CUSTOMER_QUEUE, ..., MODULE; "" when the file doesn't say
    settings: Mapping[str, Any] = field(default_factory=dict)  # flow modules only

    def action(self, identifier: str) -> Action:
        try:
            return self.actions[identifier]
        except KeyError:
            raise FlowError(f"no action with Identifier {identifier!r}") from None


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict) or not isinstance(raw.get("Condition"), dict):
        raise FlowError(f"{where}: each condition needs a Condition object")
    operands = raw["Condition"].get("Operands", [])
    return Condition(
        operator=str(raw["Condition"].get("Operator", "")),
        operands=tuple(str(o) for o in operands),
        next_action=str(raw.get("NextAction", "")),
    )


def _action(raw: Any, index: int) -> Action:
    if not isinstance(raw, dict) or not isinstance(raw.get("Identifier"), str):
        raise FlowError(f"Actions[{index}]: an action needs a string Identifier")
    where = f"action {raw['Identifier']!r} ({raw.get('Type', '?')})"
    transitions = raw.get("Transitions") or {}
    if not isinstance(transitions, dict):
        raise FlowError(f"{where}: Transitions must be an object")
    errors = {
        str(e.get("ErrorType")): str(e.get("NextAction", ""))
        for e in transitions.get("Errors", [])
        if isinstance(e, dict)
    }
    return Action(
        identifier=raw["Identifier"],
        type=str(raw.get("Type", "")),
        parameters=raw.get("Parameters") or {},
        next_action=str(transitions.get("NextAction", "")),
        conditions=tuple(_condition(c, where) for c in transitions.get("Conditions", [])),
        errors=errors,
    )


def load_flow(document: Mapping[str, Any], name: str = "", flow_type: str = "") -> Flow:
    """Read a flow-language document (a raw export, as a dict)."""
    if document.get("Version") != FLOW_LANGUAGE_VERSION:
        raise FlowError(
            f"Version must be {FLOW_LANGUAGE_VERSION!r}, got {document.get('Version')!r}"
        )
    raw_actions = document.get("Actions")
    if not isinstance(raw_actions, list):
        raise FlowError("Actions must be a list")
    actions = [_action(raw, i) for i, raw in enumerate(raw_actions)]
    by_id = {a.identifier: a for a in actions}
    if len(by_id) != len(actions):
        raise FlowError("action Identifiers must be unique")
    start = document.get("StartAction")
    if start not in by_id:
        raise FlowError(f"StartAction {start!r} is not an action in this flow")
    settings = document.get("Settings") or {}
    if settings and not flow_type:
        flow_type = "MODULE"
    return Flow(str(start), by_id, document.get("Metadata") or {}, name, flow_type, settings)
