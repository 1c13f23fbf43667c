"""Requests signed as an IAM principal on the local gateway (tests, the demo).

A deployed stage's API Gateway verifies the SigV4 signature and puts the caller's ARN in the
request context (`identity.userArn`), where the routes that act for someone read it
(`platform.http.caller`). Chalice's local gateway signs nothing and names nobody, so locally
the caller is given here. This module is the only way to do it and it is never packaged
(devkit is not in the Lambda's code: `make check`'s import rules), so no deployed stage can
be told who is calling.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalice.local import LambdaEventConverter

ACCOUNT = "111122223333"


def user_arn(name: str) -> str:
    """The ARN of the IAM user `name` (who `platform.http.caller` then says is calling)."""
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


@contextmanager
def signed_as(name: str) -> Iterator[None]:
    """Every request the local gateway makes inside is signed by the IAM user `name`."""
    original = LambdaEventConverter.create_lambda_event

    def create(self: LambdaEventConverter, *args: Any, **kwargs: Any) -> Any:
        event = original(self, *args, **kwargs)
        event["requestContext"]["identity"]["userArn"] = user_arn(name)
        return event

    LambdaEventConverter.create_lambda_event = create  # type: ignore[method-assign]
    try:
        yield
    finally:
        LambdaEventConverter.create_lambda_event = original  # type: ignore[method-assign]
