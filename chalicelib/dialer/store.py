"""The dialer's table: one record per campaign and number, written once at ingest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.dialer.contacts import Contact
from chalicelib.platform.settings import settings
from chalicelib.platform.tables import TextListAttribute, TextMapAttribute, table_meta

_CONDITION_FAILED = "ConditionalCheckFailedException"


class ContactRecord(Model):
    Meta = table_meta(settings().dialer_table)

    pk = UnicodeAttribute(hash_key=True)  # "CAMPAIGN#<name>"
    sk = UnicodeAttribute(range_key=True)  # the E.164 number
    time_zones = TextListAttribute()
    subdivision = UnicodeAttribute(default="")
    name = UnicodeAttribute(default="")
    attributes = TextMapAttribute(default=dict)
    list_row = NumberAttribute()
    ingested_at = UTCDateTimeAttribute()


def campaign_key(campaign: str) -> str:
    return f"CAMPAIGN#{campaign}"


class DynamoContactBook:
    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        """One BatchGetItem to skip the numbers the campaign has, then a put conditional on
        the record not existing for each of the others: a record the dialer already works
        on is never overwritten, even by an ingest racing with it."""
        key = campaign_key(campaign)
        known = {
            record.sk for record in ContactRecord.batch_get([(key, c.number) for c in contacts])
        }
        return [c.number not in known and self._put_new(key, c, at) for c in contacts]

    @staticmethod
    def _put_new(key: str, contact: Contact, at: datetime) -> bool:
        record = ContactRecord(
            key,
            contact.number,
            time_zones=list(contact.time_zones),
            subdivision=contact.subdivision,
            name=contact.name,
            attributes=dict(contact.attributes),
            list_row=contact.row,
            ingested_at=at,
        )
        try:
            record.save(condition=ContactRecord.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code != _CONDITION_FAILED:
                raise
            return False
        return True
