"""The dialer's use cases over ports. So far: ingesting a contact list into a campaign, a
chunk at a time, every bad row reported and every good one added once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Protocol

from chalicelib.dialer.contacts import Contact, Read, RowProblem

CHUNK = 100  # rows sent to the book at once: one BatchGetItem
KEPT_PROBLEMS = 1_000  # the report keeps the first ones; the counts cover them all


class ContactBook(Protocol):
    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        """Add each contact unless the campaign has it already; True for each one added."""
        ...


class CheckOnly:
    """A book that keeps nothing: `campaigns ingest --check` and the ingest benchmark read
    and judge a list of any size without writing it or holding it in memory."""

    def add(self, campaign: str, contacts: Sequence[Contact], at: datetime) -> Sequence[bool]:
        return [True] * len(contacts)


@dataclass
class IngestReport:
    rows: int = 0
    added: int = 0
    already_in_campaign: int = 0
    problems: list[RowProblem] = field(default_factory=list)  # the first KEPT_PROBLEMS
    problem_counts: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(self.problem_counts.values())

    def take(self, problem: RowProblem) -> None:
        self.problem_counts[problem.reason.value] += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)


def ingest(
    reads: Iterable[Read],
    book: ContactBook,
    campaign: str,
    at: datetime,
    progress: Callable[[int], None] = lambda rows: None,
) -> IngestReport:
    """Add a list's good rows to the campaign; re-ingesting the same list adds nothing."""
    report = IngestReport()
    stream = iter(reads)
    while chunk := list(islice(stream, CHUNK)):
        contacts = [read for read in chunk if isinstance(read, Contact)]
        for read in chunk:
            if isinstance(read, RowProblem):
                report.take(read)
        added = book.add(campaign, contacts, at) if contacts else []
        report.added += sum(added)
        report.already_in_campaign += len(added) - sum(added)
        report.rows += len(chunk)
        progress(len(chunk))
    return report
