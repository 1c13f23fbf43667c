"""After-call QA's ports in memory, and a whole QA world on them.

Each keeps the contract of the adapter it stands in for (conditional writes, tokens, races)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as _replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.platform.clock import FixedClock
from chalicelib.qa.model import Rubric
from chalicelib.qa.records import ContactSeen, QaRecord, QaStatus, Tally, iso_week, week_of
from chalicelib.qa.review import Review

if TYPE_CHECKING:
    from chalicelib.qa.service import QaService


class InMemoryQaRecords:
    """QA records by contact id, each write conditional on the version read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, QaRecord] = {}
        self.reasons = InMemoryReasonCounts()

    def get(self, contact_id: str) -> QaRecord | None:
        return self.records.get(contact_id)

    def put(self, before: QaRecord | None, after: QaRecord, tallies: Sequence[Tally] = ()) -> bool:
        with self._lock:
            current = self.records.get(after.contact_id)
            if (current is None) != (before is None):
                return False
            if current is not None and before is not None and current.version != before.version:
                return False
            version = 1 if before is None else before.version + 1
            self.records[after.contact_id] = _replace(after, version=version)
            for tally in tallies:
                self.reasons.add(tally)
            return True

    def awaiting(self, limit: int) -> list[QaRecord]:
        waiting = [r for r in self.records.values() if r.status is QaStatus.AWAITING and r.agent_id]
        return sorted(
            waiting, key=lambda r: (r.ended_at or datetime.min.replace(tzinfo=UTC), r.contact_id)
        )[:limit]

    def of_agent(self, agent_id: str, week: str) -> list[QaRecord]:
        return [r for r in self.records.values() if r.agent_id == agent_id and week_of(r) == week]

    def unheard(self, contact_ids: Sequence[str]) -> set[str]:
        return {
            c
            for c in contact_ids
            if c not in self.records or self.records[c].contact_updated_at is None
        }

    def of_queue(self, queue: str, week: str) -> list[QaRecord]:
        return [r for r in self.records.values() if r.queue == queue and week_of(r) == week]


class InMemoryReasonCounts:
    def __init__(self) -> None:
        self.count: Counter[tuple[str, str, datetime]] = Counter()
        self.contacts: dict[tuple[str, str, datetime], list[str]] = {}
        self.alerted: set[tuple[str, str, datetime]] = set()

    def add(self, tally: Tally) -> None:
        key = (tally.scope, tally.reason, tally.bucket)
        self.count[key] += 1
        self.contacts.setdefault(key, []).append(tally.contact_id)

    def counts(self, scope: str, reason: str, buckets: Sequence[datetime]) -> dict[datetime, int]:
        found = {b: self.count[(scope, reason, b)] for b in buckets}
        return {b: n for b, n in found.items() if n}

    def active(self, bucket: datetime) -> list[tuple[str, str]]:
        return sorted({(s, r) for (s, r, b) in self.count if b == bucket})

    def examples(self, scope: str, reason: str, bucket: datetime) -> tuple[str, ...]:
        return tuple(self.contacts.get((scope, reason, bucket), [])[:5])

    def first_alert(self, scope: str, reason: str, bucket: datetime) -> bool:
        if (scope, reason, bucket) in self.alerted:
            return False
        self.alerted.add((scope, reason, bucket))
        return True

    def forget_alert(self, scope: str, reason: str, bucket: datetime) -> None:
        self.alerted.discard((scope, reason, bucket))

    def raised(self, since: datetime, until: datetime) -> list[dict[str, object]]:
        return [
            {"bucket": b.isoformat(), "scope": s, "reason": r}
            for s, r, b in sorted(self.alerted, key=lambda a: (a[2], a[0], a[1]))
            if since <= b <= until
        ]


@dataclass
class InMemoryAnalysisFiles:
    files: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)
    read_keys: list[str] = field(default_factory=list)  # every read, in order

    def read(self, key: str) -> tuple[bytes, datetime] | None:
        self.read_keys.append(key)
        return self.files.get(key)


@dataclass
class KnownContacts:
    """DescribeContact's answers, by contact id."""

    contacts: dict[str, ContactSeen] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def describe(self, contact_id: str) -> ContactSeen | None:
        self.asked.append(contact_id)
        return self.contacts.get(contact_id)

    def ended(self, since: datetime, until: datetime) -> list[ContactSeen]:
        return [
            seen
            for seen in self.contacts.values()
            if seen.agent_id and seen.ended_at is not None and since <= seen.ended_at < until
        ]


@dataclass
class RubricsByQueue:
    by_queue: dict[str, Rubric] = field(default_factory=dict)  # "*" for every other queue

    def for_queue(self, queue: str) -> Rubric | None:
        return self.by_queue.get(queue) or self.by_queue.get("*")

    def named(self, name: str) -> Rubric | None:
        return next((r for r in self.by_queue.values() if r.name == name), None)


@dataclass
class RecordedInterventions:
    """Callbacks asked for, one per contact as the callbacks ledger keeps it."""

    asked: dict[str, str] = field(default_factory=dict)  # contact id -> reason
    calls: int = 0

    def call_back(self, record: QaRecord, reason: str) -> str:
        self.calls += 1
        self.asked.setdefault(record.contact_id, reason)
        return f"callback-{record.contact_id}"


@dataclass
class RecordedAlerts:
    sent: list[tuple[str, Mapping[str, object]]] = field(default_factory=list)
    failing: int = 0  # the next sends that fail, as EventBridge can

    def send(self, kind: str, detail: Mapping[str, object]) -> None:
        if self.failing:
            self.failing -= 1
            raise RuntimeError(f"EventBridge refused the {kind!r} alert")
        self.sent.append((kind, dict(detail)))

    def of(self, kind: str) -> list[Mapping[str, object]]:
        return [detail for sent, detail in self.sent if sent == kind]


class InMemoryReviews:
    """Reviews by contact id and copy, each write conditional on the version read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reviews: dict[tuple[str, int], Review] = {}

    def get(self, contact_id: str, copy: int = 1) -> Review | None:
        return self.reviews.get((contact_id, copy))

    def copies(self, contact_id: str) -> list[Review]:
        return sorted(
            (r for (c, _), r in self.reviews.items() if c == contact_id), key=lambda r: r.copy
        )

    def held_by(self, reviewer: str, now: datetime) -> Review | None:
        with self._lock:
            return next((r for r in self.reviews.values() if r.held_by(reviewer, now)), None)

    def free(self, now: datetime, limit: int) -> list[Review]:
        free = [r for r in self.reviews.values() if r.free(now)]
        return sorted(free, key=lambda r: (r.queued_at, r.contact_id, r.copy))[:limit]

    def put(self, before: Review | None, after: Review) -> bool:
        with self._lock:
            current = self.reviews.get((after.contact_id, after.copy))
            if (current is None) != (before is None):
                return False
            if current is not None and before is not None and current.version != before.version:
                return False
            self.reviews[(after.contact_id, after.copy)] = _replace(
                after, version=1 if before is None else before.version + 1
            )
            return True

    def calibrated(self, week: str) -> list[Review]:
        from chalicelib.qa.review import CALIBRATION, ReviewStatus

        return [
            r
            for r in self.reviews.values()
            if CALIBRATION in r.reasons
            and r.status is ReviewStatus.SUBMITTED
            and r.submitted_at is not None
            and iso_week(r.submitted_at) == week
        ]


@dataclass
class QaWorld:
    """A QA service on in-memory ports, and the ports, for tests to look into."""

    service: QaService
    records: InMemoryQaRecords
    reviews: InMemoryReviews
    files: InMemoryAnalysisFiles
    contacts: KnownContacts
    rubrics: RubricsByQueue
    interventions: RecordedInterventions
    alerts: RecordedAlerts


def qa_world(clock: FixedClock, rubrics: Mapping[str, Rubric] | None = None) -> QaWorld:
    from chalicelib.qa.service import QaService, ReviewQueue

    records, reviews = InMemoryQaRecords(), InMemoryReviews()
    files, contacts = InMemoryAnalysisFiles(), KnownContacts()
    by_queue = RubricsByQueue(dict(rubrics or {}))
    interventions, alerts = RecordedInterventions(), RecordedAlerts()
    service = QaService(
        records=records,
        clock=clock,
        files=files,
        contacts=contacts,
        rubrics=by_queue,
        reviews=ReviewQueue(reviews, clock),
        interventions=interventions,
        alerts=alerts,
        reasons=records.reasons,
    )
    return QaWorld(service, records, reviews, files, contacts, by_queue, interventions, alerts)
