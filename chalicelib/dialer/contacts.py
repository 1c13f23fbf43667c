"""Contact lists, read as a stream: CSV (`,`, `;` or tab, quoted newlines, a BOM) or JSON
Lines, one record at a time, never the whole file. Each record becomes a `Contact` or a
`RowProblem` with its row number and a reason code; a list that cannot be read at all (no
header, no phone column) is a `ListError` before any row is taken.

Rows are numbered as a spreadsheet shows them: the CSV header is row 1, so the first
record is row 2; in JSON Lines the row is the line. Pure apart from `phonenumbers`.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TextIO
from zoneinfo import available_timezones

from chalicelib.platform.phone import mask, parse_for_dialling

MAX_FIELD_CHARS = 64 * 1024  # a longer field is the row's problem, not the whole list's
MAX_ATTRIBUTES = 20
PHONE_COLUMNS = ("phone", "phone_number", "number", "msisdn", "mobile")
ZONE_COLUMNS = ("time_zone", "timezone", "tz")
STATE_COLUMNS = ("state", "subdivision", "region")
_ZONES = frozenset(available_timezones())


class ListError(ValueError):
    """The list as a whole cannot be read; no row was taken."""


class RowReason(Enum):
    MISSING_NUMBER = "missing_number"
    INVALID_NUMBER = "invalid_number"
    UNKNOWN_ZONE = "unknown_zone"  # no zone from the number and none stated: never callable
    BAD_ZONE = "bad_zone"
    DUPLICATE = "duplicate_in_list"
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Contact:
    row: int
    number: str  # E.164
    time_zones: tuple[str, ...]
    subdivision: str = ""
    name: str = ""
    attributes: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: RowReason
    detail: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason.value}: {self.detail}"


Read = Contact | RowProblem


def utf8_problem(chunks: Iterable[bytes]) -> str | None:
    """Where a list stops being UTF-8 text, read a chunk at a time; None when it is.
    A list is refused whole before any of it is used: a spreadsheet saved as Latin-1 would
    otherwise turn names into replacement marks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    for chunk in chunks:
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            return (
                f"not UTF-8 text at byte {offset + error.start:,}: save the list as UTF-8 "
                "(CSV UTF-8 in a spreadsheet) and ingest it again"
            )
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "not UTF-8 text: it ends inside a character"
    return None


def kind_of(file_name: str) -> str:
    """ "jsonl" for a `.jsonl` or `.ndjson` file, else "csv"."""
    return "jsonl" if file_name.lower().endswith((".jsonl", ".ndjson")) else "csv"


def read_contacts(stream: TextIO, kind: str, default_region: str = "US") -> Iterator[Read]:
    """Every record of the list, in order; `kind` is "csv" or "jsonl"."""
    records = _csv_records(stream) if kind == "csv" else _jsonl_records(stream)
    return _contacts(records, default_region)


@dataclass(frozen=True)
class _Columns:
    """Which of a record's columns say what, found once per CSV header (a million rows share
    it) and once per JSON Lines record."""

    phone: tuple[str, ...]
    zone: tuple[str, ...]
    state: tuple[str, ...]
    extra: tuple[str, ...]

    @classmethod
    def of(cls, keys: Iterable[str]) -> _Columns:
        present = list(dict.fromkeys(keys))
        return cls(
            tuple(c for c in PHONE_COLUMNS if c in present),
            tuple(c for c in ZONE_COLUMNS if c in present),
            tuple(c for c in STATE_COLUMNS if c in present),
            tuple(k for k in present if k not in _NAMED),
        )


def _contacts(records: Iterable[tuple[int, Any]], region: str) -> Iterator[Read]:
    seen: set[int] = set()  # E.164 digits as integers: a million fit in a few tens of MB
    columns: _Columns | None = None
    keys: Any = None
    for row, record in records:
        if isinstance(record, RowProblem):
            yield record
            continue
        if columns is None or record.keys() != keys:
            keys, columns = record.keys(), _Columns.of(record)
        read = _contact(row, record, region, columns)
        if isinstance(read, Contact):
            digits = int(read.number[1:])
            if digits in seen:
                read = RowProblem(
                    row, RowReason.DUPLICATE, f"{mask(read.number)} is already in the list"
                )
            seen.add(digits)
        yield read


def _contact(row: int, record: Mapping[str, str], region: str, columns: _Columns) -> Read:
    raw = _first(record, columns.phone)
    if not raw:
        return RowProblem(row, RowReason.MISSING_NUMBER, "no phone number")
    number = parse_for_dialling(raw, region)
    if number is None:
        return RowProblem(row, RowReason.INVALID_NUMBER, f"{raw[:32]!r} is not a valid number")
    zones = _zones(row, _first(record, columns.zone), number.time_zones)
    if isinstance(zones, RowProblem):
        return zones
    extra = tuple((k, v) for k in columns.extra if (v := record[k]))[:MAX_ATTRIBUTES]
    state = _first(record, columns.state).upper()
    return Contact(row, number.e164, zones, state, record.get("name", "").strip(), extra)


def _first(record: Mapping[str, str], columns: tuple[str, ...]) -> str:
    for column in columns:  # a plain loop: this runs for every column of a million rows
        value = record.get(column)
        if value and (value := value.strip()):
            return value
    return ""


def _zones(row: int, stated: str, of_number: tuple[str, ...]) -> tuple[str, ...] | RowProblem:
    """The zone a record states wins over the number's (a ported mobile)."""
    if stated and stated not in _ZONES:
        return RowProblem(row, RowReason.BAD_ZONE, f"{stated[:64]!r} is not an IANA time zone")
    if stated:
        return (stated,)
    if not of_number:
        return RowProblem(
            row, RowReason.UNKNOWN_ZONE, "no time zone from the number: add a time_zone column"
        )
    return of_number


_NAMED = frozenset({*PHONE_COLUMNS, *ZONE_COLUMNS, *STATE_COLUMNS, "name"})


# -- CSV ----------------------------------------------------------------------------------------


def _csv_records(stream: TextIO) -> Iterator[tuple[int, Any]]:
    first = stream.readline()
    if not first.strip():
        raise ListError("the list is empty: the first line must be a header (phone,name,...)")
    delimiter = max(",;\t", key=first.count)
    header = [
        h.strip().lstrip("\ufeff").lower() for h in next(csv.reader([first], delimiter=delimiter))
    ]
    if not set(header) & set(PHONE_COLUMNS):
        raise ListError(
            f"no phone column in the header {first.strip()[:80]!r}: the first line must name "
            f"the columns, one of them {' or '.join(PHONE_COLUMNS)}"
        )
    reader = csv.reader(stream, delimiter=delimiter)
    row = 1
    while True:
        row += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # a field over csv's limit: that row only
            yield row, RowProblem(row, RowReason.TOO_LARGE, str(error))
            continue
        yield row, _csv_record(row, header, values)


def _csv_record(row: int, header: list[str], values: list[str]) -> Any:
    if max(map(len, values), default=0) > MAX_FIELD_CHARS:
        return RowProblem(row, RowReason.TOO_LARGE, f"a field is over {MAX_FIELD_CHARS} characters")
    if len(values) > len(header):
        return RowProblem(
            row, RowReason.MALFORMED, f"{len(values)} fields for {len(header)} columns"
        )
    return dict(zip(header, values, strict=False))


# -- JSON Lines ---------------------------------------------------------------------------------


def _jsonl_records(stream: TextIO) -> Iterator[tuple[int, Any]]:
    for row, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_FIELD_CHARS:
            yield (
                row,
                RowProblem(
                    row, RowReason.TOO_LARGE, f"the line is over {MAX_FIELD_CHARS} characters"
                ),
            )
            continue
        yield row, _jsonl_record(row, line)


def _jsonl_record(row: int, line: str) -> Any:
    try:
        record = json.loads(line.lstrip("\ufeff"))
    except ValueError as error:
        return RowProblem(row, RowReason.MALFORMED, f"not JSON: {error}")
    if not isinstance(record, dict):
        return RowProblem(row, RowReason.MALFORMED, "each line must be a JSON object")
    return {str(k).lower(): "" if v is None else str(v) for k, v in record.items()}
