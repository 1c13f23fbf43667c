"""QA on DynamoDB under concurrency (moto through the atomic fixture, so a red test is our
bug): eight consumers taking the same shuffled, duplicated events still give one record per
contact, each reason counted once, one review per flagged contact and one intervention
callback per contact that asks for it; eight reviewers never claim the same review."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.qa.records import ContactSeen
from devkit.analyses import voice_analysis
from devkit.fakes.qa import KnownContacts
from tests.integration.conftest import NOW
from tests.integration.test_qa_handlers import (
    GOOD,
    completed,
    contact_id,
    contact_record,
    service,
    written,
)

CONTACTS = 12


def _events() -> list[tuple[str, Any]]:
    """Per contact: COMPLETED, two contact-record copies, its analysis file event told twice.
    Every third customer ends upset (a callback), every other contact has a complaint."""
    found: list[tuple[str, Any]] = []
    for n in range(CONTACTS):
        closing = -4.0 if n % 3 == 0 else 2.0
        categories = ["Complaint"] if n % 2 == 0 else []
        file_event = json.dumps(written(200 + n, voice_analysis(GOOD, categories, closing)))
        found += [
            ("event", json.dumps(completed(200 + n))),
            ("record", contact_record(200 + n, number=f"+1212555{n:04d}")),
            ("record", contact_record(200 + n, number=f"+1212555{n:04d}")),
            ("event", file_event),
            ("event", file_event),
        ]
    return found


def test_eight_consumers_give_one_record_one_count_one_review_one_callback(qa, atomic_moto) -> None:
    from chalicelib.callbacks import handlers as callbacks_handlers
    from chalicelib.qa.handlers import take_contact_record, take_event

    # What DescribeContact answers for a file that comes before any event or record.
    service().contacts = KnownContacts({
        contact_id(200 + n): ContactSeen(contact_id(200 + n), NOW - timedelta(minutes=1),
                                         "agent-7", "billing", NOW - timedelta(minutes=2))
        for n in range(CONTACTS)
    })  # fmt: skip
    deliveries = _events()
    random.Random(7).shuffle(deliveries)
    failures: list[BaseException] = []

    def consume(part: list[tuple[str, Any]]) -> None:
        for kind, body in part:
            try:
                take_event(body) if kind == "event" else take_contact_record(body)
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=consume, args=(deliveries[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    qa_service = service()
    records = [qa_service.records.get(contact_id(200 + n)) for n in range(CONTACTS)]
    assert all(r is not None and r.status.value == "SCORED" for r in records)
    assert all(r.version <= 12 for r in records)  # each delivery wrote at most once
    bucket = (NOW - timedelta(minutes=2)).replace(minute=45, second=0, microsecond=0)
    complaints = qa_service.reasons.counts("billing", "Complaint", [bucket])
    assert complaints == {bucket: CONTACTS // 2}
    upset = [r for n, r in enumerate(records) if n % 3 == 0]
    assert all(qa_service.reviews.reviews.get(r.contact_id) is not None for r in upset)
    ledger = callbacks_handlers.served().ledger
    asked = Counter()
    for n in range(CONTACTS):
        for callback in ledger.active_for_number(f"+1212555{n:04d}"):
            asked[callback.contact_id] += 1
    assert asked == Counter({r.contact_id: 1 for r in upset})
    assert all(r.callback_id and not r.callback_id.startswith("refused") for r in upset)


def test_eight_reviewers_never_share_a_review(qa, atomic_moto, clock) -> None:
    from chalicelib.qa.service import ReviewQueue
    from chalicelib.qa.store import DynamoReviews

    queue = ReviewQueue(DynamoReviews(), clock)
    for n in range(24):
        clock.set(NOW + timedelta(seconds=n))
        queue.enqueue(contact_id(500 + n), ("low_score",))
    claimed: dict[str, list[str]] = {}
    lock = threading.Lock()

    def review(reviewer: str) -> None:
        from chalicelib.qa.review import submit

        while (got := queue.claim_next(reviewer)) is not None:
            with lock:
                claimed.setdefault(got.contact_id, []).append(reviewer)
            # One at a time: the next claim comes once this one is submitted.
            queue.change(got.contact_id, reviewer, lambda r, w=reviewer: submit(r, w, clock.now()))

    threads = [threading.Thread(target=review, args=(f"reviewer-{k}",)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(contact_id(500 + n) for n in range(24))
    assert all(len(holders) == 1 for holders in claimed.values()), claimed
    assert len({h[0] for h in claimed.values()}) > 1  # they really did work side by side


# -- the one write each record relies on -----------------------------------------------------------


@pytest.mark.parametrize("with_tallies", [False, True], ids=["alone", "with-counts"])
def test_one_record_per_contact_a_second_first_write_loses(qa, with_tallies) -> None:
    """The contact event and the analysis file both find no record and both write one: the
    second write must lose (and its writer read again and merge), or the scored record loses
    the agent and queue the event gave it. A stale read loses the same way. This is the
    condition the eight-consumer test needs, tried one interleaving at a time."""
    from chalicelib.qa.records import QaRecord, QaStatus, Tally, bucket_of
    from chalicelib.qa.store import DynamoQaRecords, DynamoReasonCounts

    records, cid = DynamoQaRecords(), contact_id(300)
    tallies = [Tally("billing", "Complaint", bucket_of(NOW), cid)] if with_tallies else []
    from_event = QaRecord(cid, QaStatus.AWAITING, agent_id="agent-7", queue="billing")
    from_file = QaRecord(cid, QaStatus.SCORED, total=92.0, reasons=("Complaint",))
    assert records.put(None, from_event)
    assert not records.put(None, from_file, tallies)
    kept = records.get(cid)
    assert kept is not None
    assert (kept.agent_id, kept.queue, kept.status) == ("agent-7", "billing", QaStatus.AWAITING)
    assert records.put(kept, replace(kept, total=50.0), tallies)
    assert not records.put(kept, replace(kept, total=10.0, agent_id=""), tallies)
    again = records.get(cid)
    assert again is not None and (again.total, again.agent_id) == (50.0, "agent-7")
    counted = DynamoReasonCounts().counts("billing", "Complaint", [bucket_of(NOW)])
    assert counted == ({bucket_of(NOW): 1} if with_tallies else {})
