"""The outbound core's storage. Its table: the account-wide pace of StartOutboundVoiceContact,
as a token bucket, and the owner of each contact we placed, by contact id. For its owners'
tables: what every item with attempts stores (`AttemptRecord`) and the two sparse indexes that
find it again, `due` while it waits and `leases` while a lease runs.

Connect's limit (2 requests a second, burst 5, by default) is per account and Region, shared
by every Lambda that calls it: the dispatcher's runs, overlapping runs, the dialer next. A
bucket kept per process lets N processes send N times the limit. This one item is the bucket
for all of them; each call takes a token with a write conditional on the version it read
(docs/adr/0006-account-wide-pacing.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.outbound.model import Attempt, DialNotPlacedError, Phase, Route, TokenBucket
from chalicelib.platform.settings import settings
from chalicelib.platform.tables import Table, lost_race, stamp, table_meta

RATE_PER_SECOND = 2.0  # Connect's default for StartOutboundVoiceContact
BURST = 2  # under Connect's 5: the account may have other callers of the same API
LONGEST_WAIT_SECONDS = 5.0  # beyond this, leave the attempt for a later run
_MAX_RACES = 20


class PaceRecord(Table):
    Meta = table_meta(settings().table("outbound"))

    pk = UnicodeAttribute(hash_key=True)  # "PACE#<API>"
    sk = UnicodeAttribute(range_key=True)
    tokens = NumberAttribute()
    at = NumberAttribute()  # epoch seconds
    version = VersionAttribute()


class DynamoPacer:
    def __init__(
        self,
        api: str = "StartOutboundVoiceContact",
        rate: float = RATE_PER_SECOND,
        burst: int = BURST,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._key = (f"PACE#{api}", "PACE")
        self.rate, self.burst = rate, burst
        self._clock, self._sleep = clock, sleep

    def acquire(self) -> None:
        for _ in range(_MAX_RACES):
            wait = self.take()
            if wait is not None:
                if wait:
                    self._sleep(wait)
                return
        raise DialNotPlacedError("pacing: the bucket kept changing under us")

    def take(self, now: float | None = None) -> float | None:
        """Take a token: how long to wait before calling, or None if another taker won."""
        now = self._clock() if now is None else now
        try:
            record = PaceRecord.get(*self._key, consistent_read=True)
        except PaceRecord.DoesNotExist:
            record = PaceRecord(*self._key, tokens=float(self.burst), at=now)
        except PynamoDBException as error:  # no budget known, no call: the attempt waits
            raise DialNotPlacedError(f"pacing unavailable: {error}") from error
        bucket, wait = TokenBucket(float(record.tokens), float(record.at)).take(
            now, self.rate, self.burst
        )
        if wait > LONGEST_WAIT_SECONDS:
            raise DialNotPlacedError(f"account pace: the next slot is {wait:.1f} s away")
        record.tokens, record.at = bucket.tokens, bucket.at
        try:
            record.save()  # conditional on the version read
        except PutError as error:
            if lost_race(error):
                return None
            raise DialNotPlacedError(f"pacing unavailable: {error}") from error
        return wait


# -- who placed each contact --------------------------------------------------------------------

# Long enough for any outcome to arrive: Connect keeps a ClientToken for 7 days.
ROUTE_KEPT_FOR = timedelta(days=8)


class RouteRecord(Table):
    Meta = table_meta(settings().table("outbound"))

    pk = UnicodeAttribute(hash_key=True)  # "CONTACT#<contact id>"
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute()
    ref = UnicodeAttribute()
    attempt = NumberAttribute()
    expires_at = TTLAttribute()


def _route_key(contact_id: str) -> tuple[str, str]:
    return f"CONTACT#{contact_id}", "ROUTE"


class DynamoRoutes:
    def remember(self, contact_id: str, route: Route) -> None:
        RouteRecord(
            *_route_key(contact_id),
            owner=route.owner,
            ref=route.ref,
            attempt=route.attempt,
            expires_at=datetime.now(UTC) + ROUTE_KEPT_FOR,
        ).save()

    def owner_of(self, contact_id: str) -> Route | None:
        try:
            record = RouteRecord.get(*_route_key(contact_id))
        except RouteRecord.DoesNotExist:
            return None
        return Route(record.owner, record.ref, int(record.attempt))


# -- what every item with attempts stores ------------------------------------------------------

_M = TypeVar("_M", bound=Model)


class DueIndex(GlobalSecondaryIndex[_M]):
    """Items waiting for their next attempt, in the order their owner serves them."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_partition = UnicodeAttribute(hash_key=True)  # the owner's group: a queue, a campaign
    due_sort = UnicodeAttribute(range_key=True)  # the owner's serving order, from its due time


class LeaseIndex(GlobalSecondaryIndex[_M]):
    """Items whose lease runs (an attempt in flight, an offer), by when it ends."""

    class Meta:
        index_name = "leases"
        projection = AllProjection()

    lease_partition = UnicodeAttribute(hash_key=True)  # one per owner
    lease_sort = UnicodeAttribute(range_key=True)  # "<lease ends>#<ref>"


class AttemptRecord(Table):
    """The attempt in hand of an item dialled by attempts (a callback, a campaign record), and
    the keys of its two sparse indexes: only waiting items are in `due`, only leased ones in
    `leases`, so a run reads what needs it and nothing else, whatever the table holds."""

    attempt = NumberAttribute(default=0)
    dial_token = UnicodeAttribute(default="")
    claimed_at = UTCDateTimeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
    outbound_contact_id = UnicodeAttribute(null=True)  # absent until known
    redial_same_attempt = NumberAttribute(default=0)
    sent_at = UTCDateTimeAttribute(null=True)
    due_partition = UnicodeAttribute(null=True)
    due_sort = UnicodeAttribute(null=True)
    lease_partition = UnicodeAttribute(null=True)
    lease_sort = UnicodeAttribute(null=True)


def attempt_state(attempt: Attempt) -> dict[str, Any]:
    """The attempt's attributes, by name (None: absent)."""
    return {
        "attempt": attempt.ordinal,
        "dial_token": attempt.token,
        "claimed_at": attempt.claimed_at,
        "lease_until": attempt.lease_until,
        "outbound_contact_id": attempt.contact_id or None,
        "redial_same_attempt": int(attempt.same_again),
        "sent_at": attempt.sent_at,
    }


def attempt_of(record: AttemptRecord, status: str) -> Attempt:
    """The attempt an item holds; its phase is the owner's status when in flight."""
    phase = Phase(status) if status in (Phase.DIALING.value, Phase.UNKNOWN.value) else Phase.IDLE
    return Attempt(
        ordinal=int(record.attempt),
        token=record.dial_token,
        phase=phase,
        claimed_at=record.claimed_at,
        lease_until=record.lease_until if phase is not Phase.IDLE else None,
        contact_id=record.outbound_contact_id or "",
        sent_at=record.sent_at,
        same_again=bool(record.redial_same_attempt),
    )


def index_keys(
    due: tuple[str, str] | None, lease: tuple[str, datetime | None, str]
) -> dict[str, Any]:
    """The index keys of an item: `due` (partition, serving order) while it waits, `lease`
    (partition, when the lease ends, ref) while one runs; None leaves an index."""
    partition, ends, ref = lease
    return {
        "due_partition": due[0] if due else None,
        "due_sort": due[1] if due else None,
        "lease_partition": partition if ends else None,
        "lease_sort": f"{stamp(ends)}#{ref}" if ends else None,
    }


def leases_ended(index: LeaseIndex[_M], partition: str, now: datetime, limit: int) -> Iterable[_M]:
    """The items whose lease ended by `now`, earliest first."""
    return index.query(partition, LeaseIndex.lease_sort <= f"{stamp(now)}#~", limit=limit)
