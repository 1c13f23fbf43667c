"""The HTTP API's conventions, for every capability: JSON bodies read with limits, and
errors that name the field (`{"error", "field", "message"}`; a schema's refusal also lists
every problem under `problems`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalice.app import Response


class BodyError(ValueError):
    """A body that is missing, too large or not a JSON object; `code` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def json_object(raw: str | bytes | None, max_bytes: int) -> dict[str, Any]:
    if not raw:
        raise BodyError("missing_body", "send a JSON object")
    if len(raw) > max_bytes:
        raise BodyError("body_too_large", f"the body is over {max_bytes} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BodyError("malformed_json", "the body is not valid JSON") from None
    except RecursionError:
        raise BodyError("malformed_json", "the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BodyError("malformed_json", "the body must be a JSON object")
    return body


class NoCallerError(ValueError):
    """The request carries no IAM caller: a route that acts for someone cannot name them."""


def caller(context: Mapping[str, Any] | None) -> str:
    """Who signed the request, from API Gateway's IAM identity (never from the body): an
    IAM user's name (`arn:...:user/rita` -> "rita"), or an assumed role's role and session
    (`arn:...:assumed-role/qa-reviewer/rita` -> "qa-reviewer/rita")."""
    identity = (context or {}).get("identity") or {}
    arn = identity.get("userArn") if isinstance(identity, Mapping) else None
    if not isinstance(arn, str) or not arn.startswith("arn:") or arn.count(":") < 5:
        raise NoCallerError("the request is not signed by an IAM principal")
    resource = arn.split(":", 5)[5]
    name = resource.partition("/")[2]
    if not name or len(name) > 200 or not name.isprintable():
        raise NoCallerError(f"the caller {arn!r} names no principal")
    return name


def error(
    status: int,
    code: str,
    field: str,
    message: str,
    headers: dict[str, str | list[str]] | None = None,
) -> Response:
    return Response(
        body={"error": code, "field": field, "message": message},
        status_code=status,
        headers=dict(headers or {}),
    )


def invalid(problems: list[dict[str, str]]) -> Response:
    """400 naming the first problem (as every refusal does) and listing them all."""
    return Response(body={**problems[0], "problems": problems}, status_code=400)
