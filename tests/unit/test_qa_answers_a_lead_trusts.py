"""Automatic answers a QA lead would give (issue 21): the documented chat format read, silence and
missing data never scored as a fail or a pass, time windows from 0:00, negation, a sentence
sent in two messages, values between bands, and evidence that points at the right characters
whatever the alphabet."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.qa.analysis import Conversation, Role, Turn, read_analysis
from chalicelib.qa.model import (
    Metric,
    Option,
    PhraseRule,
    Question,
    QuestionType,
    Range,
    Rubric,
    ScoringMode,
    Section,
    SentimentRule,
    score,
)
from devkit.local_aws import ROOT

CHAT = ROOT / "tests" / "fixtures" / "contact-lens" / "chat.json"
YES, NO = Option("yes", "Yes", 10), Option("no", "No", 0, automatic_fail=True)


def chat(document: dict | None = None) -> Conversation:
    text = CHAT.read_text() if document is None else json.dumps(document)
    return read_analysis(text, "chat.json", "contact-chat")


def said(phrases: tuple[str, ...], by: Role | None = Role.AGENT, **scope: int) -> Question:
    """'Did the agent say it?': yes when said, else the default no (an automatic fail)."""
    rule = PhraseRule(phrases, by, True, "yes", **scope)
    return Question("q", "Said it?", QuestionType.SINGLESELECT, 100, False, (YES, NO), (),
                    (rule,), "no")  # fmt: skip


def one_question(question: Question) -> Rubric:
    section = Section("s", "Section", 100, (question,))
    return Rubric("test", 1, ScoringMode.QUESTION_ONLY, (section,))


def call(*turns: tuple[Role, str, int], duration_ms: int = 0) -> Conversation:
    return Conversation(
        "contact-1",
        "VOICE",
        False,
        "en-US",
        tuple(
            Turn(f"t-{i}", role, text, begin, begin + 3000)
            for i, (role, text, begin) in enumerate(turns)
        ),
        duration_ms=duration_ms,
    )


def answer_of(question: Question, conversation: Conversation):
    card = score(one_question(question), conversation)
    return card, card.answers[0]


# -- the documented chat file --------------------------------------------------------------------


def test_a_chat_file_in_the_documented_format_is_read_without_its_events() -> None:
    conversation = chat()
    assert conversation.channel == "CHAT"
    assert "e-1" not in {turn.id for turn in conversation.turns}  # "participant joined"


def test_the_chat_customers_closing_sentiment_is_read_where_contact_lens_writes_it() -> None:
    document = json.loads(CHAT.read_text())
    sentiment = document["ConversationCharacteristics"]["Sentiment"]
    shift = sentiment["SentimentShift"]["DetailsByInteraction"]["DetailsByParticipantRole"]
    shift["CUSTOMER"]["WithAgent"]["EndScore"] = -3.4
    assert chat(document).closing_sentiment == -3.4  # where the chat with the agent ended
    del sentiment["SentimentShift"]
    assert chat(document).closing_sentiment == -2.6  # the part with the agent, overall
    del sentiment["OverallSentiment"]["DetailsByInteraction"]
    assert chat(document).closing_sentiment is None


def test_an_upset_chat_customer_is_flagged() -> None:
    rule = SentimentRule(-2.0, "no")
    ending = Question("ending", "Left happy?", QuestionType.SINGLESELECT, 100, False,
                      (YES, NO), (), (rule,), "yes")  # fmt: skip
    card, answer = answer_of(ending, chat())
    assert answer.value == "no" and "negative_ending" in card.flags


# -- silence and missing data ----------------------------------------------------------------------


def test_an_empty_transcript_is_no_fail_it_goes_to_a_human() -> None:
    card, answer = answer_of(said(("thank you for calling",)), call())
    assert answer.value is None and not answer.automatic_fail
    assert card.total is None and not card.automatic_fail
    assert card.needs_review == ("q",) and "undecided" in card.flags


def test_an_agent_who_said_nothing_is_not_judged_on_what_they_did_not_say() -> None:
    customer_only = call((Role.CUSTOMER, "Hello? Is anyone there?", 0))
    _, answer = answer_of(said(("thank you for calling",)), customer_only)
    assert answer.value is None


def test_a_missing_sentiment_is_never_the_default_answer() -> None:
    rule = SentimentRule(-2.0, "no")
    ending = Question("ending", "Left happy?", QuestionType.SINGLESELECT, 100, False,
                      (YES, NO), (), (rule,), "yes")  # fmt: skip
    upset = replace(call((Role.AGENT, "Goodbye.", 0)), sentiment={Role.CUSTOMER: -3.4})
    card, answer = answer_of(ending, upset)
    assert answer.value is None and card.total is None  # not 100
    assert {"undecided", "negative_ending"} <= set(card.flags)


def test_a_value_between_the_bands_goes_to_a_human_and_never_drops_out() -> None:
    bands = (Range(-5, -1, 0), Range(1, 5, 10))
    sentiment = Question("s", "Sentiment", QuestionType.NUMERIC, 100, False, (), bands,
                         metric=Metric.OVERALL_CUSTOMER_SENTIMENT_SCORE)  # fmt: skip
    greeting = call((Role.AGENT, "Hello.", 0))
    assert answer_of(sentiment, replace(greeting, sentiment={Role.CUSTOMER: 2.0}))[1].score == 10
    card, answer = answer_of(sentiment, replace(greeting, sentiment={Role.CUSTOMER: 0.5}))
    assert answer.value == 0.5 and answer.score is None
    assert card.needs_review == ("s",) and "undecided" in card.flags
    assert "none of the question's bands" in answer.evidence[-1].detail


# -- what was said, where -------------------------------------------------------------------------


def test_a_time_window_counts_from_the_start_of_the_contact() -> None:
    """40 s of silence, then the disclosure at 1:32: not within the first 90 seconds."""
    disclosure = said(("this call is recorded",), first_seconds=90)
    late = call((Role.AGENT, "Hello.", 40_000), (Role.AGENT, "This call is recorded.", 92_000))
    assert answer_of(disclosure, late)[1].value == "no"
    early = call((Role.AGENT, "This call is recorded.", 85_000))
    assert answer_of(disclosure, early)[1].value == "yes"


def test_the_last_seconds_count_back_from_the_end_of_the_contact() -> None:
    closing = said(("anything else",), last_seconds=30)
    conversation = call((Role.AGENT, "Anything else?", 100_000), duration_ms=200_000)
    assert answer_of(closing, conversation)[1].value == "no"  # 97 s before the end


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("We will sue you if you do not pay.", True),
        ("No one is going to sue you.", False),
        ("We won't sue you, I promise.", False),
        ("We will never sue you.", False),
        ("I'm not sure. But we will sue you.", True),  # the negation is in another clause
    ],
)
def test_a_negated_phrase_is_not_said(text: str, counts: bool) -> None:
    threat = said(("sue you",))
    assert (answer_of(threat, call((Role.AGENT, text, 0)))[1].value == "yes") is counts


def test_a_phrase_split_across_two_messages_of_the_agent_is_found() -> None:
    split = call((Role.AGENT, "This call may be", 0), (Role.AGENT, "recorded for quality.", 2000))
    _, answer = answer_of(said(("may be recorded",)), split)
    assert answer.value == "yes"
    (evidence,) = answer.evidence
    assert (evidence.turn_id, evidence.begin_char, evidence.end_char) == ("t-0", 10, 16)
    interrupted = call(
        (Role.AGENT, "This call may be", 0),
        (Role.CUSTOMER, "Sorry?", 1000),
        (Role.AGENT, "recorded for quality.", 2000),
    )
    assert answer_of(said(("may be recorded",)), interrupted)[1].value == "no"


@pytest.mark.parametrize("prefix", ["Straße 5: ", "İstanbul: ", "ǰ ﬁ ", ""])
def test_evidence_points_at_the_phrase_whatever_the_alphabet_before_it(prefix: str) -> None:
    text = f"{prefix}Thank you for calling."
    _, answer = answer_of(said(("thank you for calling",)), call((Role.AGENT, text, 0)))
    (evidence,) = answer.evidence
    assert text[evidence.begin_char : evidence.end_char] == "Thank you for calling"


@given(
    before=st.text(max_size=20).filter(lambda t: not t or not t[-1].isalnum()),
    after=st.sampled_from(["", ".", " and welcome."]),
)
def test_evidence_always_spans_the_words_found(before: str, after: str) -> None:
    text = f"{before}thank you{after}"
    conversation = call((Role.AGENT, text, 0))
    _, answer = answer_of(said(("thank you",)), conversation)
    if answer.value == "yes":  # unless the text before negates it ("no thank you")
        (evidence,) = answer.evidence
        assert text[evidence.begin_char : evidence.end_char].casefold() == "thank you"
