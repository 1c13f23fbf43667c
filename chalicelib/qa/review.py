"""The review queue, pure: the contacts a human should look at, why, and one reviewer at a
time on each. A reviewer claims a review with a lease (a lapsed lease frees it for the next
reviewer), answers or overrides questions, each override with a reason, and submits."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # scoring's modules load only where a review is changed, not at start
    from chalicelib.qa.model import Answer, Question, Rubric

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
    by: str = ""  # the reviewer who made it: a second reviewer never inherits it
    automatic_fail: bool = False  # the option chosen fails the contact (from the rubric)


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

    def held_by(self, reviewer: str, now: datetime) -> bool:
        """Claimed by this reviewer, their lease still running."""
        running = self.lease_until is not None and now < self.lease_until
        return self.status is ReviewStatus.CLAIMED and self.reviewer == reviewer and running

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
    """The review is this reviewer's until the lease ends. Overrides another reviewer made
    and never submitted (their lease lapsed) are dropped: nobody submits another's work."""
    if not review.free(now):
        raise ReviewError(f"{review.contact_id} is {review.status.value.lower()}")
    own = {q: o for q, o in review.overrides.items() if o.by == reviewer}
    return replace(
        review,
        status=ReviewStatus.CLAIMED,
        reviewer=reviewer,
        lease_until=now + lease,
        overrides=own,
    )


def checked(change: Override, question: Question | None) -> Override:
    """The override as the rubric scores it: an option of the question (its score and
    automatic fail taken from the rubric), a number scored by the band it falls in, or text;
    a score that contradicts the rubric, an unknown question or option, is refused."""
    from chalicelib.qa.model import QuestionType

    if question is None:
        raise ReviewError(f"{change.question}: the rubric has no such question")
    if question.kind is QuestionType.SINGLESELECT:
        return _option(change, question)
    if question.kind is QuestionType.NUMERIC:
        return _number(change, question)
    if change.score is not None:
        raise ReviewError(f"{change.question}: a text question has no score")
    return change


def _option(change: Override, question: Question) -> Override:
    chosen = next((o for o in question.options if o.ref_id == change.value), None)
    if chosen is None:
        options = ", ".join(o.ref_id for o in question.options)
        raise ReviewError(
            f"{change.question}: {change.value!r} is not one of its options ({options})"
        )
    if change.score is not None and change.score != chosen.score:
        raise ReviewError(
            f"{change.question}: option {chosen.ref_id!r} scores {chosen.score}, not {change.score}"
        )
    return replace(change, score=chosen.score, automatic_fail=chosen.automatic_fail)


def _number(change: Override, question: Question) -> Override:
    if isinstance(change.value, bool) or not isinstance(change.value, int | float):
        raise ReviewError(f"{change.question}: the answer is a number")
    band = next((r for r in question.ranges if r.holds(float(change.value))), None)
    if band is None:  # between the bands: the reviewer's score is the one that counts
        if change.score is None:
            raise ReviewError(f"{change.question}: {change.value:g} is in no band: give a score")
        return change
    if change.score is not None and change.score != band.score:
        raise ReviewError(
            f"{change.question}: {change.value:g} scores {band.score}, not {change.score}"
        )
    return replace(change, score=band.score, automatic_fail=band.automatic_fail)


def _holding(review: Review, reviewer: str, now: datetime) -> None:
    if review.status is not ReviewStatus.CLAIMED or review.reviewer != reviewer:
        raise ReviewError(f"{review.contact_id} is not claimed by {reviewer}")
    if review.lease_until is None or review.lease_until <= now:
        raise ReviewError(f"{reviewer}'s lease on {review.contact_id} has run out: claim it again")


def override(review: Review, reviewer: str, change: Override, now: datetime) -> Review:
    _holding(review, reviewer, now)
    if change.by != reviewer:
        raise ReviewError(f"{change.question}: an override is made by the reviewer holding it")
    if not change.reason.strip():
        raise ReviewError(f"{change.question}: an override needs a reason")
    if change.score is not None and not 0 <= change.score <= 10:
        raise ReviewError(f"{change.question}: a score is 0 to 10")
    return replace(review, overrides={**review.overrides, change.question: change})


def submit(review: Review, reviewer: str, now: datetime) -> Review:
    _holding(review, reviewer, now)
    return replace(review, status=ReviewStatus.SUBMITTED, submitted_at=now, lease_until=None)


# -- what a reviewer leaves ------------------------------------------------------------------------


def reviewed_answers(
    card: Mapping[str, Any], overrides: Mapping[str, Override]
) -> dict[str, Answer]:
    """The answers as a reviewer left them: the automatic ones, each overridden one replaced."""
    from chalicelib.qa.model import Answer

    answers = {}
    for automatic in card["answers"]:
        question = automatic["question"]
        change = overrides.get(question)
        if change is None:
            answers[question] = Answer(
                question,
                automatic["value"],
                automatic["score"],
                not_applicable=automatic["not_applicable"],
                automatic_fail=automatic["automatic_fail"],
            )
        else:
            answers[question] = Answer(
                question,
                change.value,
                change.score,
                automatic_fail=change.automatic_fail,
                by=change.by or "reviewer",
            )
    return answers


def reviewed_total(rubric: Rubric, left: Mapping[str, Answer]) -> float | None:
    """As scoring totals it: weighted, and 0 when an answer left is an automatic fail."""
    from chalicelib.qa.model import total_of

    total = total_of(rubric, left)[0]
    options = {(q.ref_id, o.ref_id): o for q in rubric.questions() for o in q.options}
    failed = any(
        answer.automatic_fail
        or ((option := options.get((question, str(answer.value)))) and option.automatic_fail)
        for question, answer in left.items()
    )
    return 0.0 if failed and total is not None else total


def reviewed_card(card: Mapping[str, Any], done: Review, rubric: Rubric | None) -> dict[str, Any]:
    """The scorecard as the reviewer submitted it: each overridden answer replaced (with who
    made it), the total recomputed with the rubric's weights and automatic fails, and the
    automatic total kept beside it for the audit trail."""
    left = reviewed_answers(card, done.overrides)
    total = reviewed_total(rubric, left) if rubric is not None else card["total"]
    answers = [
        {**automatic, **_as_left(left[automatic["question"]])}
        if automatic["question"] in done.overrides
        else automatic
        for automatic in card["answers"]
    ]
    return {
        **card,
        "total": total,
        "automatic_fail": any(a.automatic_fail for a in left.values()),
        "answers": answers,
        "reviewed": {
            "by": done.reviewer,
            "at": done.submitted_at.isoformat() if done.submitted_at else None,
            "automatic_total": card["total"],
            "overrides": {q: o.reason for q, o in sorted(done.overrides.items())},
        },
    }


def _as_left(answer: Answer) -> dict[str, Any]:
    return {
        "value": answer.value,
        "score": answer.score,
        "not_applicable": answer.not_applicable,
        "automatic_fail": answer.automatic_fail,
        "by": answer.by,
    }
