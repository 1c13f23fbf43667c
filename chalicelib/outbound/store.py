"""The outbound core's table: the account-wide pace of StartOutboundVoiceContact, as a token
bucket, and the owner of each contact we placed, by contact id.

Connect's limit (2 requests a second, burst 5, by default) is per account and Region, shared
by every Lambda that calls it: the dispatcher's runs, overlapping runs, the dialer next. A
bucket kept per process lets N processes send N times the limit. This one item is the bucket
for all of them; each call takes a token with a write conditional on the version it read
(docs/adr/0006-account-wide-pacing.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError, PynamoDBException

from chalicelib.outbound.model import DialNotPlacedError, Route, TokenBucket
from chalicelib.platform.settings import settings
from chalicelib.platform.tables import Table, lost_race, table_meta

RATE_PER_SECOND = 2.0  # Connect's default for StartOutboundVoiceContact
BURST = 2  # under Connect's 5: the account may have other callers of the same API
LONGEST_WAIT_SECONDS = 5.0  # beyond this, leave the attempt for a later run
_MAX_RACES = 20


class PaceRecord(Table):
    Meta = table_meta(settings().outbound_table)

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
    Meta = table_meta(settings().outbound_table)

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
