"""Per-stage placeholders: `{{lambda:NAME}}`, `{{queue:NAME}}`, `{{flow:NAME}}`, ...

A flow in `flows/` names our functions, queues, hours, prompts and other flows by name; deploy
turns the names into the stage's ARNs and export turns ARNs back into names, so export then
deploy to the same stage changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = ("lambda", "queue", "flow", "module", "hours", "prompt", "lex", "agent")
# The one definition of a placeholder; every reader of flows uses these.
PLACEHOLDER = re.compile(r"\{\{(" + "|".join(KINDS) + r"):([A-Za-z0-9 _.-]+)\}\}")
# Anything shaped like one, of any kind and name: what the validator checks is ours.
PLACEHOLDER_SHAPE = re.compile(r"\{\{([a-z]+):([^}]*)\}\}")


def placeholder_name(value: str, *kinds: str) -> str | None:
    """The name, if `value` is exactly one placeholder (of one of `kinds`, if given)."""
    match = PLACEHOLDER.fullmatch(value)
    if match is None or (kinds and match.group(1) not in kinds):
        return None
    return match.group(2)


def first_placeholder_name(value: str, *kinds: str) -> str | None:
    """The name of the first placeholder in `value` (of one of `kinds`, if given)."""
    for match in PLACEHOLDER.finditer(value):
        if not kinds or match.group(1) in kinds:
            return match.group(2)
    return None


# Another tool's template for a resource name, as in `${F:acme_main:F}` or `${FLOW:x:FLOW}`.
_FOREIGN_NAME = re.compile(r"\$\{[A-Z]+:([^:}]+):[A-Z]+\}")


def flow_reference_names(reference: str) -> list[str]:
    """Every name a flow or module reference may stand for, most literal first: the value,
    the id at the end of an ARN, our placeholder's name, another tool's templated name."""
    names = [reference, reference.rsplit("/", 1)[-1], reference.rsplit(":", 1)[-1]]
    ours = first_placeholder_name(reference, "flow", "module")
    theirs = _FOREIGN_NAME.search(reference)
    names += [name for name in (ours, theirs and theirs.group(1)) if name]
    return names


@dataclass(frozen=True)
class Resources:
    """What a stage has, by kind and name: {"queue": {"general": "arn:..."}, ...}."""

    arns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def arn(self, kind: str, name: str) -> str | None:
        names = self.arns.get(kind, {})
        if name in names:
            return names[name]
        folded = {k.casefold(): v for k, v in names.items()}
        return folded.get(name.casefold())

    def by_arn(self) -> dict[str, str]:
        return {
            arn: f"{{{{{kind}:{name}}}}}"
            for kind, names in self.arns.items()
            for name, arn in names.items()
        }


def placeholders_in(document: Any) -> list[str]:
    return sorted({m.group(0) for m in PLACEHOLDER.finditer(json.dumps(document))})


def _walk(value: Any, change: Any) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_walk(item, change) for item in value]
    if isinstance(value, dict):
        return {key: _walk(item, change) for key, item in value.items()}
    return value


def resolve(document: Any, resources: Resources) -> tuple[Any, list[str]]:
    """The document with every placeholder replaced, and the placeholders that could not be."""
    missing: set[str] = set()

    def swap(match: re.Match[str]) -> str:
        arn = resources.arn(match.group(1), match.group(2))
        if arn is None:
            missing.add(match.group(0))
            return match.group(0)
        return arn

    resolved = _walk(document, lambda text: PLACEHOLDER.sub(swap, text))
    return resolved, sorted(missing)


def unresolve(document: Any, resources: Resources) -> Any:
    """The document with every known ARN turned back into its placeholder."""
    reverse = resources.by_arn()
    if not reverse:
        return document
    pattern = re.compile("|".join(re.escape(arn) for arn in sorted(reverse, key=len, reverse=True)))
    return _walk(document, lambda text: pattern.sub(lambda m: reverse[m.group(0)], text))
