"""The body of `POST /callbacks`: which keys, of which type. Whether the number is a number
we may call, the queue one we serve and the priority in range is the service's to say (the
same rules hold for a callback asked for in the IVR). Imports pydantic: import it lazily,
off the hook path.
"""

from __future__ import annotations

from typing import Any

from chalicelib.platform.schema import Document, ProblemKind, SchemaError, check


class CallbackRequest(Document):
    number: str
    queue: str
    slot: str = ""
    journey: str = ""
    priority: int = 5


_CODES = {
    ProblemKind.UNKNOWN: "unknown_field",
    ProblemKind.MISSING: "missing_field",
    ProblemKind.WRONG_TYPE: "wrong_type",
    ProblemKind.INVALID: "invalid_field",
}
_FIRST = {ProblemKind.UNKNOWN: 0, ProblemKind.MISSING: 1, ProblemKind.WRONG_TYPE: 2}


def read_callback_request(body: dict[str, Any]) -> CallbackRequest | list[dict[str, str]]:
    """The request, or every problem as `{"error", "field", "message"}`, an unknown key
    first, then a missing one, then a wrong type. A key sent as null means "not given"."""
    given = {name: value for name, value in body.items() if value is not None}
    try:
        return check(CallbackRequest, given)
    except SchemaError as error:
        problems = sorted(error.problems, key=lambda problem: _FIRST.get(problem.kind, 3))
        return [
            {
                "error": _CODES[problem.kind],
                "field": problem.field,
                "message": f"{problem.field} {problem.message}",
            }
            for problem in problems
        ]
