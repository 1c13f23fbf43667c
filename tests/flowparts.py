"""Small flow-language actions for tests: one builder for every flow test module."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Real exported flows, vendored with their sources and licences (SOURCES.md there).
REAL_FLOWS_DIR = Path(__file__).resolve().parent / "fixtures" / "real-flows"
# The two aws-samples sets the loader and validator tests were written against.
SAMPLE_FLOWS = sorted(
    path
    for folder in ("gitlab-cicd-terraform", "outbound-call")
    for path in (REAL_FLOWS_DIR / folder).glob("*.json")
)


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
