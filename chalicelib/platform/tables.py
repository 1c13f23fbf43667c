"""What every PynamoDB table of ours shares: the stage's region, timeouts that fit a hook,
and list and map attributes that still read what earlier releases stored as JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    Attribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.constants import STRING
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.models import Model

from chalicelib.platform import aws
from chalicelib.platform.settings import settings


def _per_try_seconds() -> float:
    """Each DynamoDB request's connect and read timeout: four fit inside a hook's budget."""
    return max(0.1, settings().hook_budget_seconds / 4)


def table_meta(table_name: str) -> Any:
    """PynamoDB Meta for one of our tables, with timeouts that fit inside a hook's budget."""
    per_try = _per_try_seconds()
    return type(
        "Meta",
        (),
        {
            "table_name": table_name,
            "region": settings().region,
            "connect_timeout_seconds": per_try,
            "read_timeout_seconds": per_try,
            "max_retry_attempts": 1,
        },
    )


class _ProcessClient:
    """The process's one DynamoDB client, as PynamoDB would make it for `table_meta`
    (timeouts, one retry, no parameter validation), but from the session every other client
    of ours comes from (`platform.aws`). It lives as long as the process, as each model's own
    connection did (not an `lru_cache`: the tests' simulated cold starts clear those to find
    the lookups a new process must make, and a client is not one)."""

    _built: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls._built is None:
            from botocore.config import Config

            per_try = _per_try_seconds()
            config = Config(
                parameter_validation=False,
                connect_timeout=per_try,
                read_timeout=per_try,
                retries={"total_max_attempts": 2, "mode": "standard"},
            )
            cls._built = aws.client("dynamodb", region_name=settings().region, config=config)
        return cls._built


class _SharedClientConnection(Connection):
    """A table's connection (its own schema) over the process's one client."""

    @property
    def client(self) -> Any:
        return _ProcessClient.get()


def transactions() -> Connection:
    """A connection for `TransactWrite`, over the process's one client: a transaction is
    held to the same timeouts as every other request (a hook writes one, within its budget)."""
    return _SharedClientConnection(region=settings().region)


class Table(Model):
    """The base of each of our PynamoDB models: all of them send through one client.

    PynamoDB gives every model its own connection, and each builds its own botocore session
    and client, loading DynamoDB's service model again: about 60 ms of a cold start for each
    table a hook reads (pynamodb/PynamoDB#876, #1245). Our tables share one region and one
    set of timeouts, so they share one client instead."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        # TableConnection sends every request through its public `connection` (pynamodb#1245
        # proposes passing it in); a model's schema stays its own.
        if not isinstance(table.connection, _SharedClientConnection):
            shared = _SharedClientConnection(region=settings().region)
            shared.add_meta_table(table.get_meta_table())
            table.connection = shared
        return table


def stamp(moment: datetime) -> str:
    """A sortable UTC timestamp, always the same width (for sort keys)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


CONDITION_FAILED = "ConditionalCheckFailedException"
CANCELLED_BY_CONDITION = "ConditionalCheckFailed"  # an item's code in a cancelled transaction


def cancellation_codes(error: TransactWriteError) -> list[str]:
    """Each item's code in a cancelled transaction, in the order the items were sent."""
    return [reason.code if reason else "" for reason in error.cancellation_reasons or []]


def lost_race(error: PynamoDBException) -> bool:
    """The write failed only because a condition did not hold: someone else wrote first."""
    if isinstance(error, TransactWriteError):
        return CANCELLED_BY_CONDITION in cancellation_codes(error)
    return error.cause_response_code == CONDITION_FAILED


class ReadsJSONText(Attribute[Any]):
    """For a list or map attribute that releases before 2026-12 stored as JSON text in a
    string attribute: such an item still reads (the text is decoded and given to
    `from_json_text`), and is written in the attribute's own type the next time it is saved,
    so a live stage needs no migration run. Mix in before the PynamoDB attribute class."""

    def get_value(self, value: dict[str, Any]) -> Any:
        if STRING in value and self.attr_type != STRING:
            return self.serialize(self.from_json_text(json.loads(value[STRING])))
        return super().get_value(value)

    def from_json_text(self, decoded: Any) -> Any:
        return decoded


# PynamoDB types `of` as the element's Python type, while it takes the element's attribute
# class; for lists of scalars the two differ, hence `ListAttribute[Any]`.
class TextListAttribute(ReadsJSONText, ListAttribute[Any]):
    """Strings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(of=UnicodeAttribute, **kwargs)


class InstantListAttribute(ReadsJSONText, ListAttribute[Any]):
    """Instants, each stored as PynamoDB's UTC time string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(of=UTCDateTimeAttribute, **kwargs)

    def from_json_text(self, decoded: Any) -> Any:
        return [datetime.fromisoformat(text) for text in decoded]


class TextMapAttribute(ReadsJSONText, MapAttribute[str, str]):
    """A map of text to text with keys of our choosing, as PynamoDB's raw `MapAttribute`
    (which PynamoDB recognises only by its exact class, hence `is_raw`); read it with
    `as_dict()`."""

    @classmethod
    def is_raw(cls) -> bool:
        return True
