"""Items written by releases before 2026-12, which kept lists and maps as JSON text in string
attributes, still read the same, and take the attribute's own type when next saved: a live
stage upgrades without a migration run."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3

from chalicelib.callbacks import model
from chalicelib.callbacks.store import DynamoLedger, stamp
from chalicelib.ivr.pin import PinOutcome
from chalicelib.ivr.store import DynamoPinGuards
from chalicelib.platform.settings import settings

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def raw_item(table: str, key: dict[str, dict[str, str]]) -> dict[str, dict[str, object]]:
    return boto3.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]


def test_a_callback_stored_with_json_text_reads_the_same_and_is_rewritten_typed(tables) -> None:
    ledger = DynamoLedger()
    callback = model.new_callback(
        "legacy",
        "+12125550142",
        "billing",
        NOW,
        ("America/New_York", "America/Chicago"),
        model.Policy(),
    )
    ledger.create(callback, None, model.hourly_allowance(callback.number, NOW, 5))
    stored = ledger.get("legacy")
    assert stored is not None and stored.history
    table, key = settings().table("callbacks"), {"pk": {"S": "CB#legacy"}, "sk": {"S": "CB"}}
    # What the release before wrote: the same values as JSON text.
    legacy = [[t.status.value, stamp(t.at), t.reason] for t in stored.history]
    boto3.client("dynamodb").update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET time_zones = :zones, history = :history",
        ExpressionAttributeValues={
            ":zones": {"S": json.dumps(list(stored.time_zones))},
            ":history": {"S": json.dumps(legacy)},
        },
    )
    assert raw_item(table, key)["history"].keys() == {"S"}

    assert ledger.get("legacy") == stored

    moved = ledger.transition(stored, model.cancel(stored, NOW + timedelta(minutes=1)))
    assert moved is not None and moved.status is model.Status.CANCELLED
    item = raw_item(table, key)
    assert item["time_zones"] == {"L": [{"S": "America/New_York"}, {"S": "America/Chicago"}]}
    assert [entry["M"]["status"]["S"] for entry in item["history"]["L"]] == [
        t.status.value for t in moved.history
    ]
    assert ledger.get("legacy") == moved


def test_a_pin_guard_stored_with_json_text_reads_the_same_and_is_rewritten_typed(tables) -> None:
    table, key = settings().table("pin-guards"), {"customer_id": {"S": "C-LEGACY"}}
    failed_at = NOW - timedelta(minutes=3)
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            **key,
            "failures": {"S": json.dumps([failed_at.isoformat()])},
            "counted": {"S": json.dumps({"contact-1#1": "wrong"})},
            "verified_contact": {"S": ""},
            "version": {"N": "1"},
        },
    )
    guards = DynamoPinGuards()
    guard = guards.load("C-LEGACY")
    assert (guard.failures, guard.counted) == ((failed_at,), {"contact-1#1": PinOutcome.WRONG})

    later = NOW - timedelta(minutes=1)
    updated = guards.update("C-LEGACY", lambda g: replace(g, failures=(*g.failures, later)))
    item = raw_item(table, key)
    assert item["failures"]["L"][1] == {"S": later.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")}
    assert item["counted"] == {"M": {"contact-1#1": {"S": "wrong"}}}
    assert guards.load("C-LEGACY") == updated
