"""The QA service on in-memory ports: an analysis file scored with the queue's rubric, the
contact asked of Connect when nothing said who handled it, unreadable files recorded and
alerted once, reviews and intervention callbacks once per contact however often an event
comes, reconciliation, the early warning over stored counts, and the weekly reports."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.platform.clock import FixedClock
from chalicelib.qa.records import BUCKET, ContactSeen, LensFailed, QaStatus, Tally, week_of
from chalicelib.qa.review import Override, ReviewError, ReviewStatus
from chalicelib.qa.schema import read_rubric
from chalicelib.qa.service import UNREADABLE, UNSCORED, WARNING
from chalicelib.qa.warning import SLOTS_PER_WEEK
from devkit.analyses import GOOD_CALL, analysis_key, voice_analysis
from devkit.fakes.qa import qa_world

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ENDED = NOW - timedelta(minutes=3)
WRITTEN = NOW - timedelta(seconds=20)
GOOD = list(GOOD_CALL)


def rubric(name: str):
    return read_rubric(json.loads((ROOT / "rubrics" / f"{name}.json").read_text()))


def world(**rubrics):
    return qa_world(FixedClock(NOW), {"*": rubric("bank-service"), **rubrics})


def seen(contact: str, queue: str = "billing", number: str = "+12125550123") -> ContactSeen:
    return ContactSeen(contact, ENDED, "agent-7", queue, ENDED, number)


def put_file(w, contact: str, text: str) -> str:
    key = analysis_key(contact)
    w.files.files[key] = (text.encode(), WRITTEN)
    return key


def test_a_file_is_scored_with_its_queues_rubric_and_its_reasons_counted_once() -> None:
    w = world(collections=rubric("collections"))
    w.service.take_contact(seen("c-1", queue="collections"))
    key = put_file(w, "c-1", voice_analysis(GOOD, categories=["Complaint"]))
    record = w.service.take_file(key)
    assert record is not None and record.status is QaStatus.SCORED
    card = json.loads(record.card)
    assert card["rubric"] == "collections" and card["rubric_version"] == 1
    assert "missing_disclosure" in record.flags  # no mini-Miranda said
    assert w.reviews.get("c-1").reasons[:1] == ("missing_disclosure",)
    w.service.take_file(key)  # the same file's second event
    w.service.take_contact(seen("c-1", queue="collections"))
    bucket = ENDED.replace(minute=45, second=0, microsecond=0)
    assert w.records.reasons.count[("collections", "Complaint", bucket)] == 1
    assert w.contacts.asked == []  # the contact event had said who and where


def test_a_file_before_any_event_asks_connect_who_handled_the_contact() -> None:
    w = world()
    w.contacts.contacts["c-2"] = seen("c-2")
    record = w.service.take_file(put_file(w, "c-2", voice_analysis(GOOD)))
    assert record is not None and (record.agent_id, record.queue) == ("agent-7", "billing")
    assert record.status is QaStatus.SCORED and w.contacts.asked == ["c-2"]


def test_an_unreadable_file_is_recorded_and_alerted_once() -> None:
    w = world()
    w.service.take_contact(seen("c-3"))
    key = put_file(w, "c-3", voice_analysis(GOOD)[:-40])
    for _ in range(3):
        record = w.service.take_file(key)
    assert record is not None and record.status is QaStatus.UNREADABLE
    assert "truncated" in record.problem and key in record.problem
    assert [a["key"] for a in w.alerts.of(UNREADABLE)] == [key]
    assert w.reviews.get("c-3").reasons == ("unreadable_analysis",)  # a human scores it


def test_a_newer_readable_file_settles_the_review_an_unreadable_one_asked_for() -> None:
    w = world()
    w.service.take_contact(seen("c-18"))
    broken = put_file(w, "c-18", voice_analysis(GOOD)[:-40])
    w.service.take_file(broken)
    assert w.reviews.get("c-18").reasons == ("unreadable_analysis",)
    newer = analysis_key("c-18", at="2026-12-01T09:30:00Z")
    w.files.files[newer] = (voice_analysis(GOOD).encode(), WRITTEN + timedelta(minutes=30))
    record = w.service.take_file(newer)
    assert record is not None and record.status is QaStatus.SCORED and not record.flags
    assert w.reviews.get("c-18").status is ReviewStatus.WITHDRAWN  # nothing left to review
    assert w.service.reviews.claim_next("reviewer-1") is None


def test_a_newer_file_with_flags_turns_the_unreadable_review_into_one_for_them() -> None:
    w = world()
    w.service.take_contact(seen("c-19"))
    w.service.take_file(put_file(w, "c-19", voice_analysis(GOOD)[:-40]))
    newer = analysis_key("c-19", at="2026-12-01T09:30:00Z")
    upset = voice_analysis(GOOD, closing=-4)
    w.files.files[newer] = (upset.encode(), WRITTEN + timedelta(minutes=30))
    w.service.take_file(newer)
    waiting = w.reviews.get("c-19")
    assert waiting.status is ReviewStatus.WAITING and "negative_ending" in waiting.reasons
    assert "unreadable_analysis" not in waiting.reasons


def test_a_file_scored_before_its_queue_was_known_is_scored_again_with_the_queues_rubric():
    """Connect could not yet say who handled it, so the rubric for "*" scored it; once the
    contact event names the queue, the file is scored with that queue's rubric, once."""
    w = world(care=rubric("collections"))
    key = put_file(w, "c-20", voice_analysis(GOOD))
    first = w.service.take_file(key)
    assert first is not None and json.loads(first.card)["rubric"] == "bank-service"
    for _ in range(2):
        record = w.service.take_contact(seen("c-20", queue="care"))
    assert json.loads(record.card)["rubric"] == "collections" and record.rubric_queue == "care"
    assert len(w.files.read_keys) == 2  # read once more, not once per event
    assert json.loads(w.service.take_file(key).card)["rubric"] == "collections"


def test_an_oversize_file_is_recorded_not_read(monkeypatch) -> None:
    from chalicelib.qa import service as qa_service

    monkeypatch.setattr(qa_service, "MAX_ANALYSIS_BYTES", 1000)
    w = world()
    w.service.take_contact(seen("c-8"))
    record = w.service.take_file(put_file(w, "c-8", voice_analysis(GOOD)))
    assert record is not None and record.status is QaStatus.UNREADABLE
    assert "over 1,000 bytes, not read" in record.problem and len(w.alerts.of(UNREADABLE)) == 1


def test_keys_that_are_not_analyses_and_files_gone_are_ignored() -> None:
    w = world()
    assert w.service.take_file("connect/x/Analysis/Voice/Redacted/2026/12/01/c_call_recording"
                               "_redacted_2026-12-01T09:00:00Z.wav") is None  # fmt: skip
    assert w.service.take_file(analysis_key("c-gone")) is None
    assert w.records.records == {}


def test_an_upset_ending_asks_for_one_callback_with_the_reason() -> None:
    w = world()
    key = put_file(w, "c-4", voice_analysis(GOOD, closing=-4))
    w.service.take_file(key)  # nobody said the number yet: the callback waits for it
    assert w.interventions.calls == 0
    for _ in range(3):
        w.service.take_contact(seen("c-4"))
        w.service.take_file(key)
    assert w.interventions.calls == 1
    assert w.interventions.asked["c-4"].startswith("QA: Did the customer end the call calm")
    assert w.records.records["c-4"].callback_id == "callback-c-4"
    assert "negative_ending" in w.reviews.get("c-4").reasons


def test_reconciliation_scores_partially_what_no_analysis_came_for() -> None:
    w = world()
    w.service.take_contact(seen("c-5"))  # ended 3 minutes ago: still within the grace
    w.service.take_contact(ContactSeen("c-6", ENDED, "agent-7", "billing", ENDED))
    w.service.take_contact(LensFailed("c-6", "RECORDING_FILE_CANNOT_BE_READ"))
    found = w.service.reconcile()
    assert [r.contact_id for r in found] == ["c-6"]  # no file will come: scored now
    assert found[0].status is QaStatus.PARTIAL and "partial" in found[0].flags
    card = json.loads(found[0].card)
    assert card["partial"] is True and card["total"] is None and card["automatic_fail"] is False
    assert len(card["needs_review"]) == 7  # every question but the notes, for a reviewer
    assert w.reviews.get("c-6").reasons[:1] == ("partial",)
    assert w.alerts.of(UNSCORED) == [{"count": 1, "examples": ["c-6"]}]
    w.service.clock.set(NOW + timedelta(minutes=11))  # type: ignore[attr-defined]
    assert [r.contact_id for r in w.service.reconcile()] == ["c-5"]
    assert w.service.reconcile() == []


def test_a_partial_contact_goes_to_a_reviewer_even_when_no_rubric_scores_its_queue() -> None:
    w = qa_world(FixedClock(NOW))  # no rubric at all
    w.service.take_contact(ContactSeen("c-15", ENDED, "agent-7", "billing", ENDED))
    w.service.take_contact(LensFailed("c-15", "RECORDING_FILE_CANNOT_BE_READ"))
    [found] = w.service.reconcile()
    assert (found.status, found.card, found.flags) == (QaStatus.PARTIAL, "", ("partial",))
    assert w.reviews.get("c-15").reasons[:1] == ("partial",)


def test_a_contact_lens_failure_alone_is_finished_once_connect_lists_the_contact() -> None:
    """The FAILED state change came, the contact event and record never did: the record
    knows no agent, so only Connect's list of ended contacts can finish it."""
    w = world()
    long_ago = NOW - timedelta(minutes=14)
    w.service.take_contact(LensFailed("c-16", "RECORDING_FILE_CANNOT_BE_READ"))
    assert w.records.records["c-16"].status is QaStatus.AWAITING
    w.contacts.contacts["c-16"] = ContactSeen("c-16", long_ago, "agent-7", "billing", long_ago)
    [found] = w.service.reconcile()
    assert (found.contact_id, found.status, found.agent_id) == ("c-16", QaStatus.PARTIAL, "agent-7")
    assert w.reviews.get("c-16").reasons[:1] == ("partial",)


def test_reconciliation_finds_contacts_no_event_ever_told_of() -> None:
    w = world()
    long_ago = NOW - timedelta(minutes=14)
    w.contacts.contacts["c-11"] = ContactSeen("c-11", long_ago, "agent-7", "billing", long_ago)
    w.contacts.contacts["c-12"] = ContactSeen("c-12", long_ago, "", "billing", long_ago)  # IVR
    w.contacts.contacts["c-13"] = ContactSeen("c-13", long_ago, "agent-7", "billing", long_ago)
    w.service.take_contact(w.contacts.contacts["c-13"])  # its event came: nothing to add
    found = w.service.reconcile()
    assert {r.contact_id for r in found} == {"c-11", "c-13"}
    assert w.records.records["c-11"].status is QaStatus.PARTIAL
    assert "c-12" not in w.records.records  # nobody to score
    earlier = NOW - timedelta(hours=2)  # ended before the swept span: not asked about again
    w.contacts.contacts["c-14"] = ContactSeen("c-14", earlier, "agent-7", "billing", earlier)
    assert w.service.reconcile() == []


def _history(w, bucket: datetime, usual: int, now: int) -> None:
    for week in range(1, 7):
        for step in range(3):
            at = bucket - step * BUCKET - week * SLOTS_PER_WEEK * BUCKET
            for n in range(usual + (week + step) % 3):
                w.records.reasons.add(Tally("billing", "Complaint", at, f"old-{week}-{step}-{n}"))
    for n in range(now):
        w.records.reasons.add(Tally("billing", "Complaint", bucket, f"now-{n}"))


def test_a_tripled_reason_raises_one_warning_with_examples() -> None:
    w = world()
    bucket = datetime(2026, 12, 1, 9, 45, tzinfo=UTC)
    _history(w, bucket, usual=10, now=36)
    w.service.clock.set(bucket + BUCKET + timedelta(minutes=1))  # type: ignore[attr-defined]
    raised = w.service.warn()
    assert [(a["scope"], a["reason"], a["count"]) for a in raised] == [("billing", "Complaint", 36)]
    assert raised[0]["examples"] == [f"now-{n}" for n in range(5)] and raised[0]["usual"] > 9
    assert w.service.warn() == []  # the schedule ran twice: one alert
    assert len(w.alerts.of(WARNING)) == 1


def test_an_alert_eventbridge_refused_is_sent_by_the_next_try() -> None:
    w = world()
    w.service.take_contact(seen("c-10"))
    key = put_file(w, "c-10", voice_analysis(GOOD)[:-40])
    w.alerts.failing = 1
    with pytest.raises(RuntimeError):
        w.service.take_file(key)  # SQS delivers it again
    w.service.take_file(key)
    w.service.take_file(key)
    assert len(w.alerts.of(UNREADABLE)) == 1
    bucket = datetime(2026, 12, 1, 9, 45, tzinfo=UTC)
    _history(w, bucket, usual=10, now=36)
    w.service.clock.set(bucket + BUCKET)  # type: ignore[attr-defined]
    w.alerts.failing = 1
    with pytest.raises(RuntimeError):
        w.service.warn()  # the schedule's retry, or its next run, sends it
    assert len(w.service.warn()) == 1 and len(w.alerts.of(WARNING)) == 1


def test_a_usual_bucket_raises_nothing() -> None:
    w = world()
    bucket = datetime(2026, 12, 1, 9, 45, tzinfo=UTC)
    _history(w, bucket, usual=10, now=12)
    w.service.clock.set(bucket + BUCKET)  # type: ignore[attr-defined]
    assert w.service.warn() == []


def test_reports_show_each_agents_week_and_most_failed_questions() -> None:
    w = world(collections=rubric("collections"))
    for n in range(4):
        contact = f"r-{n}"
        w.service.take_contact(seen(contact, queue="collections" if n < 3 else "billing"))
        w.service.take_file(put_file(w, contact, voice_analysis(GOOD)))
    week = week_of(w.records.records["r-0"])
    agent = w.service.agent_report("agent-7", week)
    assert agent["contacts"] == 4 and agent["scored"] == 4 and agent["automatic_fails"] == 3
    failed = agent["by_rubric"]["collections v1"]["most_failed"][0]
    assert failed["failed"] == 3 and failed["of"] == 3
    team = w.service.team_report("billing", week)
    assert team["contacts"] == 1 and team["automatic_fails"] == 0
    assert w.service.agent_report("agent-7", "2020-W01")["contacts"] == 0


def test_the_ivr_intent_and_an_upset_ending_are_counted_as_reasons_too() -> None:
    w = world()
    w.service.take_contact(replace(seen("c-9"), intent="payment"))
    w.service.take_file(put_file(w, "c-9", voice_analysis(GOOD, ["Fees"], closing=-4)))
    bucket = ENDED.replace(minute=45, second=0, microsecond=0)
    counted = {reason for (_, reason, at) in w.records.reasons.count if at == bucket}
    assert counted == {"Fees", "negative_ending", "ivr:payment"}


# -- what a review changes ------------------------------------------------------------------------


def _in_review(w, contact: str) -> None:
    """A contact scored with the bank's rubric, flagged (the customer left upset), claimed."""
    w.service.take_contact(seen(contact))
    w.service.take_file(put_file(w, contact, voice_analysis(GOOD, closing=-4)))
    assert w.service.reviews.claim_next("rita") is not None


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        (Override("no-such-question", "yes", None, "typo"), "no such question"),
        (Override("greeting", "maybe", None, "unsure"), "not one of its options"),
        (Override("greeting", "yes", 0, "said it, but badly"), "scores 10, not 0"),
        (Override("interruptions", 4, 10, "only talked over once"), "scores 5, not 10"),
        (Override("interruptions", "many", None, "lots"), "is a number"),
        (Override("notes", "kind and clear", 7, "good call"), "has no score"),
    ],
)
def test_an_override_the_rubric_cannot_score_is_refused(change, refused) -> None:
    w = world()
    _in_review(w, "c-30")
    with pytest.raises(ReviewError, match=refused):
        w.service.override("c-30", "rita", change)
    assert w.reviews.get("c-30").overrides == {}


def test_a_submitted_review_is_the_contacts_final_score_in_the_report() -> None:
    w = world()
    _in_review(w, "c-31")
    automatic = json.loads(w.records.records["c-31"].card)
    made = w.service.override("c-31", "rita", Override("no-promises", "promised", None, "said so"))
    assert (made.overrides["no-promises"].score, made.overrides["no-promises"].by) == (0, "rita")
    assert made.overrides["no-promises"].automatic_fail  # from the rubric, not the body
    w.service.submit("c-31", "rita")
    final = json.loads(w.records.records["c-31"].reviewed_card)
    assert (final["total"], final["automatic_fail"]) == (0.0, True)
    assert final["reviewed"]["by"] == "rita"
    assert final["reviewed"]["automatic_total"] == automatic["total"] != 0.0
    answer = next(a for a in final["answers"] if a["question"] == "no-promises")
    assert (answer["value"], answer["by"]) == ("promised", "rita")
    week = week_of(w.records.records["c-31"])
    report = w.service.agent_report("agent-7", week)
    assert (report["average"], report["automatic_fails"]) == (0.0, 1)


def test_a_second_reviewer_never_inherits_the_first_ones_overrides() -> None:
    w = world()
    _in_review(w, "c-32")
    w.service.override("c-32", "rita", Override("greeting", "no", None, "too fast"))
    w.service.clock.set(NOW + w.service.reviews.lease + timedelta(seconds=1))  # type: ignore[attr-defined]
    taken = w.service.reviews.claim_next("sam")
    assert taken is not None and taken.reviewer == "sam" and taken.overrides == {}
    w.service.submit("c-32", "sam")
    final = json.loads(w.records.records["c-32"].reviewed_card)
    assert final["reviewed"]["overrides"] == {} and final["reviewed"]["by"] == "sam"
