"""QA use cases over ports. So far: folding a contact's events into its one QA record
(conditional on the version read, so concurrent deliveries never lose one), and the
reconciliation that finds every contact an agent handled and nobody scored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from chalicelib.platform.clock import Clock
from chalicelib.qa.records import QaRecord, Seen, empty, fold, overdue, scored_partially

RACES = 5


class QaRecords(Protocol):
    def get(self, contact_id: str) -> QaRecord | None: ...

    def put(self, before: QaRecord | None, after: QaRecord) -> bool:
        """Write `after` if the stored record is still `before` (None: there is none yet);
        False if someone else wrote first."""
        ...

    def awaiting(self, limit: int) -> Sequence[QaRecord]:
        """Records handled by an agent and not scored yet, oldest first."""
        ...


class BusyError(Exception):
    """The record kept changing under us: the event is retried by its source."""


@dataclass
class QaService:
    records: QaRecords
    clock: Clock
    grace: timedelta = timedelta(minutes=10)  # how long an analysis may take to arrive

    def take(self, seen: Seen) -> QaRecord:
        """Fold one input into its contact's record; repeats and stale inputs write nothing."""
        for _ in range(RACES):
            before = self.records.get(seen.contact_id)
            after = fold(before or empty(seen.contact_id), seen)
            if before is not None and after == before:
                return before
            if self.records.put(before, after):
                return after
        raise BusyError(seen.contact_id)

    def reconcile(
        self,
        score_without_analysis: Callable[[QaRecord], tuple[float | None, tuple[str, ...]]],
        limit: int = 500,
    ) -> list[QaRecord]:
        """Every contact handled by an agent that has no score `grace` after it ended: scored
        on its contact record alone and marked partial; returned, so none goes unseen."""
        now, found = self.clock.now(), []
        for record in self.records.awaiting(limit):
            if not overdue(record, now, self.grace):
                continue
            total, flags = score_without_analysis(record)
            after = scored_partially(record, total, flags)
            if self.records.put(record, after):
                found.append(after)
        return found
