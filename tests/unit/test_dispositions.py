"""What became of a campaign attempt, and what comes next: the campaign's retry rule per
disposition, its attempt limit, and no retry once a person is reached or says no."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.dialer.model import (
    DEFAULT_RETRY,
    Disposition,
    RetryRule,
    disposition_of,
    next_step,
)
from chalicelib.dialer.schema import CampaignError, read_campaign, retry_rules
from chalicelib.outbound.model import Outcome, ended_outcome

ENDED = datetime(2026, 12, 1, 15, tzinfo=UTC)
CARD = read_campaign(
    json.loads((Path(__file__).parents[2] / "campaigns" / "card-upgrade.json").read_text())
)


@pytest.mark.parametrize(
    ("connected", "reason", "amd", "agent", "disposition"),
    [
        (True, "AGENT_DISCONNECT", "", "", Disposition.CONNECTED),
        (True, "AGENT_DISCONNECT", "", "wrong_party", Disposition.WRONG_PARTY),
        (False, "CUSTOMER_DISCONNECT", "", "", Disposition.NO_ANSWER),
        (False, "OUTBOUND_ATTEMPT_FAILED", "", "", Disposition.FAILED),
        (False, "CUSTOMER_DISCONNECT", "VOICEMAIL_BEEP", "", Disposition.VOICEMAIL),
    ],
)
def test_connects_own_values_become_the_campaigns_dispositions(
    connected, reason, amd, agent, disposition
):
    assert disposition_of(ended_outcome(connected, reason, amd), agent) is disposition


def test_every_outcome_of_the_outbound_core_has_a_disposition() -> None:
    assert {disposition_of(outcome) for outcome in Outcome} <= set(Disposition)


def test_the_campaigns_rule_decides_when_to_retry_and_its_limit_when_to_stop() -> None:
    rules = retry_rules(CARD)  # busy after 20 min, no answer after 180 min, 3 attempts
    busy = next_step(Disposition.BUSY, 1, CARD.max_attempts, rules, ENDED)
    assert (busy.final, busy.at) == (False, ENDED + timedelta(minutes=20))
    quiet = next_step(Disposition.NO_ANSWER, 2, CARD.max_attempts, rules, ENDED)
    assert quiet.at == ENDED + timedelta(minutes=180)
    last = next_step(Disposition.NO_ANSWER, 3, CARD.max_attempts, rules, ENDED)
    assert (last.final, last.reason) == (True, "no_answer: 3 attempts used")


@pytest.mark.parametrize(
    "disposition",
    [
        Disposition.CONNECTED,
        Disposition.DECLINED,
        Disposition.WRONG_PARTY,
        Disposition.INVALID_NUMBER,
        Disposition.SIT_TONE,
    ],
)
def test_a_reached_person_a_no_or_a_dead_number_is_never_retried(disposition) -> None:
    eager = {disposition: RetryRule(after=timedelta(minutes=1))}  # whatever a campaign says
    assert next_step(disposition, 1, 10, eager, ENDED).final


def test_a_campaign_asking_to_retry_a_no_is_refused_naming_the_rule() -> None:
    raw = json.loads((Path(__file__).parents[2] / "campaigns" / "card-upgrade.json").read_text())
    raw["retry"]["declined"] = {"after_minutes": 60}
    with pytest.raises(CampaignError, match=r"retry\.declined: a declined call is never retried"):
        read_campaign(raw)


def test_a_campaign_may_stop_retrying_a_disposition_the_default_would_retry() -> None:
    survey = {**DEFAULT_RETRY, Disposition.VOICEMAIL: RetryRule(retry=False)}
    assert next_step(Disposition.VOICEMAIL, 1, 3, survey, ENDED).final
    assert not next_step(Disposition.VOICEMAIL, 1, 3, DEFAULT_RETRY, ENDED).final
