"""The review queue, pure: the contacts a human should look at, why, and one reviewer at a
time on each. A reviewer claims a review with a lease (a lapsed lease frees it for the next
reviewer), answers or overrides questions, each override with a reason, and submits."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

CALIBRATION = "calibration_sample"
# Queued because the contact's analysis file could not be read: a human scores it from the
# recording, unless a newer file of the contact is read first.
UNREADABLE = "unreadable_analysis"


class ReviewStatus(Enum):
    WAITING = "WAITING"
    CLAIMED = "CLAIMED"
    SUBMITTED = "SUBMITTED"
    WITHDRAWN = "WITHDRAWN"  # what it waited for was settled without a reviewer


class ReviewError(ValueError):
    """A move the review does not allow: not yours, lease over, no reason given."""


@dataclass(frozen=True)
class Override:
    question: str
    value: str | float | None
    score: int | None
    reason: str


@dataclass(frozen=True)
class Review:
    contact_id: str
    reasons: tuple[str, ...]  # why it is here: the scorecard's flags, or the sample
    queued_at: datetime
    status: ReviewStatus = ReviewStatus.WAITING
    reviewer: str = ""
    lease_until: datetime | None = None
    overrides: Mapping[str, Override] = field(default_factory=dict)
    submitted_at: datetime | None = None
    copy: int = 1  # a calibration contact is reviewed by several reviewers, one copy each
    version: int = 0

    def free(self, now: datetime) -> bool:
        """Waiting, or claimed by someone whose lease has run out."""
        if self.status is ReviewStatus.WAITING:
            return True
        lapsed = self.lease_until is not None and self.lease_until <= now
        return self.status is ReviewStatus.CLAIMED and lapsed


def in_sample(contact_id: str, rate: float) -> bool:
    """The random calibration sample, decided by the contact id (the same contact is in or
    out every time it is scored again)."""
    digest = hashlib.sha256(contact_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def reasons_for(contact_id: str, flags: tuple[str, ...], sample_rate: float) -> tuple[str, ...]:
    """Why a scored contact goes to a human: its scorecard's flags, and the calibration
    sample; () when it does not."""
    return (*flags, *((CALIBRATION,) if in_sample(contact_id, sample_rate) else ()))


def rescored(review: Review, reasons: tuple[str, ...]) -> Review | None:
    """A review waiting only because an earlier file could not be read, once a newer file of
    the contact was read and scored: it asks for what that score asks for (`reasons`), or is
    withdrawn; None when it is not such a review (a claimed one stays its reviewer's)."""
    if review.status is not ReviewStatus.WAITING or review.reasons != (UNREADABLE,):
        return None
    if reasons:
        return replace(review, reasons=reasons)
    return replace(review, status=ReviewStatus.WITHDRAWN)


def claim(review: Review, reviewer: str, now: datetime, lease: timedelta) -> Review:
    if not review.free(now):
        raise ReviewError(f"{review.contact_id} is {review.status.value.lower()}")
    return replace(review, status=ReviewStatus.CLAIMED, reviewer=reviewer, lease_until=now + lease)


def _holding(review: Review, reviewer: str, now: datetime) -> None:
    if review.status is not ReviewStatus.CLAIMED or review.reviewer != reviewer:
        raise ReviewError(f"{review.contact_id} is not claimed by {reviewer}")
    if review.lease_until is None or review.lease_until <= now:
        raise ReviewError(f"{reviewer}'s lease on {review.contact_id} has run out: claim it again")


def override(review: Review, reviewer: str, change: Override, now: datetime) -> Review:
    _holding(review, reviewer, now)
    if not change.reason.strip():
        raise ReviewError(f"{change.question}: an override needs a reason")
    if change.score is not None and not 0 <= change.score <= 10:
        raise ReviewError(f"{change.question}: a score is 0 to 10")
    return replace(review, overrides={**review.overrides, change.question: change})


def submit(review: Review, reviewer: str, now: datetime) -> Review:
    _holding(review, reviewer, now)
    return replace(review, status=ReviewStatus.SUBMITTED, submitted_at=now, lease_until=None)
