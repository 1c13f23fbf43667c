"""QA state on DynamoDB (PynamoDB), one table, and the other adapters QA's ports need: the
Contact Lens bucket, DescribeContact, the callbacks service and EventBridge.

Items of the `qa` table, by key:
- `CONTACT#<id>` / `QA`: the contact's one QA record, its scorecard as JSON; indexes find
  the ones awaiting a score (`awaiting`) and a week's by agent (`by_agent`) and queue
  (`by_queue`).
- `CONTACT#<id>` / `REVIEW`: its review, in the `free_reviews` index while a reviewer may
  claim it (keyed by when it became free).
- `BUCKET#<15-minute bucket>` / `<scope>#<reason>`: a reason's count in a queue, added in the
  same transaction as the record that first shows it.
- `ALERTS` / `<bucket>#<scope>#<reason>`: each early warning raised, once.
- `RUBRICS` / `<name>`: rubric documents, checked when put.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib.platform.settings import settings
from chalicelib.platform.tables import (
    Table,
    TextListAttribute,
    lost_race,
    stamp,
    table_meta,
    transactions,
)
from chalicelib.qa.model import Rubric
from chalicelib.qa.records import QaRecord, QaStatus, Tally, iso_week, week_of
from chalicelib.qa.review import CALIBRATION, Override, Review, ReviewStatus

if TYPE_CHECKING:
    pass

KEPT_FOR = timedelta(days=400)  # a year of weekly reports, and then some
EXAMPLES = 5
RUBRICS = "RUBRICS"
ALERTS = "ALERTS"
RUBRICS_CACHED_FOR = 60.0  # seconds: a put rubric scores within a minute everywhere


def contact_key(contact_id: str) -> str:
    return f"CONTACT#{contact_id}"


# -- QA records ---------------------------------------------------------------------------------


class AwaitingIndex(GlobalSecondaryIndex["QaItem"]):
    class Meta:
        index_name = "awaiting"
        projection = AllProjection()

    awaiting_partition = UnicodeAttribute(hash_key=True)  # "AWAITING"
    awaiting_sort = UnicodeAttribute(range_key=True)  # "<ended>#<contact>"


class ByAgentIndex(GlobalSecondaryIndex["QaItem"]):
    class Meta:
        index_name = "by_agent"
        projection = AllProjection()

    agent_week = UnicodeAttribute(hash_key=True)  # "<agent>#<week>"
    pk = UnicodeAttribute(range_key=True)


class ByQueueIndex(GlobalSecondaryIndex["QaItem"]):
    class Meta:
        index_name = "by_queue"
        projection = AllProjection()

    queue_week = UnicodeAttribute(hash_key=True)  # "<queue>#<week>"
    pk = UnicodeAttribute(range_key=True)


class QaItem(Table):
    Meta = table_meta(settings().table("qa"))

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "QA"
    status = UnicodeAttribute()
    contact_updated_at = UTCDateTimeAttribute(null=True)
    agent_id = UnicodeAttribute(default="")
    queue = UnicodeAttribute(default="")
    ended_at = UTCDateTimeAttribute(null=True)
    agent_at = UTCDateTimeAttribute(null=True)
    queue_at = UTCDateTimeAttribute(null=True)
    ended_from = UTCDateTimeAttribute(null=True)
    analysed_at = UTCDateTimeAttribute(null=True)
    analysis_key = UnicodeAttribute(default="")
    total = NumberAttribute(null=True)
    flags = TextListAttribute(default=list)
    problem = UnicodeAttribute(default="")
    card = UnicodeAttribute(default="")
    call_back = TextListAttribute(default=list)
    reasons = TextListAttribute(default=list)
    rubric_queue = UnicodeAttribute(default="")
    reviewed_card = UnicodeAttribute(default="")
    number = UnicodeAttribute(default="")
    number_at = UTCDateTimeAttribute(null=True)
    intent = UnicodeAttribute(default="")
    intent_at = UTCDateTimeAttribute(null=True)
    lens_failed = UnicodeAttribute(default="")
    callback_id = UnicodeAttribute(default="")
    reasons_counted = BooleanAttribute(default=False)
    awaiting_partition = UnicodeAttribute(null=True)
    awaiting_sort = UnicodeAttribute(null=True)
    agent_week = UnicodeAttribute(null=True)
    queue_week = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    version = VersionAttribute()
    awaiting_index = AwaitingIndex()
    by_agent = ByAgentIndex()
    by_queue = ByQueueIndex()


_COPIED = (
    "contact_updated_at",
    "agent_id",
    "queue",
    "ended_at",
    "agent_at",
    "queue_at",
    "ended_from",
    "analysed_at",
    "analysis_key",
    "total",
    "problem",
    "card",
    "rubric_queue",
    "reviewed_card",
    "number",
    "number_at",
    "intent",
    "intent_at",
    "lens_failed",
    "callback_id",
    "reasons_counted",
)
_LISTS = ("flags", "call_back", "reasons")


def _item(record: QaRecord) -> QaItem:
    item = QaItem(contact_key(record.contact_id), "QA", status=record.status.value)
    for name in _COPIED:
        setattr(item, name, getattr(record, name))
    for name in _LISTS:
        setattr(item, name, list(getattr(record, name)))
    at = record.ended_at or record.contact_updated_at or record.analysed_at
    for name, value in _index_keys(record, at).items():
        setattr(item, name, value)
    item.expires_at = (at or datetime.now(UTC)) + KEPT_FOR
    return item


def _index_keys(record: QaRecord, at: datetime | None) -> dict[str, str | None]:
    """Only the indexes that should find the record get their keys; `at` orders the
    awaiting ones (when the contact ended, or was last heard of)."""
    waiting = record.status is QaStatus.AWAITING and bool(record.agent_id) and at is not None
    week = week_of(record)
    return {
        "awaiting_partition": "AWAITING" if waiting else None,
        "awaiting_sort": f"{stamp(at)}#{record.contact_id}" if waiting and at else None,
        "agent_week": f"{record.agent_id}#{week}" if record.agent_id and week else None,
        "queue_week": f"{record.queue}#{week}" if record.queue and week else None,
    }


def _record(item: QaItem) -> QaRecord:
    copied = {name: getattr(item, name) for name in _COPIED}
    lists = {name: tuple(getattr(item, name) or ()) for name in _LISTS}
    contact_id = item.pk.removeprefix("CONTACT#")
    total = float(item.total) if item.total is not None else None
    return QaRecord(
        contact_id,
        QaStatus(item.status),
        **{**copied, **lists, "total": total},
        version=int(item.version or 0),
    )


class BucketItem(Table):
    """A reason's count in one queue and 15-minute bucket, and a few contacts that had it."""

    Meta = table_meta(settings().table("qa"))

    pk = UnicodeAttribute(hash_key=True)  # "BUCKET#<bucket>", or "ALERTS"
    sk = UnicodeAttribute(range_key=True)  # "<scope>#<reason>", or "<bucket>#<scope>#<reason>"
    scope = UnicodeAttribute()
    reason = UnicodeAttribute()
    contacts = NumberAttribute(default=0)
    examples = TextListAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def _unstamp(text: str) -> str:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).isoformat()


def _bucket_key(bucket: datetime) -> str:
    return f"BUCKET#{stamp(bucket)}"


class DynamoQaRecords:
    @cached_property
    def _connection(self) -> Connection:
        return transactions()

    def get(self, contact_id: str) -> QaRecord | None:
        try:
            return _record(QaItem.get(contact_key(contact_id), "QA", consistent_read=True))
        except QaItem.DoesNotExist:
            return None

    def put(self, before: QaRecord | None, after: QaRecord, tallies: Sequence[Tally] = ()) -> bool:
        """Conditional on the version read (VersionAttribute); the tallies in the same
        transaction, so a contact is counted exactly when its record says so."""
        item = _item(after)
        if before is not None:
            item.version = before.version
        try:
            if tallies:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.save(item)
                    for tally in tallies:
                        transaction.update(*_count(tally))
            else:
                item.save()
        except (PutError, TransactWriteError) as error:
            if lost_race(error):
                return False
            raise
        for tally in tallies:
            _add_example(tally)
        return True

    def awaiting(self, limit: int) -> list[QaRecord]:
        found = QaItem.awaiting_index.query("AWAITING", limit=limit)
        return [_record(item) for item in found]

    def unheard(self, contact_ids: Sequence[str]) -> set[str]:
        keys = [(contact_key(c), "QA") for c in contact_ids]
        found = QaItem.batch_get(keys, attributes_to_get=["pk", "contact_updated_at"])
        heard = {item.pk.removeprefix("CONTACT#") for item in found if item.contact_updated_at}
        return set(contact_ids) - heard

    def of_agent(self, agent_id: str, week: str) -> list[QaRecord]:
        return [_record(item) for item in QaItem.by_agent.query(f"{agent_id}#{week}")]

    def of_queue(self, queue: str, week: str) -> list[QaRecord]:
        return [_record(item) for item in QaItem.by_queue.query(f"{queue}#{week}")]


def _count(tally: Tally) -> tuple[BucketItem, list[Any]]:
    item = BucketItem(_bucket_key(tally.bucket), f"{tally.scope}#{tally.reason}")
    return item, [
        BucketItem.scope.set(tally.scope),
        BucketItem.reason.set(tally.reason),
        BucketItem.contacts.add(1),
        BucketItem.expires_at.set(tally.bucket + KEPT_FOR),
    ]


def _add_example(tally: Tally) -> None:
    """A few contacts per bucket for the alert to point at; best effort, after the count."""
    item = BucketItem(_bucket_key(tally.bucket), f"{tally.scope}#{tally.reason}")
    try:
        item.update(
            [BucketItem.examples.set((BucketItem.examples | []).append([tally.contact_id]))],
            condition=BucketItem.examples.does_not_exist() | (size(BucketItem.examples) < EXAMPLES),
        )
    except UpdateError as error:
        if not lost_race(error):  # five are there already
            raise


class DynamoReasonCounts:
    def add(self, tally: Tally) -> None:
        """Count one contact under a reason, outside a record's write: for history loaded
        from elsewhere (and the demo's six weeks)."""
        item, actions = _count(tally)
        item.update(actions)

    def counts(self, scope: str, reason: str, buckets: Sequence[datetime]) -> dict[datetime, int]:
        keys = [(_bucket_key(b), f"{scope}#{reason}") for b in buckets]
        by_key = dict(zip((k for k, _ in keys), buckets, strict=True))
        return {by_key[item.pk]: int(item.contacts) for item in BucketItem.batch_get(keys)}

    def active(self, bucket: datetime) -> list[tuple[str, str]]:
        return [(item.scope, item.reason) for item in BucketItem.query(_bucket_key(bucket))]

    def examples(self, scope: str, reason: str, bucket: datetime) -> tuple[str, ...]:
        try:
            item = BucketItem.get(_bucket_key(bucket), f"{scope}#{reason}")
        except BucketItem.DoesNotExist:
            return ()
        return tuple(item.examples or ())

    def first_alert(self, scope: str, reason: str, bucket: datetime) -> bool:
        marker = BucketItem(
            ALERTS,
            f"{stamp(bucket)}#{scope}#{reason}",
            scope=scope,
            reason=reason,
            expires_at=bucket + KEPT_FOR,
        )
        try:
            marker.save(condition=BucketItem.pk.does_not_exist())
        except PutError as error:
            if lost_race(error):
                return False
            raise
        return True

    def forget_alert(self, scope: str, reason: str, bucket: datetime) -> None:
        BucketItem(ALERTS, f"{stamp(bucket)}#{scope}#{reason}").delete()

    def raised(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Warnings raised for buckets between the two instants, oldest first."""
        found = BucketItem.query(ALERTS, BucketItem.sk.between(stamp(since), f"{stamp(until)}~"))
        return [
            {
                "bucket": _unstamp(item.sk.split("#", 1)[0]),
                "scope": item.scope,
                "reason": item.reason,
            }
            for item in found
        ]


# -- reviews ------------------------------------------------------------------------------------


class FreeIndex(GlobalSecondaryIndex["ReviewItem"]):
    class Meta:
        index_name = "free_reviews"
        projection = KeysOnlyProjection()

    free_partition = UnicodeAttribute(hash_key=True)  # "REVIEWS"
    free_sort = UnicodeAttribute(range_key=True)  # "<free from>#<contact>"


class CalibrationIndex(GlobalSecondaryIndex["ReviewItem"]):
    class Meta:
        index_name = "calibration"
        projection = AllProjection()

    calibration_week = UnicodeAttribute(hash_key=True)  # the week a calibration copy was done
    pk = UnicodeAttribute(range_key=True)


class ReviewItem(Table):
    Meta = table_meta(settings().table("qa"))

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "REVIEW", "REVIEW#2", ... (calibration copies)
    reasons = TextListAttribute()
    queued_at = UTCDateTimeAttribute()
    status = UnicodeAttribute()
    reviewer = UnicodeAttribute(default="")
    lease_until = UTCDateTimeAttribute(null=True)
    overrides = UnicodeAttribute(default="{}")  # JSON: question -> value, score, reason
    submitted_at = UTCDateTimeAttribute(null=True)
    free_partition = UnicodeAttribute(null=True)
    free_sort = UnicodeAttribute(null=True)
    calibration_week = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    version = VersionAttribute()
    free_index = FreeIndex()
    calibration_index = CalibrationIndex()


class HolderItem(Table):
    """Which review a reviewer last claimed: found in one read, not by a scan."""

    Meta = table_meta(settings().table("qa"))

    pk = UnicodeAttribute(hash_key=True)  # "REVIEWER#<reviewer>"
    sk = UnicodeAttribute(range_key=True)  # "HOLDS"
    contact_id = UnicodeAttribute()
    copy = NumberAttribute()
    expires_at = TTLAttribute(null=True)


def _review_sk(copy: int) -> str:
    return "REVIEW" if copy == 1 else f"REVIEW#{copy}"


def _review_item(value: Review) -> ReviewItem:
    free_from = value.queued_at if value.status is ReviewStatus.WAITING else value.lease_until
    open_ = value.status in (ReviewStatus.WAITING, ReviewStatus.CLAIMED)
    free = open_ and free_from is not None
    overrides = {
        q: {
            "value": o.value,
            "score": o.score,
            "reason": o.reason,
            "by": o.by,
            "automatic_fail": o.automatic_fail,
        }
        for q, o in value.overrides.items()
    }
    return ReviewItem(
        contact_key(value.contact_id),
        _review_sk(value.copy),
        reasons=list(value.reasons),
        queued_at=value.queued_at,
        status=value.status.value,
        reviewer=value.reviewer,
        lease_until=value.lease_until,
        overrides=json.dumps(overrides, sort_keys=True),
        submitted_at=value.submitted_at,
        free_partition="REVIEWS" if free else None,
        free_sort=f"{stamp(free_from)}#{value.contact_id}" if free and free_from else None,
        calibration_week=_calibration_week(value),
        expires_at=value.queued_at + KEPT_FOR,
    )


def _calibration_week(value: Review) -> str | None:
    """The week a calibration copy was submitted in (None for anything else)."""
    if value.status is not ReviewStatus.SUBMITTED or CALIBRATION not in value.reasons:
        return None
    return None if value.submitted_at is None else iso_week(value.submitted_at)


def _review(item: ReviewItem) -> Review:
    overrides = {
        q: Override(
            q, o["value"], o["score"], o["reason"], o.get("by", ""), o.get("automatic_fail", False)
        )
        for q, o in json.loads(item.overrides).items()
    }
    return Review(
        item.pk.removeprefix("CONTACT#"),
        tuple(item.reasons),
        item.queued_at,
        ReviewStatus(item.status),
        item.reviewer,
        item.lease_until,
        overrides,
        item.submitted_at,
        int(item.sk.removeprefix("REVIEW").removeprefix("#") or 1),
        int(item.version or 0),
    )


class DynamoReviews:
    def get(self, contact_id: str, copy: int = 1) -> Review | None:
        key = contact_key(contact_id)
        try:
            return _review(ReviewItem.get(key, _review_sk(copy), consistent_read=True))
        except ReviewItem.DoesNotExist:
            return None

    def copies(self, contact_id: str) -> list[Review]:
        found = ReviewItem.query(
            contact_key(contact_id),
            ReviewItem.sk.startswith("REVIEW"),
            consistent_read=True,
        )
        return sorted((_review(item) for item in found), key=lambda r: r.copy)

    def free(self, now: datetime, limit: int) -> list[Review]:
        """The index is eventually consistent and holds keys only: each is read again."""
        keys = ReviewItem.free_index.query(
            "REVIEWS", ReviewItem.free_sort <= f"{stamp(now)}#~", limit=limit
        )
        found = [ReviewItem.get(k.pk, k.sk, consistent_read=True) for k in keys]
        reviews = [_review(item) for item in found]
        return [r for r in reviews if r.free(now)][:limit]

    def calibrated(self, week: str) -> list[Review]:
        return [_review(item) for item in ReviewItem.calibration_index.query(week)]

    def held_by(self, reviewer: str, now: datetime) -> Review | None:
        try:
            holds = HolderItem.get(f"REVIEWER#{reviewer}", "HOLDS", consistent_read=True)
        except HolderItem.DoesNotExist:
            return None
        held = self.get(holds.contact_id, int(holds.copy))
        return held if held is not None and held.held_by(reviewer, now) else None

    def put(self, before: Review | None, after: Review) -> bool:
        item = _review_item(after)
        if before is not None:
            item.version = before.version
        try:
            item.save()
        except PutError as error:
            if lost_race(error):
                return False
            raise
        if after.status is ReviewStatus.CLAIMED and after.lease_until is not None:
            # After the claim is won: a crash between the two leaves the reviewer free to
            # claim another, the one they lost lapsing back to the queue with its lease.
            HolderItem(
                f"REVIEWER#{after.reviewer}",
                "HOLDS",
                contact_id=after.contact_id,
                copy=after.copy,
                expires_at=after.lease_until + timedelta(days=1),
            ).save()
        return True


# -- rubrics ------------------------------------------------------------------------------------


class RubricItem(Table):
    Meta = table_meta(settings().table("qa"))

    pk = UnicodeAttribute(hash_key=True)  # "RUBRICS"
    sk = UnicodeAttribute(range_key=True)  # the rubric's name
    document = UnicodeAttribute()  # the JSON as written, checked when it was put
    queues = TextListAttribute(default=list)
    updated_at = UTCDateTimeAttribute()


class DynamoRubrics:
    """Rubric documents; read through the schema at most once a minute per Lambda."""

    def __init__(self) -> None:
        self._cached: tuple[float, dict[str, Rubric]] | None = None

    def put(self, document: Mapping[str, Any], queues: Sequence[str], at: datetime) -> None:
        RubricItem(
            RUBRICS,
            document["Name"],
            document=json.dumps(document),
            queues=list(queues),
            updated_at=at,
        ).save()
        self.clear_cache()

    def clear_cache(self) -> None:
        """Forget the rubrics read: the next use reads them again."""
        self._cached = None

    def for_queue(self, queue: str) -> Rubric | None:
        by_queue = self._by_queue()
        return by_queue.get(queue) or by_queue.get("*")

    def named(self, name: str) -> Rubric | None:
        return next((r for r in self._by_queue().values() if r.name == name), None)

    def _by_queue(self) -> dict[str, Rubric]:
        from chalicelib.qa.schema import read_rubric  # pydantic: only when a rubric is read

        if self._cached is not None and time.monotonic() - self._cached[0] < RUBRICS_CACHED_FOR:
            return self._cached[1]
        by_queue: dict[str, Rubric] = {}
        for item in sorted(RubricItem.query(RUBRICS), key=lambda i: i.sk):
            rubric = read_rubric(json.loads(item.document))
            for queue in item.queues:
                by_queue.setdefault(queue, rubric)
        self._cached = (time.monotonic(), by_queue)
        return by_queue


# -- the other adapters -------------------------------------------------------------------------
