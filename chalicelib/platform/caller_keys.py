"""The caller-key secret, from SSM Parameter Store (a SecureString) through Powertools
Parameters: read on first use and cached for `max_age`, so a rotation reaches every warm
Lambda within five minutes and a hook does not pay for SSM on every call."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.config import Config

from chalicelib.platform.observability import logger
from chalicelib.platform.phone import CallerKeyError, CallerKeys, parse_caller_keys

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

MAX_AGE_SECONDS = 300
# A hook cannot wait on SSM for long: fail fast and go on without caller history.
_FAST = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"})
_parsed = lru_cache(maxsize=2)(parse_caller_keys)


class ParameterCallerKeys:
    def __init__(
        self, name: str, ssm: SSMClient | None = None, max_age: int = MAX_AGE_SECONDS
    ) -> None:
        self._name, self._max_age = name, max_age
        self._provider = SSMProvider(boto3_client=ssm or boto3.client("ssm", config=_FAST))

    def keys(self) -> CallerKeys:
        try:
            return self._read()
        except CallerKeyError as error:
            logger.warning(
                "caller key unavailable: callers are served without their history",
                extra={"parameter": self._name, "why": str(error)},
            )
            raise

    def _read(self) -> CallerKeys:
        try:
            value = self._provider.get(self._name, decrypt=True, max_age=self._max_age)
        except GetParameterError as error:
            raise CallerKeyError(f"cannot read {self._name}: {error}") from None
        if not isinstance(value, str):
            raise CallerKeyError(f"{self._name} is not a string parameter")
        return _parsed(value)
