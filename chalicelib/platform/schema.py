"""Schemas for what people write: a JSON document checked against a pydantic model, every
problem named by its field, all of them at once.

The structure lives here (keys, types, ranges, patterns); what refers to what (a rule's
queue is defined, a backup exists) stays in the code that builds the value, which reports in
the same words. pydantic costs about 100 ms to import: import this module inside the function
that checks, never at the top of a module a hook imports (tests/integration/test_hook_path.py
holds every hook to that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Document(BaseModel):
    """A document people write: an unknown key is refused (a typo is never ignored) and
    nothing is coerced (`"5"` is not a priority, `1` is not `true`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ProblemKind(Enum):
    MISSING = "missing"
    UNKNOWN = "unknown"
    WRONG_TYPE = "wrong_type"
    INVALID = "invalid"


@dataclass(frozen=True)
class SchemaProblem:
    location: tuple[int | str, ...]  # ("rules", 2, "priority"); () is the whole document
    kind: ProblemKind
    message: str

    @property
    def field(self) -> str:
        """The location as the document reads: `rules[2].priority`."""
        return field_path(self.location)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class SchemaError(ValueError):
    def __init__(self, problems: Sequence[SchemaProblem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = tuple(problems)


D = TypeVar("D", bound=BaseModel)


def check(schema: type[D], raw: Any) -> D:
    """The document as `schema`, or SchemaError listing every problem in document order."""
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        raise SchemaError([_problem(detail) for detail in error.errors()]) from None


def describe(problems: Sequence[SchemaProblem]) -> list[str]:
    """One line per problem, `field message`, with the unknown keys of one object together
    (`queues.billing: unknown keys colour, size`), in document order."""
    lines: list[str | list[str]] = []  # a list collects the unknown keys of one object
    unknown: dict[str, list[str]] = {}
    for problem in problems:
        if problem.kind is ProblemKind.UNKNOWN and problem.location:
            parent = field_path(problem.location[:-1])
            if parent not in unknown:
                unknown[parent] = [f"{parent + ': ' if parent else ''}unknown keys "]
                lines.append(unknown[parent])
            unknown[parent].append(str(problem.location[-1]))
        else:
            lines.append(f"{problem.field} {problem.message}".strip())
    return [line if isinstance(line, str) else line[0] + ", ".join(line[1:]) for line in lines]


def field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path


_KINDS = {"missing": ProblemKind.MISSING, "extra_forbidden": ProblemKind.UNKNOWN}
_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "a list",
    "float_type": "a number",
}
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known key (a typo?)",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "too_short": "must have at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "{input!r} does not match {pattern}",
    "literal_error": "must be {expected}",
}


def _problem(detail: Mapping[str, Any]) -> SchemaProblem:
    kind_name = str(detail["type"])
    if kind_name == "value_error":  # raised by a validator of ours, already in our words
        kind, message = ProblemKind.INVALID, str(detail["ctx"]["error"])
    elif kind_name in _TYPE_NAMES:
        kind, message = ProblemKind.WRONG_TYPE, f"must be {_TYPE_NAMES[kind_name]}"
    else:
        kind = _KINDS.get(kind_name, ProblemKind.INVALID)
        template = _MESSAGES.get(kind_name)
        if kind_name == "too_short" and detail.get("ctx", {}).get("min_length") == 1:
            template = "needs at least one item"
        context = {**detail.get("ctx", {}), "input": detail.get("input")}
        message = template.format(**context) if template else _lower_first(str(detail["msg"]))
    location = tuple(part for part in detail["loc"] if not _is_marker(part))
    return SchemaProblem(location, kind, message)


# A union's branches appear in pydantic's error locations, and a bad key of a mapping gets a
# `[key]` after it; both (union tags are written `<like-this>`, `Tag("<calendar>")`) are left
# out so the location reads as the document does.
_TAG = re.compile(r"<[a-z-]+>")


def _is_marker(part: int | str) -> bool:
    return isinstance(part, str) and (part == "[key]" or bool(_TAG.fullmatch(part)))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------------------------------------
# Shared parts


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class HoursDocument(Document):
    """Hours of operation as the routing rules and scenarios write them; the time zone, the
    windows and the dates are read (and refused in their own words) by `parse_hours`."""

    timezone: str
    weekly: dict[Weekday, list[str]] = {}
    holidays: list[str] = []
