"""After-call QA, pure: analysis files in every documented format (and broken ones), rubrics
checked item by item, automatic answers with their evidence, and the scoring rules as
properties: weights, N/A re-normalisation, automatic fail, section mode."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.qa.analysis import AnalysisError, Role, read_analysis
from chalicelib.qa.model import (
    Answer,
    Question,
    QuestionType,
    Rubric,
    ScoringMode,
    Section,
    score,
    total_of,
)
from chalicelib.qa.schema import RubricError, read_rubric
from devkit.cli import main
from devkit.local_aws import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "contact-lens"
RUBRICS = ROOT / "rubrics"


def analysis(name: str):
    path = FIXTURES / f"{name}.json"
    return read_analysis(path.read_bytes(), str(path), f"contact-{name}")


def rubric(name: str) -> Rubric:
    return read_rubric(json.loads((RUBRICS / f"{name}.json").read_text()))


# -- the files ------------------------------------------------------------------------------------


def test_a_voice_file_is_read_with_its_roles_categories_and_measures() -> None:
    call = analysis("voice-raw")
    assert (call.channel, call.redacted, len(call.turns)) == ("VOICE", False, 10)
    assert call.turns[0].role is Role.AGENT and call.turns[1].role is Role.CUSTOMER
    assert set(call.categories) == {"IdentityVerified", "SavingsQuestion"}
    assert call.categories["SavingsQuestion"] == ()  # matched the whole contact
    assert (call.interruptions, call.non_talk_ms, call.closing_sentiment) == (1, 2400, 3.5)
    assert call.talk_speed[Role.AGENT] == 152


def test_the_redacted_twin_scores_the_same_as_the_raw_file() -> None:
    bank = rubric("bank-service")
    raw, redacted = score(bank, analysis("voice-raw")), score(bank, analysis("voice-redacted"))
    assert analysis("voice-redacted").redacted
    assert [(a.question, a.value, a.score) for a in raw.answers] == [
        (a.question, a.value, a.score) for a in redacted.answers
    ]
    assert raw.total == redacted.total == 100.0


def test_a_chat_file_has_message_times_and_character_offsets() -> None:
    chat = analysis("chat")
    assert chat.channel == "CHAT" and chat.turns[0].role is Role.SYSTEM
    assert [t.begin_ms for t in chat.turns][:3] == [0, 19_000, 40_000]
    (match,) = chat.categories["PaymentPlan"]
    assert (match.turn_id, match.begin_char, match.end_char) == ("m-5", 0, 38)
    assert chat.closing_sentiment == -2.6  # the customer, with the agent
    assert chat.non_talk_ms is None  # not measured in a chat


@pytest.mark.parametrize(
    ("name", "where", "reason"),
    [
        ("malformed-truncated", "line 182, column 13", "the file ends early (truncated)"),
        ("malformed-extra-brace", "line 52, column 1", "a stray brace or bracket"),
        ("malformed-version", "$.Version", "'9.0.0' is not one we read"),
        ("malformed-no-transcript", "$.Transcript", "holds no transcript"),
        ("malformed-turn-offset", "$.Transcript[3].BeginOffsetMillis", "expected a number"),
    ],
)
def test_a_file_that_cannot_be_scored_says_where_and_why(name, where, reason) -> None:
    with pytest.raises(AnalysisError) as error:
        analysis(name)
    assert error.value.where == where and reason in error.value.reason
    assert name in error.value.source


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"[]", b"null", b'{"Version": "1.1.0"'])
def test_anything_else_is_an_analysis_error_too(data: bytes) -> None:
    with pytest.raises(AnalysisError):
        read_analysis(data, "x.json")


# -- rubrics --------------------------------------------------------------------------------------


def test_the_sample_rubrics_are_good() -> None:
    for path in sorted(RUBRICS.glob("*.json")):
        assert read_rubric(json.loads(path.read_text())).questions()


def _broken(change) -> list[str]:
    document = json.loads((RUBRICS / "bank-service.json").read_text())
    change(document)
    with pytest.raises(RubricError) as error:
        read_rubric(document)
    return list(error.value.problems)


def _question(document, section: int, item: int):
    return document["Items"][section]["Section"]["Items"][item]["Question"]


def test_rubric_problems_name_their_item() -> None:
    def weights(d):
        d["Items"][0]["Section"]["Weight"] = 25

    def unknown_option(d):
        automation = _question(d, 0, 0)["QuestionTypeProperties"]["SingleSelect"]["Automation"]
        automation["DefaultOptionRefId"] = "maybe"

    def duplicate(d):
        _question(d, 0, 1)["RefId"] = "greeting"

    def text_weight(d):
        _question(d, 3, 2)["Weight"] = 5

    def typo(d):
        _question(d, 1, 0)["Wieght"] = 5

    def overlap(d):
        _question(d, 2, 1)["QuestionTypeProperties"]["Numeric"]["Options"][1]["MinValue"] = 1

    assert _broken(weights) == ["section weights add up to 105, not 100 (SECTION_ONLY)"]
    assert _broken(unknown_option) == [
        "greeting: automation names option 'maybe', which the question does not have"
    ]
    assert "greeting: RefId used twice" in _broken(duplicate)
    assert _broken(text_weight)[0].startswith("notes: a TEXT question is not scored")
    assert _broken(typo) == ["Items[1].Section.Items[0].Question: unknown keys Wieght"]
    assert _broken(overlap) == ["interruptions: ranges 0-2 and 1-5 overlap"]


# -- automatic answers and their evidence ---------------------------------------------------------


def test_every_automatic_answer_points_at_its_evidence() -> None:
    call = analysis("voice-raw")
    card = score(rubric("bank-service"), call)
    by_id = {turn.id: turn for turn in call.turns}
    greeting = next(a for a in card.answers if a.question == "greeting")
    (said,) = greeting.evidence
    turn = by_id[said.turn_id]
    assert turn.content[said.begin_char : said.end_char].casefold() == "thank you for calling"
    interruptions = next(a for a in card.answers if a.question == "interruptions")
    assert interruptions.evidence[0].detail == "NUMBER_OF_INTERRUPTIONS = 1"


def test_a_failing_collections_chat_is_flagged_for_review_with_its_reasons() -> None:
    card = score(rubric("collections"), analysis("chat"))
    assert card.total == 0.0 and card.automatic_fail
    assert {"missing_disclosure", "forbidden_phrase", "negative_ending"} <= set(card.flags)
    threat = next(a for a in card.answers if a.question == "no-threats")
    assert threat.evidence[0].turn_id == "m-4" and "sue you" in threat.evidence[0].detail
    silence = next(a for a in card.answers if a.question == "silence")
    assert silence.not_applicable  # a chat has no silence to measure: it does not apply
    assert card.needs_review == () and "undecided" not in card.flags


def test_an_unhappy_ending_asks_for_a_callback() -> None:
    call = replace(analysis("voice-raw"), closing_sentiment=-3.0)
    card = score(rubric("bank-service"), call)
    assert card.call_back == ("customer-ending",) and "negative_ending" in card.flags


def _greeting(call) -> str | float | None:
    card = score(rubric("bank-service"), call)
    return next(a for a in card.answers if a.question == "greeting").value


def test_phrases_are_whole_words_and_scoped_to_the_speaker_and_the_time() -> None:
    call = analysis("voice-raw")
    first, rest = call.turns[0], call.turns[1:]
    assert _greeting(call) == "yes"
    late = replace(first, begin_ms=40_000, end_ms=45_000)  # after the first 30 seconds
    assert _greeting(replace(call, turns=(late, *rest))) == "no"
    by_customer = replace(first, role=Role.CUSTOMER)
    assert _greeting(replace(call, turns=(by_customer, *rest))) == "no"
    inside_a_word = replace(first, content="Othank you for callingness, this is Dana.")
    assert _greeting(replace(call, turns=(inside_a_word, *rest))) == "no"


def test_scoring_is_deterministic() -> None:
    bank, call = rubric("bank-service"), analysis("voice-raw")
    assert score(bank, call) == score(bank, call)


# -- the scoring rules, as properties -------------------------------------------------------------


@st.composite
def rubrics_and_answers(draw, mode: ScoringMode | None = None):
    chosen = mode or draw(st.sampled_from(list(ScoringMode)))
    sections = []
    answers: dict[str, Answer] = {}
    for s in range(draw(st.integers(1, 4))):
        questions = []
        for q in range(draw(st.integers(1, 5))):
            ref = f"q{s}-{q}"
            questions.append(
                Question(ref, ref, QuestionType.SINGLESELECT, draw(st.integers(1, 50)))
            )
            value = draw(st.one_of(st.none(), st.integers(0, 10)))
            answers[ref] = Answer(ref, None if value is None else "x", value, value is None)
        sections.append(Section(f"s{s}", f"s{s}", draw(st.integers(1, 50)), tuple(questions)))
    return Rubric("r", 1, chosen, tuple(sections)), answers


def _oracle(rubric: Rubric, answers: dict[str, Answer]) -> float | None:
    """The rules as docs/qa.md states them, written apart from the code."""

    def mean(pairs):
        weight = sum(w for w, _ in pairs)
        return None if not pairs else sum(w * s for w, s in pairs) / weight

    def scored(questions):
        return [(q.weight, answers[q.ref_id].score / 10) for q in questions
                if answers[q.ref_id].score is not None]  # fmt: skip

    if rubric.mode is ScoringMode.QUESTION_ONLY:
        total = mean(scored(rubric.questions()))
    else:
        per_section = [(s.weight, mean(scored(s.questions))) for s in rubric.sections]
        total = mean([(w, v) for w, v in per_section if v is not None])
    return None if total is None else round(100 * total, 2)


@settings(max_examples=300, deadline=None)
@given(rubrics_and_answers())
def test_the_total_is_the_weighted_mean_the_docs_describe(case) -> None:
    rubric, answers = case
    total, _ = total_of(rubric, answers)
    assert total == pytest.approx(_oracle(rubric, answers), abs=0.011)
    assert total is None or 0 <= total <= 100


@settings(max_examples=200, deadline=None)
@given(rubrics_and_answers(), st.data())
def test_not_applicable_is_the_same_as_leaving_the_question_out(case, data) -> None:
    rubric, answers = case
    ref = data.draw(st.sampled_from(sorted(answers)))
    not_applicable = {**answers, ref: Answer(ref, None, None, True)}
    without = replace(rubric, sections=tuple(
        replace(s, questions=tuple(q for q in s.questions if q.ref_id != ref))
        for s in rubric.sections
    ))  # fmt: skip
    assert total_of(rubric, not_applicable)[0] == total_of(without, not_applicable)[0]


@settings(max_examples=200, deadline=None)
@given(rubrics_and_answers(ScoringMode.SECTION_ONLY), st.integers(2, 7))
def test_in_section_mode_only_proportions_within_a_section_count(case, factor) -> None:
    rubric, answers = case
    scaled = replace(rubric, sections=(
        replace(rubric.sections[0], questions=tuple(
            replace(q, weight=q.weight * factor) for q in rubric.sections[0].questions)),
        *rubric.sections[1:],
    ))  # fmt: skip
    assert total_of(scaled, answers)[0] == pytest.approx(total_of(rubric, answers)[0], abs=0.011)


@settings(max_examples=200, deadline=None)
@given(rubrics_and_answers(), st.data())
def test_a_better_answer_never_lowers_the_total(case, data) -> None:
    rubric, answers = case
    scored = sorted(r for r, a in answers.items() if a.score is not None and a.score < 10)
    if not scored:
        return
    ref = data.draw(st.sampled_from(scored))
    better = {**answers, ref: replace(answers[ref], score=answers[ref].score + 1)}
    assert total_of(rubric, better)[0] >= total_of(rubric, answers)[0]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10), st.booleans())
def test_an_automatic_fail_makes_the_total_zero_whatever_else(interruptions, fail) -> None:
    from chalicelib.qa.model import scorecard

    bank, call = rubric("bank-service"), analysis("voice-raw")
    answers = {a.question: a for a in score(bank, call).answers}
    answers["interruptions"] = replace(answers["interruptions"], score=interruptions)
    if fail:
        answers["identity-check"] = replace(answers["identity-check"], automatic_fail=True)
    card = scorecard(bank, call, answers)
    assert card.automatic_fail is fail
    assert card.total == (0.0 if fail else total_of(bank, answers)[0])


# -- the command line -----------------------------------------------------------------------------


def test_qa_score_prints_the_scorecard_and_exits_0() -> None:
    run = CliRunner().invoke(
        main,
        [
            "qa",
            "score",
            str(FIXTURES / "voice-raw.json"),
            "--rubric",
            str(RUBRICS / "bank-service.json"),
        ],
    )
    assert run.exit_code == 0, run.output
    card = json.loads(run.output)
    assert card["total"] == 100.0 and card["answers"][0]["evidence"][0]["turn_id"] == "turn-001"


def test_qa_score_exits_2_naming_the_problem_in_a_broken_file() -> None:
    run = CliRunner().invoke(
        main,
        ["qa", "score", str(FIXTURES / "malformed-truncated.json"),
         "--rubric", str(RUBRICS / "bank-service.json")],
    )  # fmt: skip
    assert run.exit_code == 2
    assert "line 182, column 13: the file ends early (truncated)" in run.output


def test_qa_rubric_check_exits_2_naming_the_item(tmp_path: Path) -> None:
    good = CliRunner().invoke(
        main, ["qa", "rubric", "check", *map(str, sorted(RUBRICS.glob("*.json")))]
    )
    assert good.exit_code == 0 and "bank-service v1" in good.output
    document = json.loads((RUBRICS / "collections.json").read_text())
    _question(document, 0, 1)["Weight"] = 10
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    run = CliRunner().invoke(main, ["qa", "rubric", "check", str(broken)])
    assert run.exit_code == 2 and "question weights add up to 70, not 100" in run.output
