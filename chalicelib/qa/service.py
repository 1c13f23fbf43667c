"""QA use cases over ports: a contact's events folded into its one QA record (each write
conditional on the version read, so concurrent deliveries never lose one), its analysis file
read and scored, the follow-ups a score asks for (review, intervention callback), the
reconciliation that scores what no analysis came for, the early warning, and the reports.

Every Lambda of the app imports this module when it starts, IVR hooks included, so what only
one use case needs (reading and scoring files, the detector, reports, calibration) is
imported by that use case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.platform.clock import Clock
from chalicelib.qa import review
from chalicelib.qa.records import (
    BUCKET,
    AnalysisSeen,
    ContactSeen,
    QaRecord,
    QaStatus,
    Seen,
    Tally,
    counted,
    empty,
    fold,
    overdue,
    scored_partially,
    scored_without_its_queue,
)
from chalicelib.qa.review import Review, ReviewStatus

if TYPE_CHECKING:
    from chalicelib.qa.analysis import Conversation
    from chalicelib.qa.model import Question, Rubric, Scorecard
    from chalicelib.qa.warning import Detector

RACES = 5
SWEPT = timedelta(minutes=15)  # each reconciliation asks Connect about this span of endings
UNREADABLE = "QA Analysis Unreadable"
WARNING = "QA Early Warning"
UNSCORED = "QA Contacts Unscored"
EXAMPLES = 5
# A two-hour call's analysis is about 1 MiB; anything far past that is not one we should load.
MAX_ANALYSIS_BYTES = 16 * 1024 * 1024


class QaRecords(Protocol):
    def get(self, contact_id: str) -> QaRecord | None: ...

    def put(self, before: QaRecord | None, after: QaRecord, tallies: Sequence[Tally] = ()) -> bool:
        """Write `after` (and add `tallies` to the reason counts, in the same transaction) if
        the stored record is still `before` (None: there is none yet); False if someone else
        wrote first."""
        ...

    def awaiting(self, limit: int) -> Sequence[QaRecord]:
        """Records handled by an agent and not scored yet, oldest first."""
        ...

    def of_agent(self, agent_id: str, week: str) -> Sequence[QaRecord]: ...

    def unheard(self, contact_ids: Sequence[str]) -> set[str]:
        """Those of the contacts whose record, if any, has heard nothing of the contact
        itself: no record at all, or one made by an analysis file or a Contact Lens failure
        alone (it knows no agent, so nothing else would ever finish it)."""
        ...

    def of_queue(self, queue: str, week: str) -> Sequence[QaRecord]: ...


class AnalysisFiles(Protocol):
    def read(self, key: str) -> tuple[bytes, datetime] | None:
        """The file's bytes and when it was written; None when it is gone."""
        ...


class ContactDetails(Protocol):
    def describe(self, contact_id: str) -> ContactSeen | None:
        """What Connect says of the contact now (agent, queue, number); None if unknown."""
        ...

    def ended(self, since: datetime, until: datetime) -> Iterable[ContactSeen]:
        """Every contact an agent handled that ended in the span, as Connect lists them."""
        ...


class Rubrics(Protocol):
    def for_queue(self, queue: str) -> Rubric | None:
        """The rubric that scores the queue's contacts (the one for "*" otherwise)."""
        ...

    def named(self, name: str) -> Rubric | None: ...


class Interventions(Protocol):
    def call_back(self, record: QaRecord, reason: str) -> str:
        """Ask for a callback to the contact's customer, one per contact (asking again gives
        the same one); the callback's id, or "refused: <why>"."""
        ...


class Alerts(Protocol):
    def send(self, kind: str, detail: Mapping[str, Any]) -> None: ...


class ReasonCounts(Protocol):
    def counts(
        self, scope: str, reason: str, buckets: Sequence[datetime]
    ) -> dict[datetime, int]: ...

    def active(self, bucket: datetime) -> Sequence[tuple[str, str]]:
        """(scope, reason) pairs counted in the bucket."""
        ...

    def examples(self, scope: str, reason: str, bucket: datetime) -> tuple[str, ...]: ...

    def first_alert(self, scope: str, reason: str, bucket: datetime) -> bool:
        """Note an alert for the bucket; False if one was noted already (a rerun)."""
        ...

    def forget_alert(self, scope: str, reason: str, bucket: datetime) -> None:
        """Undo `first_alert` when the alert could not be sent."""
        ...

    def raised(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The alerts noted for buckets in that span: bucket, scope, reason."""
        ...


class BusyError(Exception):
    """The record kept changing under us: the event is retried by its source."""


# -- the review queue ----------------------------------------------------------------------------


class Reviews(Protocol):
    def get(self, contact_id: str, copy: int = 1) -> Review | None: ...

    def copies(self, contact_id: str) -> Sequence[Review]:
        """Every copy of the contact's review (several for a calibration contact)."""
        ...

    def free(self, now: datetime, limit: int) -> Sequence[Review]:
        """Reviews a reviewer may claim now (waiting, or their lease lapsed), oldest first."""
        ...

    def held_by(self, reviewer: str, now: datetime) -> Review | None:
        """The review this reviewer holds a running lease on, if any (one at a time)."""
        ...

    def put(self, before: Review | None, after: Review) -> bool:
        """Conditional on the version read (None: there is none yet)."""
        ...

    def calibrated(self, week: str) -> Sequence[Review]:
        """Calibration copies submitted in the ISO week."""
        ...


@dataclass
class ReviewQueue:
    reviews: Reviews
    clock: Clock
    lease: timedelta = timedelta(minutes=20)
    calibration_reviewers: int = 3  # each calibration contact is scored by this many

    def enqueue(self, contact_id: str, reasons: tuple[str, ...]) -> Review | None:
        """Queue a contact for review once (a calibration contact once per reviewer it
        needs); None when it needs none."""
        if not reasons:
            return None
        copies = self.calibration_reviewers if review.CALIBRATION in reasons else 1
        for copy in range(1, copies + 1):  # a retry adds any copy a crash left out
            if self.reviews.get(contact_id, copy) is None:
                self.reviews.put(None, Review(contact_id, reasons, self.clock.now(), copy=copy))
        return self.reviews.get(contact_id)  # ours, or the one a concurrent enqueue wrote

    def rescored(self, contact_id: str, reasons: tuple[str, ...]) -> None:
        """A newer file of the contact was read and scored: a review still waiting for an
        unreadable one asks for what the score asks for now, or is withdrawn."""
        waiting = self.reviews.get(contact_id)
        after = review.rescored(waiting, reasons) if waiting is not None else None
        if after is not None:
            self.reviews.put(waiting, after)  # a lost race: a reviewer claimed it meanwhile

    def claim_next(self, reviewer: str) -> Review | None:
        """The oldest free review, now this reviewer's alone until the lease ends; never a
        second copy of a contact the reviewer has one of (calibration needs other eyes). A
        reviewer holds one review at a time: while a lease of theirs runs, they get it back
        (a second click, a lost answer) instead of another."""
        now = self.clock.now()
        held = self.reviews.held_by(reviewer, now)
        if held is not None:
            return held
        for candidate in self.reviews.free(now, limit=20):
            if review.CALIBRATION in candidate.reasons and self._has_another(candidate, reviewer):
                continue
            claimed = review.claim(candidate, reviewer, now, self.lease)
            if self.reviews.put(candidate, claimed):
                return claimed
        return None

    def _has_another(self, candidate: Review, reviewer: str) -> bool:
        return any(
            other.reviewer == reviewer and other.copy != candidate.copy
            for other in self.reviews.copies(candidate.contact_id)
        )

    def change(self, contact_id: str, reviewer: str, move: Callable[[Review], Review]) -> Review:
        """An override or a submit by the reviewer holding the lease (on their copy)."""
        copies = self.reviews.copies(contact_id)
        if not copies:
            raise review.ReviewError(f"no review for {contact_id}")
        held = [c for c in copies if c.reviewer == reviewer and c.status is ReviewStatus.CLAIMED]
        current = held[0] if held else copies[0]
        after = move(current)
        if not self.reviews.put(current, after):
            raise review.ReviewError(f"{contact_id} changed meanwhile: read it again")
        return after


# -- the QA service ------------------------------------------------------------------------------


@dataclass
class QaService:
    records: QaRecords
    clock: Clock
    files: AnalysisFiles
    contacts: ContactDetails
    rubrics: Rubrics
    reviews: ReviewQueue
    interventions: Interventions
    alerts: Alerts
    reasons: ReasonCounts
    grace: timedelta = timedelta(minutes=10)  # how long an analysis may take to arrive
    sample_rate: float = 0.05  # of scored contacts, for reviewers' calibration
    swept: timedelta = SWEPT
    detector: Detector | None = None  # the early warning's; its defaults when None

    def take(self, seen: Seen) -> QaRecord:
        """Fold one input into its contact's record; repeats and stale inputs write nothing."""
        return self._write(seen.contact_id, lambda record: fold(record, seen))[0]

    def _write(
        self,
        contact_id: str,
        change: Callable[[QaRecord], QaRecord],
        read: QaRecord | None = None,
    ) -> tuple[QaRecord, bool]:
        """The record after `change`, and whether this call wrote it; `read` is the record
        as just read, if it was (a lost race reads it again)."""
        for attempt in range(RACES):
            before = read if attempt == 0 and read is not None else self.records.get(contact_id)
            after, tallies = counted(change(before or empty(contact_id)))
            if before is not None and after == before:
                return before, False
            if self.records.put(before, after, tallies):
                return replace(after, version=(before.version if before else 0) + 1), True
        raise BusyError(contact_id)

    # -- inputs ----------------------------------------------------------------------------

    def take_contact(self, seen: Seen) -> QaRecord:
        """A contact event, contact record or Contact Lens state change, with its follow-ups
        (a contact record may bring the number an intervention was waiting for)."""
        record = self.take(seen)
        if scored_without_its_queue(record):  # its queue's rubric, not the one for "*"
            rescored = self.take_file(record.analysis_key)
            if rescored is not None:
                return rescored
        self.follow_up(record)
        return record

    def take_file(self, key: str) -> QaRecord | None:
        """An analysis file written to S3: read, scored and folded in; None when the key is
        not an analysis file or the file is gone (a newer one replaced it)."""
        from chalicelib.qa.analysis import analysis_key

        found = analysis_key(key)
        read = self.files.read(key) if found is not None else None
        if found is None or read is None:
            return None
        body, written = read
        known = self._known(found.contact_id)
        seen = self._analysed(known, key, body, written)
        told = (known.analysis_key, known.analysed_at, known.problem) == (
            key,
            written,
            seen.problem,
        )
        if seen.problem and not told:
            # Before the write: if the write fails, the retry tells again (a repeat beats a loss).
            detail = {"contact_id": found.contact_id, "key": key, "problem": seen.problem}
            self.alerts.send(UNREADABLE, detail)
        stored = known if known.version else None
        record = self._write(found.contact_id, lambda now: fold(now, seen), stored)[0]
        self.follow_up(record)
        return record

    def _known(self, contact_id: str) -> QaRecord:
        """The record, with who handled the contact and in which queue asked of Connect when
        no contact event or record said so yet (the rubric depends on the queue)."""
        record = self.records.get(contact_id) or empty(contact_id)
        if record.agent_id and record.queue:
            return record
        described = self.contacts.describe(contact_id)
        return self.take(described) if described is not None else record

    def _analysed(self, record: QaRecord, key: str, body: bytes, written: datetime) -> AnalysisSeen:
        from chalicelib.qa.analysis import AnalysisError, read_analysis
        from chalicelib.qa.model import score

        contact_id = record.contact_id
        if len(body) > MAX_ANALYSIS_BYTES:
            problem = f"{key}: over {MAX_ANALYSIS_BYTES:,} bytes, not read"
            return AnalysisSeen(contact_id, written, key, problem=problem)
        try:
            conversation = read_analysis(body, key, contact_id)
        except AnalysisError as unreadable:
            return AnalysisSeen(contact_id, written, key, problem=str(unreadable))
        rubric = self.rubrics.for_queue(record.queue)
        if rubric is None:
            problem = f"no rubric scores queue {record.queue or '(none)'!r} and none is for '*'"
            return AnalysisSeen(contact_id, written, key, problem=problem)
        card = score(rubric, conversation)
        return AnalysisSeen(
            contact_id,
            written,
            key,
            card.total,
            card.flags,
            card=_json(card),
            call_back=_call_back_titles(rubric, card),
            reasons=_reasons(conversation, card),
            rubric_queue=record.queue,
        )

    # -- follow-ups ------------------------------------------------------------------------

    def follow_up(self, record: QaRecord) -> None:
        """What a score asks for, each at most once however often it is asked: a review for a
        flagged or sampled contact (or one whose analysis could not be read: a human scores it
        from the recording), and a callback for a failed question that says so."""
        if record.status is QaStatus.UNREADABLE:
            self.reviews.enqueue(record.contact_id, (review.UNREADABLE,))
        elif record.card or record.status is QaStatus.PARTIAL:  # partial: even with no rubric
            reasons = review.reasons_for(record.contact_id, record.flags, self.sample_rate)
            self.reviews.rescored(record.contact_id, reasons)
            self.reviews.enqueue(record.contact_id, reasons)
        if record.call_back and record.number and not record.callback_id:
            reason = "QA: " + "; ".join(record.call_back)
            asked = self.interventions.call_back(record, reason)
            self._write(record.contact_id, lambda current: replace(current, callback_id=asked))

    # -- reconciliation --------------------------------------------------------------------

    def reconcile(self, limit: int = 500) -> list[QaRecord]:
        """Every contact handled by an agent that has no score `grace` after it ended (or that
        Contact Lens said it cannot analyse), including those no event or record ever told
        us of (Connect lists them): scored on what is known and marked partial; returned, so
        none goes unseen."""
        now = self.clock.now()
        awaiting = [*self.records.awaiting(limit), *self._never_told(now)]
        due = [r for r in awaiting if overdue(r, now, self.grace)]
        if due:
            # Told before they are written: an alert that fails leaves them for the next run.
            contacts = [r.contact_id for r in due[:EXAMPLES]]
            self.alerts.send(UNSCORED, {"count": len(due), "examples": contacts})
        found = []
        for record in due:
            after = scored_partially(record, self._partial(record))
            if self.records.put(record, after):
                found.append(after)
                self.follow_up(after)
        return found

    def _never_told(self, now: datetime) -> list[QaRecord]:
        """Contacts that ended with an agent in the swept span and whose contact event and
        record never reached us (nor, for most, a file). Spans overlap from run
        to run (a run every 5 minutes sweeps 15), so one failed run loses nothing."""
        until = now - self.grace
        ended = {seen.contact_id: seen for seen in self.contacts.ended(until - self.swept, until)}
        found: list[QaRecord] = []
        ids = list(ended)
        for start in range(0, len(ids), 100):
            for contact_id in sorted(self.records.unheard(ids[start : start + 100])):
                found.append(self.take(ended[contact_id]))
        return found

    def _partial(self, record: QaRecord) -> str:
        """With no transcript no rule can be tried: every question is left to a reviewer
        (rather than answered "no" for want of a phrase nobody could hear)."""
        from chalicelib.qa.analysis import Conversation
        from chalicelib.qa.model import Answer, scorecard

        rubric = self.rubrics.for_queue(record.queue)
        if rubric is None:
            return ""
        nothing = Conversation(record.contact_id, "VOICE", False, "", ())
        unanswered = {q.ref_id: Answer(q.ref_id, None) for q in rubric.questions()}
        return _json(scorecard(rubric, nothing, unanswered, partial=True))

    # -- early warning ---------------------------------------------------------------------

    def warn(self) -> list[dict[str, Any]]:
        """Judge the last whole 15-minute bucket: an alert for each reason that starts to
        spike in a queue (with example contacts); none again while it stays up."""
        bucket = _bucket_before(self.clock.now())
        raised = []
        for scope, reason in self.reasons.active(bucket):
            alert = self._judge(scope, reason, bucket)
            if alert is not None and self.reasons.first_alert(scope, reason, bucket):
                try:
                    self.alerts.send(WARNING, alert)
                except Exception:
                    self.reasons.forget_alert(scope, reason, bucket)  # the rerun sends it
                    raise
                raised.append(alert)
        return raised

    def _judge(self, scope: str, reason: str, bucket: datetime) -> dict[str, Any] | None:
        """The detector over just the buckets it reads: this one and the two before it, and
        the same slots in each of the weeks before."""
        from chalicelib.qa.warning import SLOTS_PER_WEEK, Detector

        detector = self.detector or Detector()
        weeks = detector.weeks
        origin = bucket - weeks * SLOTS_PER_WEEK * BUCKET - 2 * BUCKET
        wanted = [
            bucket - step * BUCKET - week * SLOTS_PER_WEEK * BUCKET
            for step in range(3)
            for week in range(weeks + 1)
        ]
        counts = self.reasons.counts(scope, reason, wanted)
        series = [0] * (weeks * SLOTS_PER_WEEK + 3)
        for at, count in counts.items():
            series[(at - origin) // BUCKET] = count
        now, before = len(series) - 1, len(series) - 2
        if not detector.spiking(series, now) or detector.spiking(series, before):
            return None
        same_slot = [series[now - week * SLOTS_PER_WEEK] for week in range(1, weeks + 1)]
        return {
            "scope": scope,
            "reason": reason,
            "bucket": bucket.isoformat(),
            "count": series[now],
            "usual": round(sum(same_slot) / weeks, 2),
            "examples": list(self.reasons.examples(scope, reason, bucket)),
        }

    # -- reports ---------------------------------------------------------------------------

    # -- review ----------------------------------------------------------------------------

    def override(self, contact_id: str, reviewer: str, change: review.Override) -> Review:
        """A reviewer's answer to one question of the contact's scorecard, checked against
        the rubric that scored it, made in the reviewer's name."""
        question = self._question(contact_id, change.question)
        made = review.checked(replace(change, by=reviewer), question)
        now = self.clock.now()
        return self.reviews.change(
            contact_id, reviewer, lambda r: review.override(r, reviewer, made, now)
        )

    def submit(self, contact_id: str, reviewer: str) -> Review:
        """The review submitted; the first reviewer's copy is the contact's final score, with
        its overrides (calibration copies measure agreement, they do not score)."""
        now = self.clock.now()
        done = self.reviews.change(contact_id, reviewer, lambda r: review.submit(r, reviewer, now))
        record = self.records.get(contact_id)
        if done.copy == 1 and record is not None and record.card:
            card = json.loads(record.card)
            final = _json_dict(review.reviewed_card(card, done, self.rubrics.named(card["rubric"])))
            self._write(contact_id, lambda current: replace(current, reviewed_card=final), record)
        return done

    def _question(self, contact_id: str, question: str) -> Question | None:
        record = self.records.get(contact_id)
        if record is None or not record.card:
            raise review.ReviewError(f"{contact_id}: no scorecard to override")
        card = json.loads(record.card)
        rubric = self.rubrics.named(card["rubric"])
        if rubric is None or rubric.version != card["rubric_version"]:
            raise review.ReviewError(
                f"{contact_id}: rubric {card['rubric']} v{card['rubric_version']} that scored it"
                " is no longer the one in use"
            )
        return next((q for q in rubric.questions() if q.ref_id == question), None)

    def agent_report(self, agent_id: str, week: str) -> dict[str, Any]:
        from chalicelib.qa.report import report

        return report(agent_id, week, self.records.of_agent(agent_id, week))

    def team_report(self, queue: str, week: str) -> dict[str, Any]:
        from chalicelib.qa.report import report

        return report(queue, week, self.records.of_queue(queue, week))

    def calibration(self, week: str) -> dict[str, Any]:
        """How far reviewers agreed on the calibration contacts they submitted in the week."""

        submitted = []
        for copy in self.reviews.reviews.calibrated(week):
            record = self.records.get(copy.contact_id)
            if record is not None and record.card:
                submitted.append((copy, json.loads(record.card)))
        from chalicelib.qa.calibration import calibration

        return calibration(week, submitted, self.rubrics.named)


def _bucket_before(now: datetime) -> datetime:
    """The last bucket that has ended by `now`."""
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return start - BUCKET


def _json(card: Scorecard) -> str:
    from chalicelib.qa.model import scorecard_dict

    return _json_dict(scorecard_dict(card))


def _json_dict(card: Mapping[str, Any]) -> str:
    return json.dumps(card, separators=(",", ":"), sort_keys=True)


def _reasons(conversation: Conversation, card: Scorecard) -> tuple[str, ...]:
    """What the early warning counts from an analysis: the Contact Lens categories matched,
    and a customer who left upset."""
    upset = ("negative_ending",) if "negative_ending" in card.flags else ()
    return (*sorted(conversation.categories), *upset)


def _call_back_titles(rubric: Rubric, card: Scorecard) -> tuple[str, ...]:
    titles = {q.ref_id: q.title for q in rubric.questions()}
    return tuple(titles[ref] for ref in card.call_back)
