"""The callback state machine, exhaustively, and calling hours across time zones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from chalicelib.callbacks import model as m
from chalicelib.callbacks.model import Outcome, Policy, Status, TransitionError
from chalicelib.outbound.service import Recovered, StillGoing, lease_ended, settled

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York
POLICY = Policy()
RULES = m.Rules(POLICY)
NY = ("America/New_York",)


def fresh(**changes) -> m.Callback:
    callback = m.new_callback("cb-1", "+14155550101", "billing", NOW, NY, POLICY)
    return replace(callback, **changes)


def test_every_disallowed_transition_raises_and_every_allowed_one_is_reachable() -> None:
    for source in Status:
        for target in Status:
            callback = fresh(status=source)
            if target in m.TRANSITIONS[source]:
                assert m._move(callback, target, NOW, "test").status is target
            else:
                with pytest.raises(TransitionError):
                    m._move(callback, target, NOW, "test")
    assert all(not m.TRANSITIONS[s] for s in m.FINAL)


def test_claim_takes_the_next_attempt_with_its_own_token_and_lease() -> None:
    dialing = m.claim(fresh(), NOW, POLICY)
    assert (dialing.status, dialing.attempt.ordinal, dialing.attempt.token) == (
        Status.DIALING,
        1,
        "cb-1-1",
    )
    assert dialing.attempt.lease_until == NOW + POLICY.placement  # short: until Connect answers
    with pytest.raises(TransitionError):
        m.claim(dialing, NOW, POLICY)  # a second worker cannot claim it again
    dialled = m.record_dial(dialing, "out-1", NOW + timedelta(seconds=2), POLICY)
    assert dialled.attempt.contact_id == "out-1"
    assert (
        dialled.attempt.lease_until == NOW + timedelta(seconds=2) + POLICY.lease
    )  # the call's length


def test_a_callback_is_not_claimed_before_its_slot_or_after_its_window() -> None:
    later = m.new_callback(
        "cb-2", "+14155550101", "billing", NOW, NY, POLICY, due_at=NOW + timedelta(hours=2)
    )
    with pytest.raises(TransitionError):
        m.claim(later, NOW, POLICY)
    assert m.claim(later, NOW + timedelta(hours=2), POLICY).status is Status.DIALING
    with pytest.raises(TransitionError):
        m.claim(fresh(), NOW + POLICY.window, POLICY)


def test_connected_completes_and_declined_cancels() -> None:
    dialing = m.claim(fresh(), NOW, POLICY)
    assert m.record_outcome(dialing, Outcome.CONNECTED, NOW, POLICY).status is Status.COMPLETED
    assert m.record_outcome(dialing, Outcome.DECLINED, NOW, POLICY).status is Status.CANCELLED


@pytest.mark.parametrize(
    "outcome", [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.VOICEMAIL, Outcome.DIAL_FAILED]
)
def test_no_answer_retries_with_backoff_until_attempts_run_out(outcome) -> None:
    callback, now = fresh(), NOW
    for attempt in range(1, POLICY.max_attempts + 1):
        callback = m.record_outcome(m.claim(callback, now, POLICY), outcome, now, POLICY)
        if attempt < POLICY.max_attempts:
            assert callback.status is Status.RETRY_WAIT
            assert callback.due_at == now + POLICY.backoff(attempt)
            now = callback.due_at
    assert callback.status is Status.FAILED and callback.attempt.ordinal == POLICY.max_attempts


def test_a_retry_that_would_fall_outside_the_window_fails_instead() -> None:
    callback = fresh(expires_at=NOW + timedelta(minutes=2))
    failed = m.record_outcome(m.claim(callback, NOW, POLICY), Outcome.BUSY, NOW, POLICY)
    assert failed.status is Status.FAILED


def test_a_number_that_cannot_take_a_call_fails_at_once() -> None:
    dialing = m.claim(fresh(), NOW, POLICY)
    failed = m.record_outcome(dialing, Outcome.UNREACHABLE, NOW, POLICY)
    assert failed.status is Status.FAILED and failed.attempt.ordinal == 1


def test_a_call_connect_did_not_place_is_retried_as_the_same_attempt() -> None:
    dialing = m.claim(fresh(), NOW, POLICY)
    waiting = m.not_placed(dialing, NOW, POLICY, "throttled")
    assert (waiting.status, waiting.attempt.same_again) == (Status.RETRY_WAIT, True)
    again = m.claim(waiting, waiting.due_at, POLICY)
    assert (again.attempt.ordinal, again.attempt.token) == (1, "cb-1-1")


def test_lost_lease_goes_to_unknown_and_is_reconciled_never_redialled() -> None:
    dialing = m.claim(fresh(), NOW, POLICY)
    with pytest.raises(TransitionError):
        lease_ended(dialing, NOW, RULES)
    unknown = lease_ended(dialing, NOW + POLICY.placement, RULES)
    assert unknown.status is Status.UNKNOWN
    assert unknown.attempt.lease_until == NOW + POLICY.placement  # found by the next reconciliation
    with pytest.raises(TransitionError):
        m.claim(unknown, NOW + POLICY.lease, POLICY)
    assert settled(unknown, StillGoing(), NOW, RULES, POLICY).status is Status.DIALING
    assert m.record_outcome(unknown, Outcome.CONNECTED, NOW, POLICY).status is Status.COMPLETED
    lost = m.reconcile_lost(unknown, NOW, POLICY)
    assert (lost.status, lost.attempt.ordinal) == (Status.RETRY_WAIT, 1)
    assert m.claim(lost, lost.due_at, POLICY).attempt.ordinal == 2  # a new attempt, a new token


def test_a_search_recovers_the_contact_of_the_same_attempt() -> None:
    unknown = lease_ended(m.claim(fresh(), NOW, POLICY), NOW + POLICY.placement, RULES)
    later = NOW + timedelta(minutes=1)
    recovered = settled(unknown, Recovered("out-1"), later, RULES, POLICY)
    assert (recovered.status, recovered.attempt.contact_id) == (Status.DIALING, "out-1")
    assert (recovered.attempt.ordinal, recovered.attempt.token) == (1, "cb-1-1")
    assert recovered.attempt.lease_until == later + POLICY.lease
    with pytest.raises(TransitionError):
        settled(recovered, Recovered("out-1"), later, RULES, POLICY)


def test_an_outcome_that_cannot_be_learned_is_looked_at_again_never_stranded() -> None:
    unknown = lease_ended(m.claim(fresh(), NOW, POLICY), NOW + POLICY.placement, RULES)
    later = NOW + timedelta(minutes=1)
    again = m.look_again(unknown, later, POLICY, "throttled")
    assert (
        again.status is Status.UNKNOWN
        and again.attempt.lease_until == later + POLICY.look_again_after
    )
    assert again.history[-1].reason == "throttled"
    ended = m.look_again(again, again.expires_at, POLICY, "throttled")
    assert ended.status is Status.FAILED and ended.final
    with pytest.raises(TransitionError):
        m.look_again(m.claim(fresh(), NOW, POLICY), NOW, POLICY, "not unknown")


def test_an_unknown_callback_can_be_cancelled() -> None:
    unknown = lease_ended(m.claim(fresh(), NOW, POLICY), NOW + POLICY.placement, RULES)
    assert m.cancel(unknown, NOW).status is Status.CANCELLED


def test_cancel_and_expire() -> None:
    assert m.cancel(fresh(), NOW).status is Status.CANCELLED
    with pytest.raises(TransitionError):
        m.cancel(m.cancel(fresh(), NOW), NOW)
    with pytest.raises(TransitionError):
        m.expire(fresh(), NOW)
    assert m.expire(fresh(), NOW + POLICY.window).status is Status.EXPIRED


def test_history_records_each_transition() -> None:
    done = m.record_outcome(m.claim(fresh(), NOW, POLICY), Outcome.CONNECTED, NOW, POLICY)
    assert [t.status for t in done.history] == [Status.QUEUED, Status.DIALING, Status.COMPLETED]


@pytest.mark.parametrize(
    ("utc", "zones", "lawful"),
    [
        (datetime(2026, 11, 24, 13, 0), NY, True),  # 08:00 in New York
        (datetime(2026, 11, 24, 12, 59), NY, False),
        (datetime(2026, 11, 25, 1, 59), NY, True),  # 20:59
        (datetime(2026, 11, 25, 2, 0), NY, False),  # 21:00
        (datetime(2026, 7, 1, 12, 30), NY, True),  # 08:30 EDT in summer
        (datetime(2026, 11, 24, 15, 30), ("America/New_York", "America/Los_Angeles"), False),
        (datetime(2026, 11, 24, 17, 0), ("America/New_York", "America/Los_Angeles"), True),
        (datetime(2026, 11, 24, 15, 0), (), False),
    ],
)
def test_calling_hours_hold_in_every_zone_of_the_number(utc, zones, lawful) -> None:
    assert m.lawful_at(utc.replace(tzinfo=UTC), zones, POLICY.calling_hours) is lawful


def test_next_lawful_time_is_the_next_morning() -> None:
    late = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 22:00 in New York
    assert m.next_lawful(late, NY, POLICY.calling_hours) == datetime(
        2026, 11, 25, 13, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        m.next_lawful(late, NY, (time(9), time(9)))


def test_standing_reads_out_position_and_eta() -> None:
    standing = m.Standing(fresh(), 4, m.eta_minutes(4, NOW, NOW, 300, 2), existing=True)
    attributes = standing.attributes()
    assert attributes["callback_position"] == "4" and attributes["callback_eta_minutes"] == "10"
    assert attributes["callback_existing"] == "true"
    later = m.eta_minutes(1, NOW + timedelta(hours=3), NOW, 300, 2)
    assert later == 180


@pytest.mark.parametrize(
    ("agent", "reason", "amd", "outcome"),
    [
        ("2026-11-24T15:01:00Z", "CUSTOMER_DISCONNECT", "", Outcome.CONNECTED),
        ("2026-11-24T15:01:00Z", "AGENT_DISCONNECT", "HUMAN_ANSWERED", Outcome.CONNECTED),
        (None, "CUSTOMER_DISCONNECT", "", Outcome.NO_ANSWER),
        (None, "CONTACT_FLOW_DISCONNECT", "", Outcome.NO_ANSWER),
        (None, "CUSTOMER_CONNECTION_NOT_ESTABLISHED", "", Outcome.NO_ANSWER),
        (None, "", "", Outcome.NO_ANSWER),
        (None, "OUTBOUND_DESTINATION_ENDPOINT_ERROR", "", Outcome.DIAL_FAILED),
        (None, "OUTBOUND_RESOURCE_ERROR", "", Outcome.DIAL_FAILED),
        (None, "OUTBOUND_ATTEMPT_FAILED", "", Outcome.DIAL_FAILED),
        (None, "TELECOM_PROBLEM", "", Outcome.DIAL_FAILED),
        (None, "EXPIRED", "", Outcome.DIAL_FAILED),
        (None, "CUSTOMER_DISCONNECT", "VOICEMAIL_BEEP", Outcome.VOICEMAIL),
        (None, "CUSTOMER_DISCONNECT", "VOICEMAIL_NO_BEEP", Outcome.VOICEMAIL),
        (None, "OTHER", "SIT_TONE_BUSY", Outcome.BUSY),
        (None, "OTHER", "SIT_TONE_INVALID_NUMBER", Outcome.UNREACHABLE),
        (None, "OTHER", "FAX_MACHINE_DETECTED", Outcome.UNREACHABLE),
        (None, "CUSTOMER_DISCONNECT", "AMD_UNANSWERED", Outcome.NO_ANSWER),
        (None, "CUSTOMER_DISCONNECT", "AMD_NOT_APPLICABLE", Outcome.NO_ANSWER),
    ],
)
def test_an_ended_contact_is_read_from_connects_own_reason_and_amd_values(
    agent, reason, amd, outcome
) -> None:
    assert m.ended_outcome(agent, reason, amd) is outcome


def test_every_outcome_is_produced_by_some_real_contact() -> None:
    """No outcome the state machine handles is unreachable from Connect's values (the flow's
    press-2 produces DECLINED)."""
    reasons = ["CUSTOMER_DISCONNECT", "TELECOM_PROBLEM"]
    statuses = ["", "VOICEMAIL_BEEP", "SIT_TONE_BUSY", "SIT_TONE_INVALID_NUMBER"]
    produced = {m.ended_outcome(a, r, s) for a in (None, "x") for r in reasons for s in statuses}
    assert produced | {Outcome.DECLINED} == set(Outcome)
