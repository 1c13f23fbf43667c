"""The QA trigger path as the Lambdas run it, on in-memory ports: the events queue's messages
(EventBridge JSON: analysis files written, contacts COMPLETED) and the stream's contact records
(bytes, two copies) for 2,000 contacts, over 10,000 deliveries, shuffled, 20 % delivered twice,
5 % of the contacts' analyses never written (raw and, for half, redacted files), 1 % truncated,
taken by eight consumers at once; 1 % of the contacts are never heard of at all (Connect lists
them).

Exactly one QA record per contact an agent handled, each scored with its queue's rubric on
its file (or recorded unreadable), one review per contact that needs one, and reconciliation
finds exactly the contacts whose file never came."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib import composition
from chalicelib.platform.clock import FixedClock
from chalicelib.qa import handlers as qa_handlers
from chalicelib.qa.handlers import take_contact_record, take_event
from chalicelib.qa.records import ContactSeen, QaStatus
from chalicelib.qa.schema import read_rubric
from devkit.analyses import GOOD_CALL, analysis_key, voice_analysis
from devkit.fakes.qa import qa_world

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
CONTACTS = 2_000
INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/00000000-0000-4000-8000-00000000dev0"
BUCKET = "switchboard-dev-connect-instance"
QUEUES = {"billing": "dev-billing-queue-id", "general": "dev-general-queue-id"}
FILES = {  # a few bodies, shared: what is said does not name the contact
    "good": voice_analysis(GOOD_CALL).encode(),
    "upset": voice_analysis(GOOD_CALL, ["Complaint"], closing=-4).encode(),
    "broken": voice_analysis(GOOD_CALL)[:-50].encode(),
}


def _rubric(name: str):
    return read_rubric(json.loads((ROOT / "rubrics" / f"{name}.json").read_text()))


def _completed(contact: str, agent: str, queue: str, ended: datetime) -> str:
    detail = {"eventType": "COMPLETED", "contactId": contact,
              "disconnectTimestamp": ended.isoformat(),
              "queueInfo": {"queueArn": f"{INSTANCE}/queue/{QUEUES[queue]}"}}  # fmt: skip
    if agent:
        detail["agentInfo"] = {"agentArn": f"{INSTANCE}/agent/{agent}"}
    return json.dumps({"detail-type": "Amazon Connect Contact Event", "source": "aws.connect",
                       "time": ended.isoformat(), "detail": detail})  # fmt: skip


def _record(contact: str, agent: str, queue: str, ended: datetime, copy: int) -> bytes:
    return json.dumps({
        "ContactId": contact, "LastUpdateTimestamp": (ended + timedelta(seconds=copy)).isoformat(),
        "DisconnectTimestamp": ended.isoformat(),
        "Agent": {"ARN": f"{INSTANCE}/agent/{agent}"} if agent else None,
        "Queue": {"ARN": f"{INSTANCE}/queue/{QUEUES[queue]}", "Name": queue},
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+12125550147"},
    }).encode()  # fmt: skip


def _written(key: str) -> str:
    return json.dumps({"detail-type": "Object Created", "source": "aws.s3",
                       "time": NOW.isoformat(),
                       "detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}})  # fmt: skip


def _traffic(world, seed: int = 11):
    """The deliveries, and per contact what should come of them."""
    rng = random.Random(seed)
    deliveries, truth = [], {}
    for n in range(CONTACTS):
        contact = f"00000000-0000-4000-8000-{n:012d}"
        agent = f"agent-{n % 40}" if rng.random() < 0.85 else ""
        queue = rng.choice(list(QUEUES))
        ended = NOW - timedelta(minutes=rng.randint(20, 300))
        # What DescribeContact and SearchContacts say of the contact.
        world.contacts.contacts[contact] = ContactSeen(contact, ended, agent, queue, ended)
        if agent and rng.random() < 0.01:  # nothing at all reaches us: Connect lists it
            truth[contact] = (agent, queue, None)
            continue
        deliveries.append(("event", _completed(contact, agent, queue, ended)))
        deliveries += [("record", _record(contact, agent, queue, ended, k)) for k in range(2)]
        kind = None
        if agent and rng.random() < 0.95:
            kind = "broken" if rng.random() < 0.01 else rng.choice(["good", "good", "upset"])
            # With redaction on (half the contacts here), Contact Lens writes both files.
            for redacted in (False, True)[: rng.randint(1, 2)]:
                key = analysis_key(contact, redacted=redacted)
                world.files.files[key] = (FILES[kind], ended + timedelta(minutes=3))
                deliveries.append(("event", _written(key)))
        truth[contact] = (agent, queue, kind)
    twice = rng.sample(deliveries, len(deliveries) // 5)
    deliveries += twice
    rng.shuffle(deliveries)
    return deliveries, truth


def test_ten_thousand_deliveries_through_the_handlers_give_one_scored_record_each() -> None:
    world = qa_world(FixedClock(NOW), {"*": _rubric("bank-service"),
                                       "billing": _rubric("collections")})  # fmt: skip
    deliveries, truth = _traffic(world)
    world.service.swept = timedelta(hours=6)  # one reconciliation over the whole day
    assert len(deliveries) >= 10_000
    qa_handlers.served.override(world.service)
    failures: list[BaseException] = []

    def consume(part) -> None:
        for kind, body in part:
            try:
                take_event(body) if kind == "event" else take_contact_record(body)
            except BaseException as error:
                failures.append(error)

    try:
        threads = [threading.Thread(target=consume, args=(deliveries[k::8],)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found = world.service.reconcile(limit=CONTACTS)
    finally:
        composition.reset()

    assert failures == []
    assert set(world.records.records) == set(truth)  # those never told of included
    for contact, (agent, queue, kind) in truth.items():
        record = world.records.records[contact]
        if not agent:
            assert record.status is QaStatus.NO_AGENT, contact
        elif kind is None:
            assert record.status is QaStatus.PARTIAL, contact
        elif kind == "broken":
            assert record.status is QaStatus.UNREADABLE and "truncated" in record.problem
        else:
            card = json.loads(record.card)
            assert record.status is QaStatus.SCORED and record.queue == queue
            assert card["rubric"] == ("collections" if queue == "billing" else "bank-service")
    missing = {c for c, (agent, _, kind) in truth.items() if agent and kind is None}
    assert {r.contact_id for r in found} == missing and missing
    flagged = {c for c, r in world.records.records.items() if r.flags or r.problem}
    assert {c for (c, copy) in world.reviews.reviews if copy == 1} >= flagged
    assert world.contacts.asked  # some files did come first
