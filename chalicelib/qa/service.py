"""QA use cases over ports. So far: folding a contact's events into its one QA record
(conditional on the version read, so concurrent deliveries never lose one), and the
reconciliation that finds every contact an agent handled and nobody scored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.platform.clock import Clock
from chalicelib.qa import review
from chalicelib.qa.records import QaRecord, Seen, empty, fold, overdue, scored_partially
from chalicelib.qa.review import Review

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


# -- the review queue ----------------------------------------------------------------------------


class Reviews(Protocol):
    def get(self, contact_id: str) -> Review | None: ...

    def free(self, now: datetime, limit: int) -> Sequence[Review]:
        """Reviews a reviewer may claim now (waiting, or their lease lapsed), oldest first."""
        ...

    def put(self, before: Review | None, after: Review) -> bool:
        """Conditional on the version read (None: there is none yet)."""
        ...


@dataclass
class ReviewQueue:
    reviews: Reviews
    clock: Clock
    lease: timedelta = timedelta(minutes=20)

    def enqueue(self, contact_id: str, reasons: tuple[str, ...]) -> Review | None:
        """Queue a contact for review once; None when it needs none."""
        if not reasons:
            return None
        existing = self.reviews.get(contact_id)
        if existing is not None:
            return existing
        self.reviews.put(None, Review(contact_id, reasons, self.clock.now()))
        return self.reviews.get(contact_id)  # ours, or the one a concurrent enqueue wrote

    def claim_next(self, reviewer: str) -> Review | None:
        """The oldest free review, now this reviewer's alone until the lease ends."""
        now = self.clock.now()
        for candidate in self.reviews.free(now, limit=20):
            claimed = review.claim(candidate, reviewer, now, self.lease)
            if self.reviews.put(candidate, claimed):
                return claimed
        return None

    def change(self, contact_id: str, reviewer: str, move: Callable[[Review], Review]) -> Review:
        """An override or a submit by the reviewer holding the lease."""
        current = self.reviews.get(contact_id)
        if current is None:
            raise review.ReviewError(f"no review for {contact_id}")
        after = move(current)
        if not self.reviews.put(current, after):
            raise review.ReviewError(f"{contact_id} changed meanwhile: read it again")
        return after
