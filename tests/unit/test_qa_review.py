"""The review queue: flagged contacts and a calibration sample, claimed with a lease by one
reviewer at a time (eight at once never share one), overridden with reasons, submitted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.platform.clock import FixedClock
from chalicelib.qa.review import (
    CALIBRATION,
    Override,
    ReviewError,
    ReviewStatus,
    in_sample,
    override,
    submit,
)
from chalicelib.qa.service import ReviewQueue
from devkit.fakes.qa import InMemoryReviews

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def queue() -> tuple[ReviewQueue, FixedClock]:
    clock = FixedClock(NOW)
    return ReviewQueue(InMemoryReviews(), clock), clock


def test_eight_reviewers_at_once_never_get_the_same_review() -> None:
    reviews, clock = queue()
    for n in range(60):
        reviews.enqueue(f"c-{n:03d}", ("low_score",))
    taken: dict[str, list[str]] = {}
    guard = threading.Lock()

    def reviewer(name: str) -> None:
        while (claimed := reviews.claim_next(name)) is not None:
            with guard:
                taken.setdefault(claimed.contact_id, []).append(name)
            # One at a time: the next claim comes once this one is submitted.
            reviews.change(claimed.contact_id, name, lambda r, n=name: submit(r, n, clock.now()))

    threads = [threading.Thread(target=reviewer, args=(f"r{k}",)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 60 and all(len(names) == 1 for names in taken.values())


def test_a_lapsed_lease_frees_the_review_for_the_next_reviewer() -> None:
    reviews, clock = queue()
    reviews.enqueue("c-1", ("automatic_fail",))
    assert reviews.claim_next("ann") is not None
    assert reviews.claim_next("bob") is None
    clock.set(NOW + reviews.lease + timedelta(seconds=1))
    claimed = reviews.claim_next("bob")
    assert claimed is not None and claimed.reviewer == "bob"
    why = "said it in Spanish; the phrase list is English"
    change = Override("greeting", "yes", 10, why, by="ann")
    with pytest.raises(ReviewError, match="not claimed by ann"):
        reviews.change("c-1", "ann", lambda r: override(r, "ann", change, clock.now()))


def test_overrides_need_a_reason_and_submitting_ends_the_review() -> None:
    reviews, clock = queue()
    reviews.enqueue("c-2", ("forbidden_phrase",))
    reviews.claim_next("ann")
    no_reason = Override("no-promises", "kept", 10, "  ", by="ann")
    with pytest.raises(ReviewError, match="needs a reason"):
        reviews.change("c-2", "ann", lambda r: override(r, "ann", no_reason, clock.now()))
    fair = Override("no-promises", "kept", 10, "quoted the brochure, promised nothing", "ann")
    reviews.change("c-2", "ann", lambda r: override(r, "ann", fair, clock.now()))
    done = reviews.change("c-2", "ann", lambda r: submit(r, "ann", clock.now()))
    assert done.status is ReviewStatus.SUBMITTED and done.overrides["no-promises"] == fair
    assert reviews.claim_next("bob") is None


def test_a_contact_is_queued_once_and_only_when_it_needs_review() -> None:
    reviews, _ = queue()
    assert reviews.enqueue("c-3", ()) is None
    first = reviews.enqueue("c-3", ("low_score",))
    again = reviews.enqueue("c-3", ("negative_ending",))
    assert first == again and first is not None and first.reasons == ("low_score",)


def test_the_calibration_sample_is_near_its_rate_and_the_same_in_every_process() -> None:
    picked = [c for c in (f"contact-{n}" for n in range(20_000)) if in_sample(c, 0.05)]
    assert 0.04 < len(picked) / 20_000 < 0.06
    # Pinned: a salted hash (Python's own) would pick other contacts in another Lambda.
    assert picked[:3] == ["contact-20", "contact-37", "contact-54"]


def test_a_sampled_scorecard_goes_to_review_with_its_flags() -> None:
    from chalicelib.qa.review import reasons_for

    assert reasons_for("contact-20", (), 0.05) == (CALIBRATION,)
    assert reasons_for("contact-20", ("low_score",), 0.05) == ("low_score", CALIBRATION)
    assert reasons_for("contact-21", ("low_score",), 0.05) == ("low_score",)
    assert reasons_for("contact-21", (), 0.05) == ()


def test_a_calibration_contact_gets_one_copy_per_reviewer_and_never_two_to_one() -> None:
    reviews, clock = queue()
    reviews.enqueue("c-7", (CALIBRATION,))
    reviews.enqueue("c-7", (CALIBRATION,))  # told again: still three copies
    assert [r.copy for r in reviews.reviews.copies("c-7")] == [1, 2, 3]
    first = reviews.claim_next("ann")
    assert first is not None and first.copy == 1
    reviews.change("c-7", "ann", lambda r: submit(r, "ann", clock.now()))
    assert reviews.claim_next("ann") is None  # the other copies need other eyes
    assert {reviews.claim_next(name).copy for name in ("bob", "cy")} == {2, 3}
    assert reviews.claim_next("dee") is None


def test_calibration_reports_agreement_from_what_reviewers_left() -> None:
    import json
    from pathlib import Path

    from chalicelib.qa.analysis import read_analysis
    from chalicelib.qa.calibration import calibration
    from chalicelib.qa.model import score, scorecard_dict
    from chalicelib.qa.schema import read_rubric
    from devkit.analyses import voice_analysis

    rubric_path = Path(__file__).resolve().parents[2] / "rubrics" / "collections.json"
    rubric = read_rubric(json.loads(rubric_path.read_text()))

    said = [("AGENT", "Am I speaking with Ms Lee?"), ("CUSTOMER", "Yes.")]
    cards = {
        c: scorecard_dict(score(rubric, read_analysis(voice_analysis(said), contact_id=c)))
        for c in ("c-1", "c-2")
    }
    reviews, _ = queue()
    left = {"ann": {"c-1": "yes", "c-2": "no"}, "bob": {"c-1": "yes", "c-2": "yes"}}
    submitted = []
    for reviewer, verdicts in left.items():
        for contact, verdict in verdicts.items():
            reviews.enqueue(contact, (CALIBRATION,))
            held = reviews.claim_next(reviewer)
            assert held is not None and held.contact_id == contact
            score = 10 if verdict == "yes" else 0
            change = Override("mini-miranda", verdict, score, "heard it", by=reviewer)
            who = reviewer
            reviews.change(contact, who, lambda r, c=change, w=who: override(r, w, c, NOW))
            done = reviews.change(contact, who, lambda r, w=who: submit(r, w, NOW))
            submitted.append((done, cards[contact]))
    found = calibration("2026-W48", submitted, lambda name: rubric)
    assert found["reviewers"] == ["ann", "bob"] and found["contacts"] == 2
    assert found["kappa"]["mini-miranda"] == pytest.approx(0.0)  # agreed once in two, by chance
    assert found["kappa"]["right-party"] is None  # the same automatic answer everywhere
    # ann failed the disclosure on c-2 (an automatic fail: 0), bob passed it (90: the short
    # call's silence question scores less): 90 points apart on one contact of two.
    assert cards["c-2"]["total"] == 0.0  # the automatic answer, before either reviewer
    assert found["total_mean_abs_difference"] == pytest.approx(45.0)


def test_a_reviewer_holds_one_review_at_a_time_and_gets_it_back_when_asking_again() -> None:
    reviews, clock = queue()
    for contact in ("c-1", "c-2", "c-3"):
        reviews.enqueue(contact, ("automatic_fail",))
    first = reviews.claim_next("ann")
    assert first is not None
    for _ in range(2):  # a second click, an answer lost on the way
        again = reviews.claim_next("ann")
        assert again is not None and again.contact_id == first.contact_id
    assert sum(r.reviewer == "ann" for r in reviews.reviews.reviews.values()) == 1
    reviews.change(first.contact_id, "ann", lambda r: submit(r, "ann", clock.now()))
    after = reviews.claim_next("ann")  # submitted: the next one
    assert after is not None and after.contact_id != first.contact_id
