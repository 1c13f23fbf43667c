"""The routing rules file's structure (chalicelib/ivr/routing_rules.json): keys, types and
ranges. Which queue, hours or backup a name refers to is checked where the rules are built
(`routing.parse_routing_rules`). Imports pydantic: import it lazily, off the hook path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from chalicelib.platform.schema import (
    Document,
    HoursDocument,
    ProblemKind,
    SchemaError,
    SchemaProblem,
    check,
    field_path,
)


def _one_or_many(value: object) -> object:
    return [value] if isinstance(value, str) else value


OneOrMany = Annotated[list[str], BeforeValidator(_one_or_many), Field(min_length=1)]
PositiveInt = Annotated[int, Field(ge=1)]


class WhenDocument(Document):
    """A rule's conditions: a value or a list of values each, flags true or false."""

    intent: OneOrMany | None = None
    tier: OneOrMany | None = None
    language: OneOrMany | None = None
    predicted_reason: OneOrMany | None = None
    elderly: bool | None = None
    repeat_caller: bool | None = None


class RuleDocument(Document):
    name: str = ""
    queue: str
    priority: Annotated[int, Field(ge=1, le=10)] = 5
    when: WhenDocument = WhenDocument()


class QueueDocument(Document):
    hours: str
    backup: str = ""
    max_in_queue: PositiveInt = 20
    average_handle_seconds: PositiveInt = 300


class RoutingRulesDocument(Document):
    default_queue: Annotated[str, Field(min_length=1)]
    night_queue: str = ""
    closed_message: str = "We are closed. Please call again later."
    callback_offer_above_seconds: Annotated[int, Field(ge=0)] = 300
    menu: dict[str, str] = {}
    hours: dict[str, HoursDocument] = {}
    queues: dict[str, QueueDocument] = {}
    rules: list[RuleDocument] = []


def structure_problems(raw: Any) -> list[str]:
    """Every structural problem of a routing rules document, in the rules' own words."""
    try:
        check(RoutingRulesDocument, raw)
    except SchemaError as error:
        return [_in_rules_words(problem, raw) for problem in error.problems]
    return []


_OWNERS = {"queues": "queue", "hours": "hours"}


def _in_rules_words(problem: SchemaProblem, raw: Mapping[str, Any]) -> str:
    """Say a schema problem as the file's other problems are said: `rules[0].priority must
    be ...` becomes `rule 'green-channel': priority must be ...`."""
    location, owner = problem.location, ""
    if len(location) > 2 and location[0] == "rules" and isinstance(location[1], int):
        rule = raw["rules"][location[1]]
        owner = f"rule {rule.get('name') or f'#{location[1] + 1}'!r}"
    elif len(location) > 2 and location[0] in _OWNERS:
        owner = f"{_OWNERS[str(location[0])]} {location[1]!r}"
    rest = field_path(location[2:]) if owner else problem.field or "the rules file"
    unknown = problem.kind is ProblemKind.UNKNOWN
    said = f"unknown key {rest!r}" if unknown else f"{rest} {problem.message}"
    return f"{owner}: {said}" if owner else said
