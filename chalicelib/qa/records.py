"""A contact's QA record, pure: exactly one per contact an agent handled, whatever order its
events come in, however often, or whether they come at all.

Three inputs speak of a contact: Connect's contact event `COMPLETED` and its contact record
(an agent handled it; the record comes at least once, the newest `LastUpdateTimestamp`
wins), and a Contact Lens analysis file (one per analysis run; a newer one replaces an older
one's score). Each is folded into the contact's one record by `fold`, which is commutative
and idempotent: any order and any repetition of the same inputs give the same record. A
contact with an agent and no analysis after the grace period is scored on what its contact
record says and marked partial (`reconcile`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

T = TypeVar("T")


class QaStatus(Enum):
    AWAITING = "AWAITING"  # handled by an agent; no analysis yet
    SCORED = "SCORED"  # scored on its newest analysis
    PARTIAL = "PARTIAL"  # no analysis came in time: scored on the contact record alone
    UNREADABLE = "UNREADABLE"  # its newest analysis file could not be read (see `problem`)
    NO_AGENT = "NO_AGENT"  # nobody to score (self-service, abandoned in queue)


@dataclass(frozen=True)
class ContactSeen:
    """From a COMPLETED contact event or a contact record."""

    contact_id: str
    updated_at: datetime  # the record's LastUpdateTimestamp, or the event's time
    agent_id: str = ""  # "" when no agent handled it
    queue: str = ""
    ended_at: datetime | None = None
    number: str = ""  # the customer's, for an intervention callback ("" when not given)
    intent: str = ""  # why the IVR says they called (the flow's `intent` or `route_rule`)


@dataclass(frozen=True)
class LensFailed:
    """Contact Lens said it cannot analyse the contact (`Analysis State Change`, FAILED): no
    file will come, so the contact is scored on its record now instead of after the grace."""

    contact_id: str
    reason: str  # Contact Lens's reasonCode


@dataclass(frozen=True)
class AnalysisSeen:
    """A Contact Lens analysis file for the contact, scored (or not) by the caller."""

    contact_id: str
    analysed_at: datetime  # from the file's key: a later run replaces an earlier one
    key: str  # the S3 key, for the reviewer and the alert
    total: float | None = None
    flags: tuple[str, ...] = ()
    problem: str = ""  # why the file could not be read ("" when it was)
    card: str = ""  # the scorecard as JSON, for reviewers and reports
    call_back: tuple[str, ...] = ()  # failed questions that ask for a callback
    reasons: tuple[str, ...] = ()  # contact reasons it showed, for the early warning
    # The contact's queue when it was scored (its rubric's); "" when no queue was known yet,
    # and the rubric for "*" scored it.
    rubric_queue: str = ""


@dataclass(frozen=True)
class QaRecord:
    contact_id: str
    status: QaStatus
    contact_updated_at: datetime | None = None
    agent_id: str = ""
    queue: str = ""
    ended_at: datetime | None = None
    # When each of the three was last given (its copy's LastUpdateTimestamp).
    agent_at: datetime | None = None
    queue_at: datetime | None = None
    ended_from: datetime | None = None
    analysed_at: datetime | None = None
    analysis_key: str = ""
    total: float | None = None
    flags: tuple[str, ...] = ()
    problem: str = ""
    card: str = ""
    call_back: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    rubric_queue: str = ""  # the queue whose rubric scored the analysis ("" for "*")
    # The scorecard a reviewer submitted (their overrides in it, the total recomputed): the
    # contact's final score, which reports count; "" until one is submitted.
    reviewed_card: str = ""
    number: str = ""
    number_at: datetime | None = None
    intent: str = ""
    intent_at: datetime | None = None
    lens_failed: str = ""  # Contact Lens's reason, when it said no analysis will come
    callback_id: str = ""  # the intervention callback asked for, once
    reasons_counted: bool = False  # its reasons are in the early warning's counts
    version: int = 0


Seen = ContactSeen | AnalysisSeen | LensFailed


def empty(contact_id: str) -> QaRecord:
    return QaRecord(contact_id, QaStatus.AWAITING)


def fold(record: QaRecord, seen: Seen) -> QaRecord:
    """The record after one more input; a stale or repeated input changes nothing."""
    if isinstance(seen, ContactSeen):
        return _status(_with_contact(record, seen))
    if isinstance(seen, LensFailed):
        # Of two reasons for one contact, the same one is kept whatever their order.
        return replace(record, lens_failed=max(record.lens_failed, seen.reason))
    return _status(_with_analysis(record, seen))


def _with_contact(record: QaRecord, seen: ContactSeen) -> QaRecord:
    """Each field keeps the value of the newest copy that had one (records are re-sent, at
    times without a field), so neither the order of the copies nor repeats matter."""
    at = seen.updated_at
    agent, agent_at = _newest(record.agent_id, record.agent_at, seen.agent_id, at)
    queue, queue_at = _newest(record.queue, record.queue_at, seen.queue, at)
    ended, ended_from = _newest(record.ended_at, record.ended_from, seen.ended_at, at)
    number, number_at = _newest(record.number, record.number_at, seen.number, at)
    intent, intent_at = _newest(record.intent, record.intent_at, seen.intent, at)
    latest = record.contact_updated_at
    return replace(
        record,
        contact_updated_at=at if latest is None or at > latest else latest,
        agent_id=agent,
        agent_at=agent_at,
        queue=queue,
        queue_at=queue_at,
        ended_at=ended,
        ended_from=ended_from,
        number=number,
        number_at=number_at,
        intent=intent,
        intent_at=intent_at,
    )


def _newest(
    value: T, value_at: datetime | None, seen: T, seen_at: datetime
) -> tuple[T, datetime | None]:
    if seen and (value_at is None or seen_at > value_at):
        return seen, seen_at
    return value, value_at


def _with_analysis(record: QaRecord, seen: AnalysisSeen) -> QaRecord:
    """The newest run wins; for one run, a file read beats one that was not, then the key
    decides, then a score with the contact's queue's rubric beats one made before the queue
    was known, so the order files and events arrive in does not matter."""
    if record.analysed_at is not None and _rank(seen) <= _rank_of(record):
        return record
    return replace(
        record,
        analysed_at=seen.analysed_at,
        analysis_key=seen.key,
        total=seen.total,
        flags=seen.flags,
        problem=seen.problem,
        card=seen.card,
        call_back=seen.call_back,
        reasons=seen.reasons,
        rubric_queue=seen.rubric_queue,
    )


def _rank(seen: AnalysisSeen) -> tuple[datetime, bool, str, bool]:
    return seen.analysed_at, not seen.problem, seen.key, bool(seen.rubric_queue)


def _rank_of(record: QaRecord) -> tuple[datetime, bool, str, bool]:
    assert record.analysed_at is not None
    return record.analysed_at, not record.problem, record.analysis_key, bool(record.rubric_queue)


def scored_without_its_queue(record: QaRecord) -> bool:
    """Its analysis was scored by the rubric for "*" before the contact's queue was known,
    and the queue is known now: the file is to be scored again with the queue's rubric."""
    readable = record.analysed_at is not None and not record.problem and record.card != ""
    return readable and bool(record.queue) and not record.rubric_queue


def _status(record: QaRecord) -> QaRecord:
    if record.analysed_at is not None:
        status = QaStatus.UNREADABLE if record.problem else QaStatus.SCORED
    elif record.status is QaStatus.PARTIAL:
        status = QaStatus.PARTIAL
    elif record.contact_updated_at is not None and not record.agent_id:
        status = QaStatus.NO_AGENT
    else:
        status = QaStatus.AWAITING
    return replace(record, status=status)


def overdue(record: QaRecord, now: datetime, grace: timedelta) -> bool:
    """Handled by an agent, still without a score, and no analysis to wait for: it ended
    more than `grace` ago, or Contact Lens said none will come."""
    if record.status is not QaStatus.AWAITING or not record.agent_id:
        return False
    if record.lens_failed:
        return True
    return record.ended_at is not None and now - record.ended_at > grace


def scored_partially(record: QaRecord, card: str) -> QaRecord:
    """No analysis in time: a scorecard with every question left to a reviewer (`card`, ""
    when no rubric scores the queue), marked partial."""
    return replace(record, status=QaStatus.PARTIAL, total=None, flags=("partial",), card=card)


# -- what a record earns the early warning and the reports ---------------------------------------

BUCKET = timedelta(minutes=15)
NO_QUEUE = "no-queue"


@dataclass(frozen=True)
class Tally:
    """One contact reason seen in one queue's 15-minute bucket."""

    scope: str
    reason: str
    bucket: datetime
    contact_id: str


def bucket_of(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def counted(record: QaRecord) -> tuple[QaRecord, tuple[Tally, ...]]:
    """The reasons a contact is counted under, once: with its first readable analysis (a
    newer run of the same contact is not a second contact), the analysis's reasons and the
    IVR's intent as known by then; the record then says so."""
    if record.reasons_counted or record.analysed_at is None or record.problem:
        return record, ()
    at = bucket_of(record.ended_at or record.analysed_at)
    scope = record.queue or NO_QUEUE
    reasons = (*record.reasons, *((f"ivr:{record.intent}",) if record.intent else ()))
    found = tuple(Tally(scope, reason, at, record.contact_id) for reason in reasons)
    return replace(record, reasons_counted=True), found


_WEEK = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")


def is_week(text: str) -> bool:
    """An ISO week as reports take it: "2026-W49"."""
    return bool(_WEEK.match(text))


def iso_week(at: datetime) -> str:
    """The ISO week an instant falls in, as reports name it: "2026-W49"."""
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def final_card(record: QaRecord) -> str:
    """The scorecard that counts: the reviewed one once submitted, else the automatic one."""
    return record.reviewed_card or record.card


def week_of(record: QaRecord) -> str:
    """The ISO week a contact is reported in, by when it ended."""
    at = record.ended_at or record.analysed_at or record.contact_updated_at
    return "" if at is None else iso_week(at)
