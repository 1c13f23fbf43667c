"""Callback ledger: dispatch cost does not grow with the table, and request latency.

Dispatch reads only the sparse `due` index, so 100 due callbacks cost the same whether the
table also holds 1,000 or 20,000 finished ones. We count what DynamoDB would read (the
`ScannedCount` of every query) and the requests made, and also report wall time, which on
moto grows with the table because moto answers every query by reading the whole table.
Request latency is compared with the bare DynamoDB transaction the request needs.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from devkit.local_aws import local_aws

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DUE = 100
REQUESTS = 200


class _Meter:
    def __init__(self) -> None:
        self.requests = 0
        self.scanned = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        self.requests += 1
        self.scanned += int(parsed.get("ScannedCount", 0))


def _fill_finished(count: int) -> None:
    import boto3

    table = boto3.resource("dynamodb", region_name="us-east-1").Table("switchboard-dev-callbacks")
    with table.batch_writer() as batch:
        for n in range(count):
            batch.put_item(
                Item={
                    "pk": f"CB#done-{n}",
                    "sk": "CB",
                    "callback_id": f"done-{n}",
                    "status": "COMPLETED",
                    "number": f"+1212{5500000 + n:07d}",
                    "queue": "billing",
                    "priority": 5,
                }
            )


def _dispatch_once(others: int) -> dict[str, float]:
    with local_aws():
        from chalicelib.callbacks import model
        from chalicelib.callbacks.service import CallbackService
        from chalicelib.callbacks.store import DynamoLedger
        from chalicelib.platform.clock import FixedClock
        from devkit.fakes.callbacks import RecordingDialer, SequentialIds, callback_queues
        from devkit.fakes.outbound import FixedAgents, ScriptedContacts

        _fill_finished(others)
        ledger = DynamoLedger()
        for n in range(DUE):
            ledger.create(
                model.new_callback(
                    f"due-{n:03d}",
                    f"+1212{5550000 + n:07d}",
                    "billing",
                    NOW,
                    ("America/New_York",),
                    model.Policy(),
                ),
                None,
                model.hourly_allowance(f"+1212{5550000 + n:07d}", NOW, 5),
            )
        dialer = RecordingDialer()
        service = CallbackService(
            ledger,
            dialer,
            FixedAgents(DUE),
            ScriptedContacts(),
            FixedClock(NOW),
            {"billing": callback_queues()["billing"]},
            SequentialIds(),
            search=dialer,
        )
        meter = _Meter()
        from chalicelib.callbacks.store import CallbackRecord

        events = CallbackRecord._get_connection().connection.client.meta.events
        events.register("after-call.dynamodb.Query", lambda parsed, **kw: meter(parsed))
        started = time.perf_counter()
        report = service.dispatch()
        elapsed = time.perf_counter() - started
        assert len(report.dialled) == DUE, report
        return {"seconds": elapsed, "queries": meter.requests, "scanned": meter.scanned}


# 100,000 finished callbacks did not finish loading into moto within 10 minutes here (moto
# keeps the whole table in Python objects), so the large table is 20,000.
LARGE = 20_000


def measure_dispatch() -> dict[str, Any]:
    small, large = _dispatch_once(1_000), _dispatch_once(LARGE)
    return {
        "due": DUE,
        "small": small,
        "large": large,
        "scanned_ratio": large["scanned"] / small["scanned"],
        "time_ratio": large["seconds"] / small["seconds"],
    }


def measure_request() -> dict[str, float]:
    """A request against the bare transaction it writes: the same items, the same conditions."""
    with local_aws():
        from pynamodb.connection import Connection
        from pynamodb.transactions import TransactWrite

        from chalicelib.callbacks import model
        from chalicelib.callbacks.service import CallbackService
        from chalicelib.callbacks.store import (
            AllowanceRecord,
            CallbackRecord,
            DynamoLedger,
            LockRecord,
            _charge,
            _NamedWrite,
            _record,
        )
        from chalicelib.platform.clock import FixedClock
        from devkit.fakes.callbacks import RecordingDialer, SequentialIds, callback_queues
        from devkit.fakes.outbound import FixedAgents, ScriptedContacts

        ledger = DynamoLedger()
        dialer = RecordingDialer()
        service = CallbackService(
            ledger,
            dialer,
            FixedAgents(1),
            ScriptedContacts(),
            FixedClock(NOW),
            callback_queues(),
            SequentialIds(),
            search=dialer,
        )
        meter = _Meter()
        clients = {
            id(client): client
            for client in (
                ledger._connection.client,
                CallbackRecord._get_connection().connection.client,
                LockRecord._get_connection().connection.client,
            )
        }
        for client in clients.values():
            client.meta.events.register("after-call.dynamodb", lambda parsed, **kw: meter(parsed))
        connection = Connection(region="us-east-1")
        ours, raw, requests = [], [], []
        for n in range(REQUESTS):
            before = meter.requests
            started = time.perf_counter()
            service.request(f"+1212{5550000 + n:07d}", "billing", contact_id=f"c-{n}")
            middle = time.perf_counter()
            requests.append(meter.requests - before)
            number = f"+1212{5560000 + n:07d}"
            callback = model.new_callback(
                f"raw-{n}", number, "billing", NOW, ("America/New_York",), model.Policy(), NOW
            )
            with TransactWrite(connection=connection) as transaction:
                transaction.save(
                    _record(callback, model.Policy()), condition=CallbackRecord.pk.does_not_exist()
                )
                transaction.save(
                    LockRecord(f"NUMBER#{number}", "billing", callback_id=callback.callback_id),
                    condition=LockRecord.pk.does_not_exist(),
                )
                transaction.save(
                    LockRecord(f"CONTACT#raw-{n}", "CONTACT", callback_id=callback.callback_id),
                    condition=LockRecord.pk.does_not_exist(),
                )
                # The same conditional charge; naming the item costs a list append.
                _charge(_NamedWrite(transaction), model.hourly_allowance(number, NOW, 5))
            raw.append(time.perf_counter() - middle)
            ours.append(middle - started)
        charged = model.hourly_allowance(f"+1212{5550000 + n:07d}", NOW, 5)
        assert AllowanceRecord.get(f"RATE#{charged.key}", "RATE").hits == 1
        return {
            "ours_ms": statistics.median(ours) * 1000,
            "raw_ms": statistics.median(raw) * 1000,
            "ratio": statistics.median(ours) / statistics.median(raw),
            "requests": statistics.median(requests),
        }
