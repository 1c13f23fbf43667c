"""Small flow-language actions for tests: one builder for every flow test module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def act(
    identifier: str,
    type_: str,
    params: dict[str, Any] | None = None,
    nxt: str = "",
    conditions: Sequence[tuple[str, ...]] = (),
    errors: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """An action; a condition is (operand, next) for Equals, or (operator, operand, next)."""
    transitions: dict[str, Any] = {"NextAction": nxt} if nxt else {}
    if conditions:
        transitions["Conditions"] = [
            {
                "NextAction": c[-1],
                "Condition": {"Operator": c[0] if len(c) == 3 else "Equals", "Operands": [c[-2]]},
            }
            for c in conditions
        ]
    if errors:
        transitions["Errors"] = [{"NextAction": n, "ErrorType": e} for e, n in errors]
    return {
        "Identifier": identifier,
        "Type": type_,
        "Parameters": params or {},
        "Transitions": transitions,
    }
