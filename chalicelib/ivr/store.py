"""The IVR's adapters: PynamoDB tables for customers, events, accounts, PIN guards and
journeys, and Connect's real-time metrics for queue load.

AWS errors stop here: a condition failure becomes "already recorded" or a retry, a Connect
failure becomes `LoadUnavailableError` with a reason the flow can read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection

from chalicelib.ivr.model import Account, AccountEvent, Customer, JourneyStep, Tier
from chalicelib.ivr.pin import PinGuard, PinOutcome
from chalicelib.ivr.service import PreviousJourney
from chalicelib.platform.settings import settings
from chalicelib.platform.tables import (
    InstantListAttribute,
    Table,
    TextMapAttribute,
    lost_race,
    table_meta,
)

_MAX_RACE_RETRIES = 3


class ConcurrentUpdateError(Exception):
    """Another writer kept winning the race for the same item."""


# -- customers --------------------------------------------------------------------------------


class CustomersByPhone(GlobalSecondaryIndex["CustomerRecord"]):
    class Meta:
        index_name = "by-phone"
        projection = AllProjection()

    phone = UnicodeAttribute(hash_key=True)


class CustomerRecord(Table):
    Meta = table_meta(settings().table("customers"))

    customer_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    tier = UnicodeAttribute(default=Tier.STANDARD.value)
    language = UnicodeAttribute(default="en")
    elderly = BooleanAttribute(default=False)
    assigned_agent = UnicodeAttribute(default="")
    last_agent = UnicodeAttribute(default="")
    pin_hash = UnicodeAttribute(null=True)
    version = VersionAttribute()
    by_phone = CustomersByPhone()

    def to_domain(self) -> Customer:
        tier = self.tier if self.tier in {t.value for t in Tier} else Tier.STANDARD.value
        return Customer(
            customer_id=self.customer_id,
            display_name=self.display_name,
            tier=Tier(tier),
            language=self.language,
            elderly=self.elderly,
            assigned_agent=self.assigned_agent,
            last_agent=self.last_agent,
        )


class AccountEventRecord(Table):
    Meta = table_meta(settings().table("account-events"))

    customer_id = UnicodeAttribute(hash_key=True)
    event_key = UnicodeAttribute(range_key=True)  # "<ISO time>#<event id>": newest sort last
    kind = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)


class DynamoCustomerDirectory:
    def by_phone(self, e164: str) -> Customer | None:
        for record in CustomerRecord.by_phone.query(e164, limit=1):
            return record.to_domain()
        return None

    def recent_events(self, customer_id: str, since: datetime) -> Sequence[AccountEvent]:
        records = AccountEventRecord.query(
            customer_id,
            AccountEventRecord.event_key >= since.astimezone(UTC).isoformat(),
            scan_index_forward=False,
            limit=20,
        )
        return [AccountEvent(r.kind, r.occurred_at) for r in records]

    def pin_hash(self, customer_id: str) -> str:
        try:
            record = CustomerRecord.get(customer_id, attributes_to_get=["pin_hash"])
        except CustomerRecord.DoesNotExist:
            return ""
        return record.pin_hash or ""


# -- accounts ---------------------------------------------------------------------------------


class AccountRecord(Table):
    Meta = table_meta(settings().table("accounts"))

    customer_id = UnicodeAttribute(hash_key=True)
    balance_cents = NumberAttribute(default=0)
    currency = UnicodeAttribute(default="USD")
    next_bill_date = UnicodeAttribute(null=True)
    policy_status = UnicodeAttribute(default="active")
    version = VersionAttribute()


class DynamoAccounts:
    def get(self, customer_id: str) -> Account | None:
        try:
            record = AccountRecord.get(customer_id)
        except AccountRecord.DoesNotExist:
            return None
        bill = date.fromisoformat(record.next_bill_date) if record.next_bill_date else None
        return Account(
            customer_id, int(record.balance_cents), record.currency, bill, record.policy_status
        )


# -- PIN guards -------------------------------------------------------------------------------


class PinGuardRecord(Table):
    Meta = table_meta(settings().table("pin-guards"))

    customer_id = UnicodeAttribute(hash_key=True)
    failures = InstantListAttribute(default=list)  # recent failures
    locked_until = UTCDateTimeAttribute(null=True)
    counted = TextMapAttribute(default=dict)  # attempt key -> outcome
    verified_contact = UnicodeAttribute(default="")
    verified_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    def to_domain(self) -> PinGuard:
        counted = {key: PinOutcome(value) for key, value in self.counted.as_dict().items()}
        return PinGuard(
            failures=tuple(self.failures),
            locked_until=self.locked_until,
            counted=counted,
            verified_contact=self.verified_contact,
            verified_at=self.verified_at,
        )

    def take(self, guard: PinGuard) -> None:
        self.failures = list(guard.failures)
        self.locked_until = guard.locked_until
        self.counted = {key: value.value for key, value in guard.counted.items()}
        self.verified_contact = guard.verified_contact
        self.verified_at = guard.verified_at


class DynamoPinGuards:
    def _record(self, customer_id: str) -> PinGuardRecord:
        try:
            return PinGuardRecord.get(customer_id, consistent_read=True)
        except PinGuardRecord.DoesNotExist:
            return PinGuardRecord(customer_id)

    def load(self, customer_id: str) -> PinGuard:
        return self._record(customer_id).to_domain()

    def update(self, customer_id: str, change: Callable[[PinGuard], PinGuard]) -> PinGuard:
        for _ in range(_MAX_RACE_RETRIES):
            record = self._record(customer_id)
            before = record.to_domain()
            after = change(before)
            if after == before:
                return before
            record.take(after)
            try:
                record.save()  # conditional on the version we read
            except PutError as error:
                if not lost_race(error):
                    raise
                continue
            return after
        raise ConcurrentUpdateError(f"PIN guard kept changing under us ({_MAX_RACE_RETRIES} tries)")


# -- journeys ---------------------------------------------------------------------------------


class JourneyStepMap(MapAttribute[str, Any]):
    contact_id = UnicodeAttribute()
    step = UnicodeAttribute()
    value = UnicodeAttribute(default="")
    at = UTCDateTimeAttribute()


class JourneysByCaller(GlobalSecondaryIndex["JourneyRecord"]):
    class Meta:
        index_name = "by-caller"
        projection = IncludeProjection(["last_intent"])

    caller_key = UnicodeAttribute(hash_key=True)
    started_at = UnicodeAttribute(range_key=True)


class JourneyRecord(Table):
    Meta = table_meta(settings().table("journeys"))

    initial_contact_id = UnicodeAttribute(hash_key=True)
    # An HMAC of the caller's number (ADR 0004), never the number; absent for withheld
    # numbers, which keeps those journeys out of the index.
    caller_key = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    last_intent = UnicodeAttribute(null=True)
    steps = ListAttribute(of=JourneyStepMap, default=list)
    step_keys = UnicodeSetAttribute(default=set)
    expires_at = TTLAttribute(null=True)
    by_caller = JourneysByCaller()


def _steps(record: JourneyRecord) -> list[JourneyStep]:
    return [JourneyStep(s.contact_id, s.step, s.value, s.at) for s in record.steps or []]


class DynamoJourneyLog:
    def previous(self, caller: str, since: datetime) -> Sequence[PreviousJourney]:
        records = JourneyRecord.by_caller.query(
            caller, JourneyRecord.started_at >= since.astimezone(UTC).isoformat()
        )
        return [
            PreviousJourney(
                r.initial_contact_id,
                datetime.fromisoformat(r.started_at or ""),
                r.last_intent or "",
            )
            for r in records
        ]

    def append(
        self, initial_contact_id: str, caller: str, step: JourneyStep, expires_at: datetime
    ) -> Sequence[JourneyStep]:
        entry = JourneyStepMap(
            contact_id=step.contact_id, step=step.step, value=step.value, at=step.at
        )
        actions: list[Action] = [
            JourneyRecord.steps.set((JourneyRecord.steps | []).append([entry])),
            JourneyRecord.step_keys.add({step.key}),
            JourneyRecord.started_at.set(JourneyRecord.started_at | step.at.isoformat()),
            JourneyRecord.expires_at.set(expires_at),
        ]
        if caller:
            actions.append(JourneyRecord.caller_key.set(JourneyRecord.caller_key | caller))
        if step.step == "intent" and step.value:
            actions.append(JourneyRecord.last_intent.set(step.value))
        record = JourneyRecord(initial_contact_id)
        try:
            record.update(actions=actions, condition=~JourneyRecord.step_keys.contains(step.key))
        except UpdateError as error:
            if not lost_race(error):
                raise
            record = JourneyRecord.get(initial_contact_id, consistent_read=True)
        return _steps(record)


# -- Connect queue load -----------------------------------------------------------------------
