"""The QA trigger path on in-memory ports: 10,000 events for 2,000 contacts, shuffled, with
20 % delivered twice and 5 % of the analysis files never arriving: exactly one QA record per
contact an agent handled, each on its newest analysis, and every missing one found by
reconciliation. Folding is order-free: any order of the same inputs gives the same record."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.platform.clock import FixedClock
from chalicelib.qa.records import AnalysisSeen, ContactSeen, QaStatus, empty, fold
from devkit.fakes.qa import qa_world

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
CONTACTS = 2_000


def events(seed: int = 3, contacts: int = CONTACTS):
    """Per contact: its COMPLETED event, one or two contact-record copies (a later one may
    leave out the queue), and for 95 % of the handled ones one or two analysis runs (1 % of
    files unreadable), each run told twice (the file's S3 event and Contact Lens's state
    change both bring it). The truth to check against comes with them."""
    rng = random.Random(seed)
    stream, truth = [], {}
    for n in range(contacts):
        contact = f"contact-{n:05d}"
        agent = f"agent-{n % 40}" if rng.random() < 0.8 else ""
        ended = NOW - timedelta(minutes=rng.randint(20, 600))
        stream.append(ContactSeen(contact, ended, agent, "billing", ended))
        queues = ["billing"]
        for copy in range(rng.randint(1, 2)):  # a later copy may move the queue, or leave it out
            queue = rng.choice(["", "billing", "retention"])
            queues.append(queue)
            stream.append(ContactSeen(contact, ended + timedelta(seconds=30 * (copy + 1)), agent,
                                      queue, ended))  # fmt: skip
        runs = []
        if agent and rng.random() < 0.95:
            for run in range(rng.randint(1, 2)):
                at = ended + timedelta(minutes=2 + 5 * run)
                broken = rng.random() < 0.01
                total = None if broken else float(rng.randint(40, 100))
                problem = "line 1, column 9: truncated" if broken else ""
                key = f"Analysis/Voice/{contact}_{run}.json"
                runs.append(AnalysisSeen(contact, at, key, total, problem=problem))
                if rng.random() < 0.05:  # the same run, once more, cut short
                    runs.append(AnalysisSeen(contact, at, key + ".1", None, problem="truncated"))
        stream.extend(runs + runs)
        newest = max(runs, key=lambda r: (r.analysed_at, not r.problem, r.key)) if runs else None
        truth[contact] = (agent, newest, [q for q in queues if q][-1])
    return stream, truth


def delivered(stream, seed: int = 5):
    rng = random.Random(seed)
    copies = stream + rng.sample(stream, len(stream) // 5)  # 20 % delivered twice
    rng.shuffle(copies)
    return copies


def test_ten_thousand_shuffled_events_give_one_record_per_handled_contact() -> None:
    stream, truth = events()
    deliveries = delivered(stream)
    assert len(deliveries) >= 10_000
    world = qa_world(FixedClock(NOW))
    records, service = world.records, world.service
    workers = [deliveries[k::8] for k in range(8)]  # eight consumers at once
    threads = [threading.Thread(target=lambda part: [service.take(e) for e in part], args=(w,))
               for w in workers]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(records.records) == set(truth)  # one record per contact, and no other
    for contact, (agent, newest, queue) in truth.items():
        record = records.records[contact]
        if not agent:
            assert record.status is QaStatus.NO_AGENT, contact
        elif newest is None:
            assert record.status is QaStatus.AWAITING, contact
        else:
            assert record.analysed_at == newest.analysed_at and record.total == newest.total
            assert record.status is (QaStatus.UNREADABLE if newest.problem else QaStatus.SCORED)
            assert record.queue == queue  # the newest copy that names one; a blank erases nothing

    found = service.reconcile()
    missing = {c for c, (agent, newest, _) in truth.items() if agent and newest is None}
    assert {r.contact_id for r in found} == missing and missing
    assert all(records.records[c].status is QaStatus.PARTIAL for c in missing)
    assert service.reconcile() == []  # found once, not again


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False))
def test_folding_is_free_of_order_and_repetition(rng) -> None:
    mine, _ = events(seed=rng.randint(0, 10_000), contacts=1)
    contact = mine[0].contact_id
    shuffled = mine + [rng.choice(mine) for _ in range(3)]
    rng.shuffle(shuffled)

    def folded(inputs):
        record = empty(contact)
        for seen in inputs:
            record = fold(record, seen)
        return record

    assert folded(shuffled) == folded(mine)


def test_a_newer_analysis_replaces_the_score_and_a_late_older_one_does_not() -> None:
    world = qa_world(FixedClock(NOW))
    records, service = world.records, world.service
    ended = NOW - timedelta(hours=1)
    service.take(ContactSeen("c-1", ended, "agent-1", "billing", ended))
    newer = AnalysisSeen("c-1", ended + timedelta(minutes=9), "b.json", 62.0, ("low_score",))
    older = AnalysisSeen("c-1", ended + timedelta(minutes=3), "a.json", 90.0)
    service.take(newer)
    service.take(older)
    record = records.records["c-1"]
    assert (record.total, record.analysis_key, record.flags) == (62.0, "b.json", ("low_score",))
    assert record.version == 2  # the late older file wrote nothing


def test_an_unreadable_file_is_recorded_with_its_problem_until_a_good_one_comes() -> None:
    world = qa_world(FixedClock(NOW))
    records, service = world.records, world.service
    at = NOW - timedelta(minutes=30)
    service.take(AnalysisSeen("c-2", at, "x.json", problem="line 3, column 1: truncated"))
    assert records.records["c-2"].status is QaStatus.UNREADABLE
    assert records.records["c-2"].problem == "line 3, column 1: truncated"
    service.take(AnalysisSeen("c-2", at, "x.json", 80.0))  # the same run, read this time
    assert records.records["c-2"].status is QaStatus.SCORED
