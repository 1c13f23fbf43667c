"""The callback ledger on DynamoDB (PynamoDB); dialling goes through the outbound core
(`callbacks/adapters.py`, chalicelib/outbound/), agent counts through the Connect gateway.

One table holds the callbacks (`CB#<id>`) and two kinds of lock: `NUMBER#<number>` / queue
(one active callback per number and queue) and `CONTACT#<id>` (one per asking contact).
A callback is created, replaced and finished together with its locks in one transaction;
every other change is a conditional write on the version that was read. The indexes are
the outbound core's (`AttemptRecord`), sparse: only waiting callbacks are in `due`, only those
in flight (DIALING or UNKNOWN) in `leases`; every callback that is not final is in one of the
two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.callbacks import model
from chalicelib.callbacks.model import Callback, Status, Transition
from chalicelib.callbacks.service import AllowanceUsedError, Holders
from chalicelib.outbound.store import (
    AttemptRecord,
    DueIndex,
    LeaseIndex,
    attempt_of,
    attempt_state,
    index_keys,
    leases_ended,
)
from chalicelib.platform.settings import settings
from chalicelib.platform.tables import (
    CANCELLED_BY_CONDITION,
    ReadsJSONText,
    Table,
    TextListAttribute,
    cancellation_codes,
    lost_race,
    stamp,
    table_meta,
    transactions,
)

_PRIORITIES = range(1, 11)  # 1 is served first
_IN_FLIGHT = "IN_FLIGHT"


class TransitionEntry(MapAttribute[str, Any]):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(default="")


class HistoryAttribute(ReadsJSONText, ListAttribute[TransitionEntry]):
    """A callback's moves, oldest first. Before 2026-12 they were JSON text of
    `[status, stamp, reason]` triples."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(of=TransitionEntry, **kwargs)

    def from_json_text(self, decoded: Any) -> Any:
        return [
            TransitionEntry(status=status, at=_from_stamp(at), reason=reason)
            for status, at, reason in decoded
        ]


def _from_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class OutboundIndex(GlobalSecondaryIndex["CallbackRecord"]):
    class Meta:
        index_name = "by-outbound-contact"
        projection = KeysOnlyProjection()

    outbound_contact_id = UnicodeAttribute(hash_key=True)


class CallbackRecord(AttemptRecord):
    Meta = table_meta(settings().table("callbacks"))

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    callback_id = UnicodeAttribute()
    number = UnicodeAttribute()
    queue = UnicodeAttribute()
    priority = NumberAttribute()
    status = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    due_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    time_zones = TextListAttribute()
    max_attempts = NumberAttribute(default=3)
    contact_id = UnicodeAttribute(default="")
    source = UnicodeAttribute(default="ivr")
    journey = UnicodeAttribute(default="")
    history = HistoryAttribute(default=list)
    purge_at = TTLAttribute(null=True)
    version = VersionAttribute()
    # due: one partition per queue, in serving order, so a position is one COUNT query
    due_index = DueIndex["CallbackRecord"]()
    lease_index = LeaseIndex["CallbackRecord"]()
    outbound_index = OutboundIndex()


class LockRecord(Table):
    Meta = table_meta(settings().table("callbacks"))

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    callback_id = UnicodeAttribute()


class AllowanceRecord(Table):
    Meta = table_meta(settings().table("callbacks"))

    pk = UnicodeAttribute(hash_key=True)  # "RATE#<allowance key>"
    sk = UnicodeAttribute(range_key=True)
    hits = NumberAttribute(default=0)
    purge_at = TTLAttribute(null=True)


def _charge(write: _NamedWrite, allowance: model.Allowance) -> None:
    write.update(
        "allowance",
        AllowanceRecord(f"RATE#{allowance.key}", "RATE"),
        actions=[
            AllowanceRecord.hits.add(1),
            AllowanceRecord.purge_at.set(allowance.window_ends + timedelta(hours=1)),
        ],
        condition=AllowanceRecord.hits.does_not_exist() | (AllowanceRecord.hits < allowance.limit),
    )


def _record(callback: Callback, policy: model.Policy) -> CallbackRecord:
    record = CallbackRecord(
        f"CB#{callback.callback_id}",
        "CB",
        callback_id=callback.callback_id,
        number=callback.number,
        queue=callback.queue,
        priority=callback.priority,
        status=callback.status.value,
        requested_at=callback.requested_at,
        due_at=callback.due_at,
        expires_at=callback.expires_at,
        time_zones=list(callback.time_zones),
        max_attempts=callback.max_attempts,
        contact_id=callback.contact_id,
        source=callback.source,
        journey=callback.journey,
        history=[
            TransitionEntry(status=t.status.value, at=t.at, reason=t.reason)
            for t in callback.history
        ],
        **attempt_state(callback.attempt),
        **index_keys(
            (callback.queue, _serving_order(callback))
            if callback.status in model.WAITING
            else None,
            (_IN_FLIGHT, _lease_ends(callback), callback.callback_id),
        ),
    )
    if callback.final:
        record.purge_at = datetime.now(UTC) + policy.retention
    if callback.version:
        record.version = callback.version
    return record


def _lease_ends(callback: Callback) -> datetime | None:
    return callback.attempt.lease_until if callback.attempt.in_flight else None


def _serving_order(callback: Callback) -> str:
    return (
        f"{callback.priority:02d}#{stamp(callback.due_at)}#{stamp(callback.requested_at)}"
        f"#{callback.callback_id}"
    )


def _domain(record: CallbackRecord) -> Callback:
    history = tuple(
        Transition(Status(entry.status), entry.at, entry.reason) for entry in record.history
    )
    return Callback(
        callback_id=record.callback_id,
        number=record.number,
        queue=record.queue,
        requested_at=record.requested_at,
        due_at=record.due_at,
        expires_at=record.expires_at,
        time_zones=tuple(record.time_zones),
        priority=int(record.priority),
        status=Status(record.status),
        attempt=attempt_of(record, record.status),
        max_attempts=int(record.max_attempts),
        contact_id=record.contact_id,
        source=record.source,
        journey=record.journey,
        history=history,
        version=int(record.version or 0),
    )


class _NamedWrite:
    """A transaction whose items are named as they are added, so that a cancellation says
    which condition failed. PynamoDB sends the items grouped by kind (deletes, then puts, then
    updates), each kind in the order added: a reason's position is not the order of our code.
    """

    _SENT_IN_ORDER = ("delete", "save", "update")

    def __init__(self, transaction: TransactWrite) -> None:
        self._transaction = transaction
        self._added: list[tuple[str, str]] = []

    def save(self, name: str, record: Model, condition: Condition | None = None) -> None:
        self._transaction.save(record, condition=condition)
        self._added.append(("save", name))

    def delete(self, name: str, record: Model, condition: Condition | None = None) -> None:
        self._transaction.delete(record, condition=condition)
        self._added.append(("delete", name))

    def update(
        self, name: str, record: Model, actions: list[Action], condition: Condition | None = None
    ) -> None:
        self._transaction.update(record, actions=actions, condition=condition)
        self._added.append(("update", name))

    def failed(self, error: TransactWriteError) -> set[str]:
        """The names of the items whose condition cancelled the transaction."""
        sent = sorted(self._added, key=lambda item: self._SENT_IN_ORDER.index(item[0]))
        codes = cancellation_codes(error)
        return {
            name
            for (_, name), code in zip(sent, codes, strict=False)
            if code == CANCELLED_BY_CONDITION
        }


class DynamoLedger:
    def __init__(self, policy: model.Policy | None = None) -> None:
        self.policy = policy or model.Policy()

    @cached_property
    def _connection(self) -> Connection:
        return transactions()

    # -- reads -------------------------------------------------------------------------------

    def get(self, callback_id: str) -> Callback | None:
        try:
            return _domain(CallbackRecord.get(f"CB#{callback_id}", "CB", consistent_read=True))
        except CallbackRecord.DoesNotExist:
            return None

    def active_for_number(self, number: str) -> Sequence[Callback]:
        locks = LockRecord.query(f"NUMBER#{number}", consistent_read=True)
        found = [self.get(lock.callback_id) for lock in locks]
        return [c for c in found if c is not None and not c.final]

    def holders(self, number: str, queue: str, contact_id: str) -> Holders:
        number_key, contact_key = (f"NUMBER#{number}", queue), (f"CONTACT#{contact_id}", "CONTACT")
        keys = [number_key, contact_key] if contact_id else [number_key]
        held = {
            (lock.pk, lock.sk): lock.callback_id
            for lock in LockRecord.batch_get(keys, consistent_read=True)
        }
        ids = set(held.values())
        found = {
            record.callback_id: _domain(record)
            for record in CallbackRecord.batch_get(
                [(f"CB#{i}", "CB") for i in ids], consistent_read=True
            )
        }

        def active(key: tuple[str, str]) -> Callback | None:
            callback = found.get(held.get(key, ""))
            return callback if callback is not None and not callback.final else None

        return Holders(active(number_key), active(contact_key) if contact_id else None)

    def by_outbound_contact(self, contact_id: str) -> Callback | None:
        for record in CallbackRecord.outbound_index.query(contact_id, limit=1):
            return self.get(record.pk.removeprefix("CB#"))  # keys only: read the item itself
        return None

    def due(self, queue: str, now: datetime, limit: int) -> Sequence[Callback]:
        found: list[Callback] = []
        for priority in _PRIORITIES:
            if len(found) >= limit:
                break
            first, last = f"{priority:02d}#", f"{priority:02d}#{stamp(now)}#~"
            records = CallbackRecord.due_index.query(
                queue,
                CallbackRecord.due_sort.between(first, last),
                limit=limit - len(found),
            )
            found += [_domain(r) for r in records]
        return found

    def position(self, callback: Callback) -> int:
        ahead = CallbackRecord.due_index.count(
            callback.queue, CallbackRecord.due_sort < _serving_order(callback)
        )
        return ahead + 1

    def leases_ended(self, now: datetime, limit: int) -> Sequence[Callback]:
        records = leases_ended(CallbackRecord.lease_index, _IN_FLIGHT, now, limit)
        return [_domain(r) for r in records]

    # -- writes ------------------------------------------------------------------------------

    def create(
        self, callback: Callback, supersedes: Callback | None, allowance: model.Allowance
    ) -> tuple[Callback, bool]:
        record = _record(model.replace_version(callback, 0), self.policy)
        try:
            with TransactWrite(connection=self._connection) as transaction:
                write = _NamedWrite(transaction)
                write.save("callback", record, CallbackRecord.pk.does_not_exist())
                write.save(
                    "number_lock",
                    LockRecord(
                        f"NUMBER#{callback.number}",
                        callback.queue,
                        callback_id=callback.callback_id,
                    ),
                    LockRecord.pk.does_not_exist(),
                )
                self._contact_lock(write, callback, supersedes)
                if supersedes is not None:
                    self._finish(
                        write,
                        supersedes,
                        model.cancel(
                            supersedes,
                            callback.requested_at,
                            "replaced by a request for another number",
                        ),
                        contact_lock_moves=bool(callback.contact_id),
                    )
                _charge(write, allowance)
        except TransactWriteError as error:
            failed = write.failed(error)
            if "number_lock" in failed:
                existing = self.holders(callback.number, callback.queue, "").of_number
                if existing is not None:
                    return existing, False
            if "allowance" in failed:
                raise AllowanceUsedError(allowance.key) from error
            raise
        return model.replace_version(callback, 1), True

    @staticmethod
    def _contact_lock(write: _NamedWrite, callback: Callback, supersedes: Callback | None) -> None:
        if not callback.contact_id:
            return
        lock = LockRecord(
            f"CONTACT#{callback.contact_id}", "CONTACT", callback_id=callback.callback_id
        )
        condition = (
            LockRecord.callback_id == supersedes.callback_id
            if supersedes
            else LockRecord.pk.does_not_exist()
        )
        write.save("contact_lock", lock, condition)

    def _finish(
        self,
        write: _NamedWrite,
        before: Callback,
        after: Callback,
        contact_lock_moves: bool = False,
    ) -> None:
        finished = _record(model.replace_version(after, before.version), self.policy)
        write.save("finished_callback", finished)
        write.delete(
            "finished_number_lock",
            LockRecord(f"NUMBER#{before.number}", before.queue),
            LockRecord.callback_id == before.callback_id,
        )
        if before.contact_id and not contact_lock_moves:
            write.delete(
                "finished_contact_lock",
                LockRecord(f"CONTACT#{before.contact_id}", "CONTACT"),
                (LockRecord.callback_id == before.callback_id) | LockRecord.pk.does_not_exist(),
            )

    def transition(self, before: Callback, after: Callback) -> Callback | None:
        try:
            if after.final and not before.final:
                with TransactWrite(connection=self._connection) as transaction:
                    self._finish(_NamedWrite(transaction), before, after)
            else:
                _record(model.replace_version(after, before.version), self.policy).save()
        except (PutError, TransactWriteError) as error:
            if lost_race(error):
                return None
            raise
        return model.replace_version(after, before.version + 1)


# -- Connect, through the outbound core --------------------------------------------------------
