"""What the functions read from SSM Parameter Store through Powertools Parameters, each read
on first use and cached for `max_age`, so a change reaches every warm Lambda within five
minutes and no call pays for SSM every time:
- the caller-key secret (a SecureString, `switchboard caller-key rotate`);
- the contact flows' ids, which exist only once `switchboard flows deploy` created the flows
  (after the stack: the flows name the stack's Lambdas) and which it writes there."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)
from botocore.config import Config

from chalicelib.platform import aws
from chalicelib.platform.observability import logger
from chalicelib.platform.phone import CallerKeyError, CallerKeys, parse_caller_keys

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

MAX_AGE_SECONDS = 300
# A hook cannot wait on SSM for long: fail fast and go on without caller history.
_FAST = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"})
_parsed = lru_cache(maxsize=2)(parse_caller_keys)


class _Parameter:
    """One SSM parameter through Powertools. Its client is made on the first read: a function
    that builds a service holding one but never reads it (a callback hook that dials nothing)
    does not pay for an SSM client at its cold start."""

    def __init__(
        self, name: str, ssm: SSMClient | None = None, max_age: int = MAX_AGE_SECONDS
    ) -> None:
        self._name, self._max_age, self._ssm = name, max_age, ssm

    @cached_property
    def _provider(self) -> SSMProvider:
        return SSMProvider(boto3_client=self._ssm or aws.client("ssm", config=_FAST))

    def clear_cache(self) -> None:
        """Forget the value read: the next use reads SSM again."""
        if "_provider" in self.__dict__:
            self._provider.clear_cache()  # type: ignore[no-untyped-call]


class ParameterCallerKeys(_Parameter):
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


class ParameterFlowIds(_Parameter, Mapping[str, str]):
    """Contact flow ids by flow name, as `switchboard flows deploy` last wrote them (JSON).
    Unreadable, it is empty and says so in the log: callbacks wait and campaigns halt, naming
    the missing flow, rather than dialling into nothing."""

    def _ids(self) -> dict[str, str]:
        try:
            value = self._provider.get(self._name, max_age=self._max_age, transform="json")
        except (GetParameterError, TransformParameterError) as error:
            logger.error("contact flow ids unreadable", extra={"parameter": self._name,
                                                             "why": str(error)})  # fmt: skip
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
        ):
            logger.error("contact flow ids are not a map of names to ids",
                         extra={"parameter": self._name})  # fmt: skip
            return {}
        return value

    def __getitem__(self, name: str) -> str:
        return self._ids()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._ids())
