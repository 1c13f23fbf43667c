"""Contact lists (issue 10): streamed, every row judged with its row number and reason, a
list that cannot be read refused before any row is taken, re-ingesting adds nothing."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.dialer.contacts import Contact, ListError, RowProblem, read_contacts
from chalicelib.dialer.service import ingest
from devkit.cli import UNREADABLE, main
from devkit.fakes.dialer import InMemoryDialLedger

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)


def read(text: str, kind: str = "csv") -> list[Contact | RowProblem]:
    return list(read_contacts(io.StringIO(text, newline=""), kind))


def said(reads) -> list[tuple[int, str]]:
    return [(r.row, r.reason.value if isinstance(r, RowProblem) else r.number) for r in reads]


def test_a_csv_with_bom_semicolons_and_a_quoted_newline_reads_row_by_row() -> None:
    text = '\ufeffPhone;Name;State\n+12125550142;Ann;\n"(305) 555-0100";"Bob\nSmith";fl\n'
    contacts = read(text)
    assert said(contacts) == [(2, "+12125550142"), (3, "+13055550100")]
    assert contacts[1].name == "Bob\nSmith" and contacts[1].subdivision == "FL"
    assert contacts[0].time_zones == ("America/New_York",)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("+12125550142,twice", "duplicate_in_list"),
        ("not a number,x", "invalid_number"),
        ("+15555550100,fictional", "invalid_number"),
        (",nobody", "missing_number"),
        ("+13055550101,x,Mars/Base", "bad_zone"),
        ("+13055550102,x,,FL,extra", "malformed"),
        ("+13055550103," + "x" * 70_000, "too_large"),
        ('+13055550104,"' + "x" * 10_000_000 + '"', "too_large"),  # a 10 MB field
    ],
)
def test_each_bad_row_is_reported_with_its_number_and_reason(row, reason) -> None:
    text = f"phone,name,time_zone,state\n+12125550142,Ann,,\n{row}\n+13105550100,Cy,,\n"
    assert said(read(text)) == [(2, "+12125550142"), (3, reason), (4, "+13105550100")]


def test_a_stated_zone_wins_and_a_number_with_no_zone_is_refused() -> None:
    # +882 34 21234: a valid number of an international network, in no time zone.
    text = "phone,time_zone\n+12125550142,America/Chicago\n+8823421234,\n+8823421235,UTC\n"
    reads = read(text)
    assert reads[0].time_zones == ("America/Chicago",)
    assert said(reads)[1:] == [(3, "unknown_zone"), (4, "+8823421235")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the list is empty"),
        ("+12125550142,Ann\n+13055550100,Bob\n", "no phone column in the header"),
        ("name,email\nAnn,a@b.c\n", "no phone column"),
    ],
)
def test_a_list_without_a_header_naming_the_phone_is_refused_whole(text, message) -> None:
    with pytest.raises(ListError, match=message):
        read(text)


def test_json_lines_read_the_same_way() -> None:
    text = (
        '{"phone": "+12125550142", "name": "Ann"}\n\nnot json\n[1, 2]\n'
        '{"Phone": "+13055550100", "plan": "gold"}\n'
    )
    reads = read(text, "jsonl")
    assert said(reads) == [
        (1, "+12125550142"),
        (3, "malformed"),
        (4, "malformed"),
        (5, "+13055550100"),
    ]
    assert reads[-1].attributes == (("plan", "gold"),)


def test_reading_is_a_stream_not_a_load() -> None:
    """A generator over an endless source: taking three rows reads three rows."""

    def endless():
        yield "phone\n"
        number = 2125550100
        while True:
            number += 1
            yield f"+1{number}\n"

    class Lines(io.TextIOBase):
        def __init__(self) -> None:
            self.source = endless()

        def readline(self, size: int = -1) -> str:
            return next(self.source)

        def __next__(self) -> str:
            return next(self.source)

    reads = read_contacts(Lines(), "csv")  # type: ignore[arg-type]
    assert [next(reads).row for _ in range(3)] == [2, 3, 4]


def test_re_ingesting_the_same_list_adds_nothing() -> None:
    text = "phone,name\n+12125550142,Ann\n+13055550100,Bob\nbad,x\n"
    book = InMemoryDialLedger()
    first = ingest(read(text), book, "card-upgrade", NOW)
    again = ingest(read(text), book, "card-upgrade", NOW)
    assert (first.rows, first.added, first.already_in_campaign, first.rejected) == (3, 2, 0, 1)
    assert (again.added, again.already_in_campaign, again.rejected) == (0, 2, 1)
    assert len(book.records) == 2


def run(*args: str):
    return CliRunner().invoke(main, ["campaigns", "ingest", *args])


def test_the_cli_reports_rows_and_a_summary_and_says_by_exit_status(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("phone,name\n+12125550142,Ann\n")
    assert run(str(good), "--campaign", "card-upgrade", "--check").exit_code == 0
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        json.dumps({"phone": "+12125550142"}) + "\n" + json.dumps({"phone": "x"}) + "\n"
    )
    result = run(str(mixed), "--campaign", "card-upgrade", "--check")
    assert result.exit_code == 1
    assert f"{mixed}: row 2: invalid_number" in result.stdout
    summary = "2 rows: 1 added to card-upgrade (checked only, nothing written), 0 already in it"
    assert summary + ", 1 rejected (invalid_number 1)" in result.stdout
    headless = tmp_path / "headless.csv"
    headless.write_text("+12125550142,Ann\n")
    refused = run(str(headless), "--campaign", "card-upgrade", "--check")
    assert refused.exit_code == UNREADABLE and "no phone column" in refused.stderr
    unknown = run(str(good), "--campaign", "nope", "--check")
    assert unknown.exit_code == UNREADABLE and "no campaign 'nope'" in unknown.stderr


def test_a_list_that_is_not_utf8_is_refused_before_anything_is_added(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("phone,name\n+12125550142,Ana\n+13055550100,Jos\u00e9\n".encode("latin-1"))
    result = run(str(latin1), "--campaign", "card-upgrade", "--check")
    assert result.exit_code == UNREADABLE
    assert "not UTF-8 text at byte 44" in result.stderr and "rows" not in result.stdout
