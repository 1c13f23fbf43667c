"""A semantic diff of two flows: actions added, removed and changed, by id and type.

Layout (`Metadata`) is ignored; what a caller would experience differently is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flowlang.model import Action, Flow


@dataclass(frozen=True)
class Change:
    kind: str  # "added", "removed", "changed", "start"
    action_id: str
    action_type: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~", "start": "*"}[self.kind]
        head = (
            f"{sign} {self.action_id} ({self.action_type})"
            if self.action_type
            else f"{sign} {self.action_id}"
        )
        return "\n".join([head, *(f"    {d}" for d in self.details)])


def _flat(value: Any, prefix: str) -> dict[str, str]:
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: json.dumps(value, ensure_ascii=False)}


def _transitions(action: Action) -> dict[str, str]:
    return {way.name: way.target for way in action.transitions}


def _compare(old: dict[str, str], new: dict[str, str], label: str) -> list[str]:
    details = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            details.append(f"{label}{key}: {old.get(key, '(none)')} -> {new.get(key, '(none)')}")
    return details


def diff_flows(old: Flow, new: Flow) -> list[Change]:
    changes: list[Change] = []
    if old.start_action != new.start_action:
        changes.append(Change("start", f"StartAction {old.start_action} -> {new.start_action}", ""))
    for identifier in sorted(set(new.actions) - set(old.actions)):
        changes.append(Change("added", identifier, new.actions[identifier].type))
    for identifier in sorted(set(old.actions) - set(new.actions)):
        changes.append(Change("removed", identifier, old.actions[identifier].type))
    for identifier in sorted(set(old.actions) & set(new.actions)):
        before, after = old.actions[identifier], new.actions[identifier]
        details = [f"Type: {before.type} -> {after.type}"] if before.type != after.type else []
        details += _compare(
            _flat(dict(before.parameters), ""), _flat(dict(after.parameters), ""), "Parameters."
        )
        details += _compare(_transitions(before), _transitions(after), "Transitions ")
        if details:
            changes.append(Change("changed", identifier, after.type, tuple(details)))
    return changes
