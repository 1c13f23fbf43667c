"""The dialer's table (PynamoDB): campaign records and their attempts, people's state,
caller-ID counts, campaign definitions and figures. Dialling goes through the outbound core.

- `CAMPAIGN#<name>` / `<E.164>`: one record per campaign and number, written once at ingest
  and moved by its state machine, each move conditional on the version read. Two sparse
  indexes: `due` holds the READY records per campaign in due order, `leases` the records
  in flight or offered, by lease end; a record that is not final is in one of them.
- `PERSON#<E.164>` / `STATE`: the person across campaigns: their do-not-call, consent and
  the calls counted against caps. A call is reserved here, conditional on the version the
  compliance check read, before it is placed.
- `NDNC#<E.164>` / `NDNC`: on our copy of the national registry; `NDNC#COPY` / `COPY` says
  when that copy was taken.
- `CALLERID#<E.164>` / `DAY#<date>`: calls made from a caller ID that day.
- `CAMPAIGNS` / `<name>`: a campaign's checked document.
- `FIGURES#<name>` / `DAY#<date>`: a campaign's counters per UTC day, added to in the same
  transaction as the move that earns them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.dialer import model
from chalicelib.dialer.compliance import Consent, PastCall, Purpose, Recipient
from chalicelib.dialer.contacts import Contact
from chalicelib.dialer.model import (
    Campaign,
    DialRecord,
    Disposition,
    Figures,
    Heard,
    NpsGroup,
    RecordStatus,
    Seen,
    Step,
)
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
    Table,
    TextListAttribute,
    TextMapAttribute,
    lost_race,
    stamp,
    table_meta,
    transactions,
)

_LEASED = "LEASED"


def campaign_key(campaign: str) -> str:
    return f"CAMPAIGN#{campaign}"


# -- records and attempts -----------------------------------------------------------------------


class StepEntry(MapAttribute[str, Any]):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    reason = UnicodeAttribute(default="")


class ContactRecord(AttemptRecord):
    Meta = table_meta(settings().table("dialer"))

    pk = UnicodeAttribute(hash_key=True)  # "CAMPAIGN#<name>"
    sk = UnicodeAttribute(range_key=True)  # the E.164 number
    time_zones = TextListAttribute()
    subdivision = UnicodeAttribute(default="")
    name = UnicodeAttribute(default="")
    attributes = TextMapAttribute(default=dict)
    list_row = NumberAttribute()
    ingested_at = UTCDateTimeAttribute()
    status = UnicodeAttribute(default=RecordStatus.READY.value)
    due_at = UTCDateTimeAttribute(null=True)
    caller_id = UnicodeAttribute(default="")
    offered_until = UTCDateTimeAttribute(null=True)
    disposition = UnicodeAttribute(null=True)
    offered_to = UnicodeAttribute(default="")
    heard = UnicodeAttribute(default=Heard.NOTHING.value)
    history = ListAttribute[StepEntry](of=StepEntry, default=list)
    version = VersionAttribute()
    due_index = DueIndex["ContactRecord"]()  # per campaign: "<due>#<number>"
    lease_index = LeaseIndex["ContactRecord"]()


def _state(value: DialRecord) -> dict[str, Any]:
    """What a move writes, by attribute: the state machine's fields and the index keys that
    find the record again (only the index for its status is set)."""
    ready = value.status is RecordStatus.READY
    return {
        "status": value.status.value,
        "due_at": value.due_at,
        **attempt_state(value.attempt),
        "caller_id": value.caller_id,
        "offered_until": value.offered_until,
        "disposition": value.disposition.value if value.disposition else None,
        "offered_to": value.offered_to,
        "heard": value.heard.value,
        "history": [
            StepEntry(status=step.status.value, at=step.at, reason=step.reason)
            for step in value.history
        ],
        **index_keys(
            (value.campaign, f"{stamp(value.due_at)}#{value.number}") if ready else None,
            (_LEASED, value.lease_ends, value.ref),
        ),
    }


def _apply(record: ContactRecord, value: DialRecord) -> ContactRecord:
    for name, field_value in _state(value).items():
        setattr(record, name, field_value)
    return record


def _domain(record: ContactRecord) -> DialRecord:
    return DialRecord(
        campaign=record.pk.removeprefix("CAMPAIGN#"),
        number=record.sk,
        time_zones=tuple(record.time_zones),
        due_at=record.due_at or record.ingested_at,
        subdivision=record.subdivision,
        status=RecordStatus(record.status),
        attempt=attempt_of(record, record.status),
        caller_id=record.caller_id,
        offered_until=record.offered_until,
        disposition=Disposition(record.disposition) if record.disposition else None,
        offered_to=record.offered_to,
        heard=Heard(record.heard),
        history=tuple(
            Step(RecordStatus(entry.status), entry.at, entry.reason) for entry in record.history
        ),
        version=int(record.version or 0),
    )


def _figures_model() -> Any:
    """A campaign's counters for one UTC day: one number attribute per `model.TALLY_KEYS`
    (so the keys have one home, the model), each added to with ADD."""
    counters = {key: NumberAttribute(null=True) for key in model.TALLY_KEYS}
    return type(
        "FiguresRecord",
        (Table,),
        {
            "Meta": table_meta(settings().table("dialer")),
            "pk": UnicodeAttribute(hash_key=True),  # "FIGURES#<campaign>"
            "sk": UnicodeAttribute(range_key=True),  # "DAY#<yyyy-mm-dd>"
            "__module__": __name__,
            **counters,
        },
    )


FiguresRecord = _figures_model()


class DynamoDialLedger:
    """The records of every campaign. Ingest adds them (`add`), runs move them."""

    @cached_property
    def _connection(self) -> Connection:
        return transactions()

    # -- ingest -------------------------------------------------------------------------------

    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        """One BatchGetItem to skip the numbers the campaign has, then a put conditional on
        the record not existing for each of the others: a record the dialer already works
        on is never overwritten, even by an ingest racing with it."""
        key = campaign_key(campaign)
        known = {
            record.sk for record in ContactRecord.batch_get([(key, c.number) for c in contacts])
        }
        return [c.number not in known and self._put_new(campaign, c, at) for c in contacts]

    @staticmethod
    def _put_new(campaign: str, contact: Contact, at: datetime) -> bool:
        record = ContactRecord(
            campaign_key(campaign),
            contact.number,
            time_zones=list(contact.time_zones),
            subdivision=contact.subdivision,
            name=contact.name,
            attributes=dict(contact.attributes),
            list_row=contact.row,
            ingested_at=at,
        )
        value = DialRecord(campaign, contact.number, contact.time_zones, at, contact.subdivision)
        try:
            _apply(record, value).save(condition=ContactRecord.pk.does_not_exist())
        except PutError as error:
            if not lost_race(error):
                raise
            return False
        return True

    # -- reads --------------------------------------------------------------------------------

    def get(self, campaign: str, number: str) -> DialRecord | None:
        try:
            return _domain(ContactRecord.get(campaign_key(campaign), number, consistent_read=True))
        except ContactRecord.DoesNotExist:
            return None

    def of_number(self, number: str, campaigns: Sequence[str]) -> Sequence[DialRecord]:
        keys = [(campaign_key(campaign), number) for campaign in campaigns]
        return [_domain(r) for r in ContactRecord.batch_get(keys, consistent_read=True)]

    def due(self, campaign: str, now: datetime, limit: int) -> Sequence[DialRecord]:
        records = ContactRecord.due_index.query(
            campaign, ContactRecord.due_sort <= f"{stamp(now)}#~", limit=limit
        )
        return [_domain(r) for r in records]

    def in_flight(self, campaign: str) -> int:
        prefix = f"{campaign}/"
        return sum(
            1
            for record in ContactRecord.lease_index.query(_LEASED)
            if record.lease_sort
            and record.lease_sort.split("#", 1)[1].startswith(prefix)
            and RecordStatus(record.status) in model.IN_FLIGHT
        )

    def leases_ended(self, now: datetime, limit: int) -> Sequence[DialRecord]:
        records = leases_ended(ContactRecord.lease_index, _LEASED, now, limit)
        return [_domain(r) for r in records]

    def figures(self, campaign: str, now: datetime) -> Figures:
        total: Counter[str] = Counter()
        rolling: Counter[str] = Counter()
        since = f"DAY#{(now - model.ROLLING).date():%Y-%m-%d}"
        for day in FiguresRecord.query(f"FIGURES#{campaign}", consistent_read=True):
            counts = {key: int(getattr(day, key) or 0) for key in model.TALLY_KEYS}
            total.update(counts)
            if day.sk > since:
                rolling.update(counts)
        return Figures(model.counts_of(total), model.counts_of(rolling))

    def statuses(self, campaign: str) -> dict[str, int]:
        """One query over the campaign's records (a report, never a run's path)."""
        found = ContactRecord.query(
            campaign_key(campaign), attributes_to_get=["status"], consistent_read=True
        )
        return dict(Counter(record.status for record in found))

    def answer(self, record: DialRecord, group: NpsGroup, score: int | None) -> bool:
        answer = SurveyAnswer(
            f"SURVEY#{record.campaign}",
            f"{record.number}#{record.attempt.ordinal}",
            score=score,
            answered_at=datetime.now(UTC),
        )
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(answer, condition=SurveyAnswer.pk.does_not_exist())
                transaction.update(_figures_day(record), _additions({group.value: 1}))
        except TransactWriteError as error:
            if lost_race(error):
                return False
            raise
        return True

    # -- moves --------------------------------------------------------------------------------

    def transition(self, before: DialRecord, after: DialRecord) -> DialRecord | None:
        """One update conditional on the version read; with the figures it earns, one
        transaction. Ingest-time fields (name, attributes, row) are left as they are."""
        record = ContactRecord(campaign_key(before.campaign), before.number)
        record.version = before.version
        changes = model.tally(before, after)
        try:
            if changes:
                with TransactWrite(connection=self._connection) as transaction:
                    transaction.update(record, _moves(after), ContactRecord.pk.exists())
                    transaction.update(_figures_day(after), _additions(changes))
            else:
                record.update(_moves(after), ContactRecord.pk.exists())
        except (UpdateError, TransactWriteError) as error:
            if lost_race(error):
                return None
            raise
        return model.replace_version(after, before.version + 1)

    def send(self, before: DialRecord, after: DialRecord, person: Seen) -> DialRecord | None:
        """One transaction: the record's move, conditional on its version, and a check that
        the person's do-not-call and consent revocation are what the reservation saw."""
        record = ContactRecord(campaign_key(before.campaign), before.number)
        record.version = before.version
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.update(record, _moves(after), ContactRecord.pk.exists())
                transaction.condition_check(
                    PersonRecord, *_person_key(before.number), condition=_unstopped(person)
                )
        except TransactWriteError as error:
            if lost_race(error):
                return None
            raise
        return model.replace_version(after, before.version + 1)


class SurveyAnswer(Table):
    """One survey answer per attempt; the score is None when nobody answered."""

    Meta = table_meta(settings().table("dialer"))

    pk = UnicodeAttribute(hash_key=True)  # "SURVEY#<campaign>"
    sk = UnicodeAttribute(range_key=True)  # "<E.164>#<attempt>"
    score = NumberAttribute(null=True)
    answered_at = UTCDateTimeAttribute()


def _figures_day(after: DialRecord) -> Any:
    day = (after.history[-1].at if after.history else datetime.now(UTC)).date()
    return FiguresRecord(f"FIGURES#{after.campaign}", f"DAY#{day:%Y-%m-%d}")


def _additions(changes: dict[str, int]) -> list[Action]:
    return [getattr(FiguresRecord, key).add(value) for key, value in changes.items()]


def _moves(value: DialRecord) -> list[Action]:
    """SET each state field to the new value (REMOVE it when None), indexes included."""
    actions: list[Action] = []
    for name, field_value in _state(value).items():
        attribute = getattr(ContactRecord, name)
        actions.append(attribute.remove() if field_value is None else attribute.set(field_value))
    return actions


# -- people ---------------------------------------------------------------------------------------

# Calls are kept on a person this long: past every cap's span (Reg F's 7 days; an instance
# contact limit of at most 30 days, as Connect's communication limits allow).
CALLS_KEPT_FOR = timedelta(days=31)


class CountedCall(MapAttribute[str, Any]):
    at = UTCDateTimeAttribute()
    purpose = UnicodeAttribute()
    subject = UnicodeAttribute(default="")
    token = UnicodeAttribute(default="")  # the attempt that reserved it


class PersonRecord(Table):
    Meta = table_meta(settings().table("dialer"))

    pk = UnicodeAttribute(hash_key=True)  # "PERSON#<E.164>"
    sk = UnicodeAttribute(range_key=True)  # "STATE"
    internal_dnc_at = UTCDateTimeAttribute(null=True)
    consent_given_at = UTCDateTimeAttribute(null=True)
    consent_revoked_at = UTCDateTimeAttribute(null=True)
    calls = ListAttribute[CountedCall](of=CountedCall, default=list)
    # Every write adds 1, whoever makes it: a reservation is conditional on the version the
    # compliance check read, so any change in between (a do-not-call) makes it try again.
    version = NumberAttribute(default=0)


class RegistryRecord(Table):
    """Our copy of the national do-not-call registry: one item per number on it, and one
    (`NDNC#COPY`) saying when the copy was taken."""

    Meta = table_meta(settings().table("dialer"))

    pk = UnicodeAttribute(hash_key=True)  # "NDNC#<E.164>" or "NDNC#COPY"
    sk = UnicodeAttribute(range_key=True)
    taken_at = UTCDateTimeAttribute(null=True)


_COPY = ("NDNC#COPY", "COPY")


def _person_key(number: str) -> tuple[str, str]:
    return f"PERSON#{number}", "STATE"


class DynamoRecipients:
    def read(self, number: str) -> Seen:
        try:
            person = PersonRecord.get(*_person_key(number), consistent_read=True)
        except PersonRecord.DoesNotExist:
            person = PersonRecord(*_person_key(number))
        registry = {
            record.pk: record
            for record in RegistryRecord.batch_get(
                [(f"NDNC#{number}", "NDNC"), _COPY], consistent_read=True
            )
        }
        copy = registry.get(_COPY[0])
        recipient = Recipient(
            on_national_dnc=f"NDNC#{number}" in registry,
            national_dnc_copy_at=copy.taken_at if copy else None,
            internal_dnc_at=person.internal_dnc_at,
            consent=Consent(person.consent_given_at, person.consent_revoked_at),
            calls=tuple(PastCall(c.at, Purpose(c.purpose), c.subject) for c in person.calls),
        )
        return Seen(recipient, int(person.version), tuple(person.calls))

    def reserve(self, number: str, seen: Seen, call: PastCall, token: str) -> bool:
        """The calls as read, those too old for any cap dropped, and this one: written over
        the list only if nobody changed the person since (so nothing written is lost)."""
        counted = CountedCall(
            at=call.at, purpose=call.purpose.value, subject=call.subject, token=token
        )
        kept = [c for c in seen.stored or () if c.at > call.at - CALLS_KEPT_FOR]
        try:
            PersonRecord(*_person_key(number)).update(
                [PersonRecord.calls.set([*kept, counted]), PersonRecord.version.add(1)],
                condition=_at_version(seen.version),
            )
        except UpdateError as error:
            if lost_race(error):
                return False
            raise
        return True

    def release(self, number: str, token: str) -> None:
        """Best effort, a few times: a reservation left in place only over-counts."""
        for _ in range(3):
            try:
                person = PersonRecord.get(*_person_key(number), consistent_read=True)
            except PersonRecord.DoesNotExist:
                return
            keep = [c for c in person.calls if c.token != token]
            try:
                person.update(
                    [PersonRecord.calls.set(keep), PersonRecord.version.add(1)],
                    condition=_at_version(int(person.version)),
                )
                return
            except UpdateError as error:
                if not lost_race(error):
                    raise

    def do_not_call(self, number: str, at: datetime) -> None:
        PersonRecord(*_person_key(number)).update(
            [
                PersonRecord.internal_dnc_at.set(PersonRecord.internal_dnc_at | at),
                PersonRecord.version.add(1),
            ]
        )

    def set_consent(self, number: str, consent: Consent) -> None:
        PersonRecord(*_person_key(number)).update(
            [
                _set_or_remove(PersonRecord.consent_given_at, consent.given_at),
                _set_or_remove(PersonRecord.consent_revoked_at, consent.revoked_at),
                PersonRecord.version.add(1),
            ]
        )


def _unstopped(person: Seen) -> Any:
    """The person's word is as `person` read it: no do-not-call or revocation since."""
    recipient = person.recipient
    return _as_seen(PersonRecord.internal_dnc_at, recipient.internal_dnc_at) & _as_seen(
        PersonRecord.consent_revoked_at, recipient.consent.revoked_at
    )


def _as_seen(attribute: Any, seen: datetime | None) -> Any:
    return attribute.does_not_exist() if seen is None else attribute == seen


def _at_version(version: int) -> Any:
    if version == 0:
        return PersonRecord.version.does_not_exist() | (PersonRecord.version == 0)
    return PersonRecord.version == version


def _set_or_remove(attribute: Any, value: object) -> Action:
    action: Action = attribute.remove() if value is None else attribute.set(value)
    return action


class DynamoRegistry:
    """Loads a national registry copy: the numbers on it, then the date it was taken (so a
    half-loaded copy is never taken for a fresh one)."""

    def load(self, numbers: Iterable[str], taken_at: datetime) -> int:
        """Write every number (E.164) on the copy, then the copy's date; how many written."""
        written = 0
        with RegistryRecord.batch_write() as batch:
            for number in numbers:
                batch.save(RegistryRecord(f"NDNC#{number}", "NDNC"))
                written += 1
        RegistryRecord(*_COPY, taken_at=taken_at).save()
        return written


# -- caller IDs -----------------------------------------------------------------------------------


class CallerIdDay(Table):
    Meta = table_meta(settings().table("dialer"))

    pk = UnicodeAttribute(hash_key=True)  # "CALLERID#<E.164>"
    sk = UnicodeAttribute(range_key=True)  # "DAY#<yyyy-mm-dd>"
    used = NumberAttribute(default=0)


class DynamoCallerIds:
    def used(self, numbers: Sequence[str], day: date) -> dict[str, int]:
        keys = [(f"CALLERID#{n}", f"DAY#{day:%Y-%m-%d}") for n in numbers]
        found = {r.pk.removeprefix("CALLERID#"): int(r.used) for r in CallerIdDay.batch_get(keys)}
        return {n: found.get(n, 0) for n in numbers}

    def take(self, number: str, day: date, cap: int) -> bool:
        try:
            CallerIdDay(f"CALLERID#{number}", f"DAY#{day:%Y-%m-%d}").update(
                [CallerIdDay.used.add(1)],
                condition=CallerIdDay.used.does_not_exist() | (CallerIdDay.used < cap),
            )
        except UpdateError as error:
            if lost_race(error):
                return False
            raise
        return True


# -- campaign definitions -------------------------------------------------------------------------


class CampaignRecord(Table):
    Meta = table_meta(settings().table("dialer"))

    pk = UnicodeAttribute(hash_key=True)  # "CAMPAIGNS"
    sk = UnicodeAttribute(range_key=True)  # the campaign's name
    document = UnicodeAttribute()  # the JSON people wrote, checked when it was put
    updated_at = UTCDateTimeAttribute()


class DynamoCampaigns:
    """Campaign documents, read through the schema (never on a Connect hook's path)."""

    def put(self, document_json: str, at: datetime) -> None:
        name = json.loads(document_json)["name"]
        CampaignRecord("CAMPAIGNS", name, document=document_json, updated_at=at).save()

    def get(self, name: str) -> Campaign | None:
        try:
            return _campaign(CampaignRecord.get("CAMPAIGNS", name, consistent_read=True))
        except CampaignRecord.DoesNotExist:
            return None

    def all(self) -> list[Campaign]:
        return [_campaign(record) for record in CampaignRecord.query("CAMPAIGNS")]

    def set_paused(self, name: str, paused: bool, at: datetime) -> Campaign | None:
        from chalicelib.dialer.schema import read_campaign

        try:
            record = CampaignRecord.get("CAMPAIGNS", name, consistent_read=True)
        except CampaignRecord.DoesNotExist:
            return None
        document = read_campaign(json.loads(record.document)).model_copy(update={"paused": paused})
        self.put(document.model_dump_json(), at)
        return self.get(name)


def _campaign(record: CampaignRecord) -> Campaign:
    from chalicelib.dialer.schema import campaign_of, read_campaign

    return campaign_of(read_campaign(json.loads(record.document)))
