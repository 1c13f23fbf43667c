"""The dialer's contact book on DynamoDB (moto, the table from infra/template.yaml): a list
ingested twice adds nothing the second time, and a record the dialer already works on is
never overwritten, even by an ingest that read the table before it was written."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime

from chalicelib.dialer.contacts import Contact, read_contacts
from chalicelib.dialer.service import ingest
from chalicelib.dialer.store import ContactRecord, DynamoDialLedger, campaign_key

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
LIST = "phone,name,plan\n+12125550142,Ann,gold\n+13055550100,Bob,\nbad,x,\n"


def test_a_list_ingested_twice_is_added_once(tables) -> None:
    book = DynamoDialLedger()
    first = ingest(read_contacts(io.StringIO(LIST), "csv"), book, "card-upgrade", NOW)
    again = ingest(read_contacts(io.StringIO(LIST), "csv"), book, "card-upgrade", NOW)
    assert (first.added, first.already_in_campaign, first.rejected) == (2, 0, 1)
    assert (again.added, again.already_in_campaign, again.rejected) == (0, 2, 1)
    stored = ContactRecord.get(campaign_key("card-upgrade"), "+12125550142")
    assert (stored.name, stored.attributes.as_dict(), list(stored.time_zones)) == (
        "Ann",
        {"plan": "gold"},
        ["America/New_York"],
    )
    other = ingest(read_contacts(io.StringIO(LIST), "csv"), book, "nps-survey", NOW)
    assert other.added == 2  # another campaign's records are its own


def test_a_record_written_after_the_batch_read_is_not_overwritten(tables, monkeypatch) -> None:
    """The race the conditional put is for: the book reads what the campaign has, another
    writer adds the same number (with the dialer's state on it), then the book writes."""
    book = DynamoDialLedger()
    ann = Contact(2, "+12125550142", ("America/New_York",), name="Ann")
    original = ContactRecord.batch_get

    def read_then_someone_writes(keys, *args, **kwargs):
        found = list(original(keys, *args, **kwargs))
        ContactRecord(
            campaign_key("card-upgrade"), ann.number, time_zones=["America/New_York"],
            name="written by the other ingest", list_row=9, ingested_at=NOW,
        ).save()  # fmt: skip
        return found

    monkeypatch.setattr(ContactRecord, "batch_get", read_then_someone_writes)
    assert book.add("card-upgrade", [ann], NOW) == [False]
    kept = ContactRecord.get(campaign_key("card-upgrade"), ann.number)
    assert kept.name == "written by the other ingest"


def test_eight_concurrent_ingests_of_one_list_add_each_number_once(tables, atomic_moto) -> None:
    numbers = [f"+1212555{n:04d}" for n in range(150, 230)]
    text = "phone\n" + "\n".join(numbers) + "\n"
    added: list[int] = []

    def one_ingest() -> None:
        report = ingest(read_contacts(io.StringIO(text), "csv"), DynamoDialLedger(), "c8", NOW)
        added.append(report.added)

    workers = [threading.Thread(target=one_ingest) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(added) == len(numbers)
    stored = list(ContactRecord.query(campaign_key("c8")))
    assert sorted(r.sk for r in stored) == sorted(numbers)
