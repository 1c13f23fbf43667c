"""The ledger contract, on DynamoDB (moto, tables from infra/template.yaml) and in memory;
then many dispatchers racing over the same callbacks."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.callbacks import model
from chalicelib.callbacks.model import Outcome, Status
from chalicelib.callbacks.service import AllowanceUsedError, CallbackService, Holders
from chalicelib.outbound.service import commit_or_stop
from chalicelib.platform.clock import FixedClock
from devkit.fakes.callbacks import InMemoryLedger, RecordingDialer, SequentialIds, callback_queues
from devkit.fakes.outbound import FixedAgents, ScriptedContacts

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
POLICY = model.Policy()


@pytest.fixture(params=["dynamodb", "memory"])
def ledger(request, tables):
    if request.param == "memory":
        return InMemoryLedger()
    from chalicelib.callbacks.store import DynamoLedger

    return DynamoLedger()


def new(
    callback_id: str,
    number: str = "+12125550142",
    queue: str = "billing",
    at: datetime = NOW,
    **details,
) -> model.Callback:
    return model.new_callback(
        callback_id, number, queue, at, ("America/New_York",), POLICY, **details
    )


def create(ledger, callback: model.Callback, supersedes: model.Callback | None = None, limit=5):
    allowance = model.hourly_allowance(callback.number, callback.requested_at, limit)
    return ledger.create(callback, supersedes, allowance)


def test_only_a_created_callback_is_charged_and_a_used_allowance_writes_nothing(ledger) -> None:
    first, _ = create(ledger, new("a"), limit=2)
    existing, created = create(ledger, new("b"), limit=2)  # "a" holds billing: not charged
    assert (existing.callback_id, created) == (first.callback_id, False)
    create(ledger, new("c", queue="general"), limit=2)
    with pytest.raises(AllowanceUsedError):
        create(ledger, new("d", queue="technical"), limit=2)
    assert ledger.get("d") is None
    assert ledger.holders("+12125550142", "technical", "") == Holders()
    next_hour = new("e", queue="technical", at=NOW + timedelta(hours=1))
    assert create(ledger, next_hour, limit=2)[1]  # a new window


def test_create_then_read_back_everything(ledger) -> None:
    created, fresh = create(ledger, new("a", contact_id="c-1", journey="menu=1"))
    assert fresh and created.version == 1
    stored = ledger.get("a")
    assert stored == created
    assert ledger.holders("+12125550142", "billing", "c-1") == Holders(stored, stored)
    assert ledger.active_for_number("+12125550142") == [stored]


def test_one_active_callback_per_number_and_queue(ledger) -> None:
    create(ledger, new("a"))
    existing, fresh = create(ledger, new("b"))
    assert not fresh and existing.callback_id == "a"
    assert ledger.get("b") is None
    assert create(ledger, new("c", queue="general"))[1]


def test_replacing_cancels_the_first_and_moves_the_contact_lock(ledger) -> None:
    first, _ = create(ledger, new("a", contact_id="c-1"))
    _, fresh = create(ledger, new("b", number="+12125550143", contact_id="c-1"), first)
    assert fresh and ledger.get("a").status is Status.CANCELLED
    assert ledger.holders("+12125550143", "billing", "c-1").of_contact.callback_id == "b"
    assert create(ledger, new("c"))[1]  # the first number is free again


def test_transitions_are_conditional_on_the_version_read(ledger) -> None:
    stored, _ = create(ledger, new("a"))
    claimed = ledger.transition(stored, model.claim(stored, NOW, POLICY))
    assert claimed is not None and claimed.status is Status.DIALING
    assert ledger.transition(stored, model.claim(stored, NOW, POLICY)) is None  # stale: lost
    assert ledger.get("a").version == claimed.version


def test_due_reads_only_waiting_callbacks_best_first(ledger) -> None:
    create(ledger, new("late", number="+12125550101", at=NOW - timedelta(minutes=1)))
    create(ledger, new("early", number="+12125550102", at=NOW - timedelta(minutes=9)))
    create(ledger, new("urgent", number="+12125550103", priority=1))
    create(ledger, new("future", number="+12125550104", due_at=NOW + timedelta(hours=1)))
    dialling, _ = create(ledger, new("busy", number="+12125550105"))
    ledger.transition(dialling, model.claim(dialling, NOW, POLICY))
    assert [c.callback_id for c in ledger.due("billing", NOW, 10)] == ["urgent", "early", "late"]
    assert [c.callback_id for c in ledger.due("billing", NOW, 2)] == ["urgent", "early"]
    assert ledger.position(ledger.get("late")) == 3
    assert ledger.position(ledger.get("future")) == 4


def test_finishing_frees_the_number_and_finds_by_outbound_contact(ledger) -> None:
    stored, _ = create(ledger, new("a", contact_id="c-1"))
    claimed = ledger.transition(stored, model.claim(stored, NOW, POLICY))
    dialled = ledger.transition(claimed, model.record_dial(claimed, "out-1", NOW, POLICY))
    assert ledger.by_outbound_contact("out-1") == dialled
    done = ledger.transition(dialled, model.record_outcome(dialled, Outcome.CONNECTED, NOW, POLICY))
    assert done.status is Status.COMPLETED
    assert (
        ledger.holders("+12125550142", "billing", "c-1") == Holders()
        and ledger.active_for_number("+12125550142") == []
    )
    assert create(ledger, new("b", contact_id="c-1"))[1]


def test_leases_that_ended_are_found(ledger) -> None:
    stored, _ = create(ledger, new("a"))
    ledger.transition(stored, model.claim(stored, NOW, POLICY))
    assert ledger.leases_ended(NOW, 10) == []
    assert [c.callback_id for c in ledger.leases_ended(NOW + POLICY.lease, 10)] == ["a"]


# -- many dispatchers at once -----------------------------------------------------------------


class FlakyDialer(RecordingDialer):
    """Connect, but while `crashing` the worker sometimes dies just before or just after
    Connect places the call."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.random = random.Random(seed)
        self.crashes = {"before": 0, "after": 0}
        self.crashing = True

    def dial(self, callback, commit):
        roll = self.random.random() if self.crashing else 0.5
        if roll < 0.05:
            self.crashes["before"] += 1
            raise RuntimeError("worker died before calling Connect")
        commit_or_stop(commit)
        contact = self.place(callback)
        if roll > 0.95:
            self.crashes["after"] += 1
            raise RuntimeError("worker died after Connect placed the call")
        return contact


def _seed(ledger, store, n, queues) -> str:
    callback = new(
        f"cb-{n:04d}", number=f"+1212{5550000 + n:07d}", queue=queues[n % 2], priority=1 + n % 3
    )
    if store == "memory":
        return create(ledger, callback)[0].callback_id
    # Written directly (the create transaction is tested above): moto copies the whole table
    # for every transaction, which makes a thousand creates quadratic.
    from chalicelib.callbacks.store import LockRecord, _record

    _record(callback, POLICY).save()
    LockRecord(f"NUMBER#{callback.number}", callback.queue, callback_id=callback.callback_id).save()
    return callback.callback_id


def _worker(service, ledger, queues, lost_races: list[int]) -> None:
    for _ in range(500):  # duplicate triggers: every worker keeps dispatching
        try:
            report = service.dispatch()
        except RuntimeError:
            continue  # the worker died mid-call; the next trigger runs again
        lost_races.append(report.lost_races)
        if not report.dialled and not any(ledger.due(q, NOW, 1) for q in queues):
            return


def _settle_everything(service, dialer, contacts, clock) -> None:
    """After the crashes: reconciliation finds the contacts of attempts whose call was sent
    and whose id was lost by searching for their names (Connect's index has caught up); an
    attempt whose worker died before its last write was never sent, so it is not spent and
    the next dispatch dials it as the same attempt; then every call ends connected and is
    settled."""
    dialer.crashing = False
    dialer.index()
    clock.set(NOW + POLICY.placement)
    while service.reconcile(limit=500):
        pass
    # One run has an agent for each (40 a queue): exactly the attempts that died unsent.
    assert service.dispatch().placed() == dialer.crashes["before"]
    for contact in dialer.contacts:
        contacts.outcomes[contact] = Outcome.CONNECTED
    clock.set(NOW + POLICY.placement + POLICY.lease)
    while service.reconcile(limit=500):
        pass


# The in-memory ledger takes the full load; on moto, 50 callbacks already make the eight
# workers' conditional writes collide (the test checks they did), and every extra callback
# costs a scan of the whole table per query (moto has no real index). The crash rolls are
# seeded: the first 50 hold both kinds of crash (rolls 8 and 21 before, 20 after Connect).
@pytest.mark.parametrize(("store", "count"), [("memory", 1000), ("dynamodb", 50)])
def test_eight_dispatchers_never_dial_twice_and_lose_nothing(
    tables, atomic_moto, store, count
) -> None:
    """8 workers, duplicate triggers, workers dying before and after Connect places the call,
    on the in-memory ledger and on DynamoDB (moto, atomic per request as DynamoDB is)."""
    from chalicelib.callbacks.store import DynamoLedger

    clock = FixedClock(NOW)
    ledger = InMemoryLedger() if store == "memory" else DynamoLedger()
    dialer, contacts = FlakyDialer(seed=7), ScriptedContacts()
    dialer.clock = clock
    service = CallbackService(
        ledger,
        dialer,
        FixedAgents(40),
        contacts,
        clock,
        callback_queues(),
        SequentialIds(),
        search=dialer,
    )
    queues = ("billing", "general")
    requested = [_seed(ledger, store, n, queues) for n in range(count)]
    for n in range(0, count, 50):  # duplicate deliveries of the same requests
        assert service.request(f"+1212{5550000 + n:07d}", queues[n % 2]).existing

    lost_races: list[int] = []
    threads = [
        threading.Thread(target=_worker, args=(service, ledger, queues, lost_races))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(lost_races) > 0, "the workers never competed for a callback"
    assert dialer.crashes["before"] > 0 and dialer.crashes["after"] > 0
    _settle_everything(service, dialer, contacts, clock)

    tokens = [token for _, token, _ in dialer.dials]
    assert len(tokens) == len(set(tokens)), "a callback attempt was dialled twice"
    found = [
        c for c in requested if any("by the call's name" in t.reason for t in ledger.get(c).history)
    ]
    assert len(found) == dialer.crashes["after"] and dialer.replays == 0  # found, not re-sent
    for callback_id in requested:
        callback = ledger.get(callback_id)
        assert callback is not None, f"{callback_id} was lost"
        assert callback.status is Status.COMPLETED and callback.attempt.ordinal == 1, callback


def test_positions_are_exact_while_requests_arrive_concurrently(ledger, atomic_moto) -> None:
    """Each answer counts exactly the better callbacks stored before it: at least those whose
    requests had finished when it started, at most every better one; at the end, 1..N."""
    dialer = RecordingDialer()
    service = CallbackService(
        ledger,
        dialer,
        FixedAgents(0),
        ScriptedContacts(),
        FixedClock(NOW),
        callback_queues(),
        SequentialIds(),
        search=dialer,
    )
    finished: list[str] = []  # callback ids, in the order their requests returned
    answers: dict[str, tuple[int, int]] = {}  # id -> (position answered, finished before)
    guard = threading.Lock()

    def caller(worker: int) -> None:
        rng = random.Random(worker)
        for n in range(6):
            with guard:
                done_before = len(finished)
            standing = service.request(
                f"+1212555{worker:02d}{n:02d}", "billing", priority=rng.randint(1, 10)
            )
            with guard:
                finished.append(standing.callback.callback_id)
                answers[standing.callback.callback_id] = (standing.position, done_before)

    workers = [threading.Thread(target=caller, args=(w,)) for w in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    stored = {i: ledger.get(i) for i in finished}
    order = sorted(finished, key=lambda i: (stored[i].priority, stored[i].requested_at, i))
    rank = {callback_id: n + 1 for n, callback_id in enumerate(order)}
    assert [service.status(i).position for i in order] == list(range(1, len(order) + 1))
    for callback_id, (answered, done_before) in answers.items():
        better_before = sum(rank[i] < rank[callback_id] for i in finished[:done_before])
        assert 1 + better_before <= answered <= rank[callback_id], callback_id


def test_a_contact_switching_numbers_into_a_held_number_gets_the_holder_back(ledger) -> None:
    """The asking contact holds "a" for one number and now asks for another number that a
    racing request has just taken: the transaction fails on the number lock, which is not
    where it sits in the request (PynamoDB sends deletes before puts). The holder comes back,
    as for any request that finds its number held."""
    first, _ = create(ledger, new("a", contact_id="contact-1"))
    holder, _ = create(ledger, new("b", number="+12125550199"))
    found, created = create(
        ledger, new("c", number="+12125550199", contact_id="contact-1"), supersedes=first
    )
    assert (found.callback_id, created) == (holder.callback_id, False)
    assert ledger.get("a").status is Status.QUEUED  # nothing of the switch was written


def test_a_contact_switching_numbers_over_its_allowance_writes_nothing(ledger) -> None:
    first, _ = create(ledger, new("a", contact_id="contact-1"))
    create(ledger, new("b", number="+12125550199", queue="general"), limit=1)
    with pytest.raises(AllowanceUsedError):
        create(
            ledger,
            new("c", number="+12125550199", contact_id="contact-1"),
            supersedes=first,
            limit=1,
        )
    assert ledger.get("a").status is Status.QUEUED and ledger.get("c") is None
