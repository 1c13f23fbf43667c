"""From an analysis file's event to its score written: the QA trigger path in process on moto,
as a ratio to the bare storage requests the path cannot do without.

Ours is `take_event` on the EventBridge event as the events queue delivers it: the event read,
the file fetched from S3, the contact's record read, the conversation read and scored with
the queue's rubric (a typical 6-minute call, 80 turns), the record written with its reason
counts in one transaction, the follow-ups (the review, its examples). The baseline is what no
implementation can skip: the file fetched, the record read, the scored record written with
its reason count in one transaction. Both
alternate in one loop so drift hits both alike.

What this cannot measure offline: S3 telling EventBridge, EventBridge delivering to SQS and
Lambda polling it. The promise (p99 <= 60 s from the file to the score) is those plus this.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit.local_aws import ROOT, local_aws

ROUNDS = 300
WARM_UP = 30
BUCKET = "switchboard-dev-connect-instance"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _call(n: int) -> str:
    from devkit.analyses import voice_analysis

    lines = [
        ("AGENT", "Thank you for calling Switchboard Bank. This call is recorded."),
        ("CUSTOMER", "Hi, I have a question about a payment on my card statement."),
    ]
    for k in range(39):
        lines.append(("AGENT", f"Let me check that payment for you, step {k} of the review."))
        lines.append(("CUSTOMER", f"Thanks, it was the transfer on the {k % 28 + 1}th."))
    return voice_analysis(lines, categories=["Payments"] if n % 2 else ["Complaint"])


def _event(key: str) -> str:
    return json.dumps({
        "version": "0", "id": key, "detail-type": "Object Created", "source": "aws.s3",
        "time": NOW.isoformat(), "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}},
    })  # fmt: skip


def measure(rounds: int = ROUNDS) -> dict[str, Any]:
    with local_aws():
        import boto3

        from chalicelib import composition
        from chalicelib.platform.clock import FixedClock
        from chalicelib.qa import handlers as qa_handlers
        from chalicelib.qa.capability import build_service
        from chalicelib.qa.handlers import take_event
        from chalicelib.qa.records import ContactSeen
        from chalicelib.qa.store import DynamoRubrics, QaItem
        from devkit.analyses import analysis_key
        from devkit.fakes.qa import RecordedInterventions
        from devkit.local_aws import empty_tables

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        rubric = json.loads((ROOT / "rubrics" / "bank-service.json").read_text())
        DynamoRubrics().put(rubric, ["*"], NOW)
        service = build_service(clock=FixedClock(NOW), connect=boto3.client("connect"))
        service.interventions = RecordedInterventions()
        qa_handlers.served.override(service)
        from pynamodb.connection import Connection

        connection = Connection(region="us-east-1")
        ours, bare = [], []
        try:
            for n in range(rounds + WARM_UP):
                # moto copies a whole table for every transaction, DynamoDB does not: each
                # round starts from a table that holds only the rubric, for both sides.
                empty_tables()
                DynamoRubrics().put(rubric, ["*"], NOW)
                contact = f"00000000-0000-4000-8000-{n:012d}"
                ended = NOW - timedelta(minutes=3)
                service.take(ContactSeen(contact, ended, "agent-7", "billing", ended))
                key = analysis_key(contact)
                s3.put_object(Bucket=BUCKET, Key=key, Body=_call(n).encode())
                started = time.perf_counter()
                take_event(_event(key))
                took = time.perf_counter() - started
                started = time.perf_counter()
                _bare(s3, key, contact, QaItem, connection)
                raw = time.perf_counter() - started
                if n >= WARM_UP:
                    ours.append(took * 1000)
                    bare.append(raw * 1000)
        finally:
            composition.reset()
    return {
        "rounds": rounds,
        "ours_p50_ms": statistics.median(ours),
        "ours_p99_ms": _percentile(ours, 0.99),
        "raw_p50_ms": statistics.median(bare),
        "raw_p99_ms": _percentile(bare, 0.99),
        "ratio_p50": statistics.median(ours) / statistics.median(bare),
        "ratio_p99": _percentile(ours, 0.99) / _percentile(bare, 0.99),
    }


def _bare(s3: Any, key: str, contact: str, item_type: Any, connection: Any) -> None:
    """The file, the record, and the record written with its one reason count in one
    transaction (the count must land exactly when the record says so)."""
    from pynamodb.transactions import TransactWrite

    from chalicelib.qa.records import Tally
    from chalicelib.qa.store import _count

    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    item = item_type.get(f"CONTACT#{contact}", "QA", consistent_read=True)
    item.card = body[:4000].decode("utf-8", "replace")  # a scorecard's size
    counted, actions = _count(Tally("billing", "Baseline", NOW, contact))
    with TransactWrite(connection=connection) as transaction:
        transaction.save(item)
        transaction.update(counted, actions)


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
