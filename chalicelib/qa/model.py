"""After-call QA, pure: a rubric in the shape of a Contact Lens evaluation form, answered
automatically from a conversation, and scored. Every automatic answer carries its evidence
(the turn and character offsets of a phrase, the category's match, or the metric's value), so
a reviewer sees why; scoring is deterministic.

Scoring follows Connect's evaluation forms: options and numeric ranges score 0-10; weights
are percentages; a question answered "not applicable" (or not answered) drops out and the
weights left are re-normalised; `QUESTION_ONLY` weighs questions across the form,
`SECTION_ONLY` weighs questions within each section and sections across the form; an option
marked automatic fail makes the total 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from chalicelib.qa.analysis import Conversation, Role, Turn


class QuestionType(Enum):
    SINGLESELECT = "SINGLESELECT"
    NUMERIC = "NUMERIC"
    TEXT = "TEXT"


class ScoringMode(Enum):
    QUESTION_ONLY = "QUESTION_ONLY"
    SECTION_ONLY = "SECTION_ONLY"


class Metric(Enum):
    """What a numeric question can be answered from (Connect's labels, and two of ours)."""

    OVERALL_CUSTOMER_SENTIMENT_SCORE = "OVERALL_CUSTOMER_SENTIMENT_SCORE"
    OVERALL_AGENT_SENTIMENT_SCORE = "OVERALL_AGENT_SENTIMENT_SCORE"
    NON_TALK_TIME = "NON_TALK_TIME"  # seconds
    NON_TALK_TIME_PERCENTAGE = "NON_TALK_TIME_PERCENTAGE"
    NUMBER_OF_INTERRUPTIONS = "NUMBER_OF_INTERRUPTIONS"
    CONTACT_DURATION = "CONTACT_DURATION"  # seconds
    AGENT_TALK_SPEED = "AGENT_TALK_SPEED"  # words a minute (ours)
    CLOSING_CUSTOMER_SENTIMENT = "CLOSING_CUSTOMER_SENTIMENT"  # the last quarter (ours)


# -- the rubric ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    ref_id: str
    text: str
    score: int  # 0-10
    automatic_fail: bool = False
    flag: str = ""  # a review flag this answer raises ("forbidden_phrase")


@dataclass(frozen=True)
class Range:
    min_value: float
    max_value: float  # inclusive
    score: int
    automatic_fail: bool = False
    flag: str = ""

    def holds(self, value: float) -> bool:
        return self.min_value <= value <= self.max_value


@dataclass(frozen=True)
class CategoryRule:
    """Contact Lens's own automation: a category matched (or not) selects an option."""

    category: str
    present: bool
    option: str


@dataclass(frozen=True)
class PhraseRule:
    """Any of `phrases` said (or never said) by `by`, within the first or last seconds."""

    phrases: tuple[str, ...]
    by: Role | None
    present: bool
    option: str
    first_seconds: int | None = None
    last_seconds: int | None = None


@dataclass(frozen=True)
class SentimentRule:
    """The customer's closing sentiment (-5..5) at most `at_most`: selects `option`."""

    at_most: float
    option: str


Rule = CategoryRule | PhraseRule | SentimentRule


@dataclass(frozen=True)
class Question:
    ref_id: str
    title: str
    kind: QuestionType
    weight: float = 0.0
    not_applicable_enabled: bool = False
    options: tuple[Option, ...] = ()
    ranges: tuple[Range, ...] = ()
    rules: tuple[Rule, ...] = ()  # in order: the first that holds answers
    default_option: str = ""  # when no rule holds ("" leaves it to a reviewer)
    not_applicable_unless: str = ""  # a category: without it, the question is N/A
    metric: Metric | None = None
    call_back_on_fail: bool = False  # a failing answer asks for an intervention callback

    def option(self, ref_id: str) -> Option:
        return next(o for o in self.options if o.ref_id == ref_id)


@dataclass(frozen=True)
class Section:
    ref_id: str
    title: str
    weight: float
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Rubric:
    name: str
    version: int
    mode: ScoringMode
    sections: tuple[Section, ...]
    flag_below: float = 70.0  # totals under this go to review
    flag_closing_sentiment_at_most: float = -2.0

    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)


# -- answers and their evidence -------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    kind: str  # "phrase", "category", "metric", "sentiment", "absent"
    detail: str
    turn_id: str = ""
    begin_char: int | None = None
    end_char: int | None = None
    begin_ms: int | None = None

    def as_dict(self) -> dict[str, object]:
        found = {
            "kind": self.kind,
            "detail": self.detail,
            "turn_id": self.turn_id,
            "begin_char": self.begin_char,
            "end_char": self.end_char,
            "begin_ms": self.begin_ms,
        }
        return {k: v for k, v in found.items() if v not in ("", None)}


@dataclass(frozen=True)
class Answer:
    question: str
    value: str | float | None  # an option's ref, a number; None: not answered
    score: int | None = None  # 0-10; None for text, N/A and unanswered
    not_applicable: bool = False
    automatic_fail: bool = False
    flag: str = ""
    evidence: tuple[Evidence, ...] = ()
    by: str = "automatic"  # or a reviewer's id


@dataclass(frozen=True)
class Scorecard:
    rubric: str
    rubric_version: int
    contact_id: str
    total: float | None  # 0-100; None when nothing could be scored
    automatic_fail: bool
    answers: tuple[Answer, ...]
    sections: Mapping[str, float | None] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    needs_review: tuple[str, ...] = ()  # questions no rule could answer
    partial: bool = False  # scored without a Contact Lens analysis
    call_back: tuple[str, ...] = ()  # questions whose failing answer asks for a callback


# -- answering ------------------------------------------------------------------------------------


class _Folded:
    """A turn's text case-folded for matching, with each folded character's position in the
    original: folding changes lengths ("ß" -> "ss", "İ" -> "i̇"), evidence must not shift."""

    def __init__(self, text: str) -> None:
        self.text = text.casefold()
        self.length = len(text)
        # Most text folds character for character: then positions are the same.
        self.origin: list[int] | None = None
        if len(self.text) != len(text):
            self.origin = [i for i, c in enumerate(text) for _ in c.casefold()]

    def span(self, begin: int, end: int) -> tuple[int, int]:
        """The original characters that folded characters [begin, end) come from."""
        if self.origin is None:
            return begin, end
        first = self.origin[begin] if begin < len(self.origin) else self.length
        return first, (self.origin[end - 1] + 1 if end > begin else first)


class _Transcript:
    """The conversation, indexed once for every question of a rubric. Time windows count
    from the start of the contact (0:00), not from its first words."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.folded = [_Folded(turn.content) for turn in conversation.turns]
        last_words = max((t.end_ms for t in conversation.turns), default=0)
        self.end = max(conversation.duration_ms, last_words)
        self.speakers = {t.role for t in conversation.turns if t.content.strip()}

    def speaks(self, by: Role | None) -> bool:
        """Whether anybody (or `by`) says anything at all: silence proves nothing."""
        return bool(self.speakers) if by is None else by in self.speakers

    def said(self, rule: PhraseRule) -> Evidence | None:
        """The first place one of the phrases is said, as a rule scopes it: whole words, not
        negated ("no one will arrest you" does not say "arrest you"), and across two turns
        in a row of the same speaker (a sentence the agent sent in two messages)."""
        turns = self.conversation.turns
        for index, turn in enumerate(turns):
            if not self._in_scope(turn, rule):
                continue
            following = self._continued(index)
            for phrase in rule.phrases:
                found = self._find_in(index, following, phrase.casefold())
                if found is not None:
                    begin, end = found
                    return Evidence(
                        "phrase",
                        f"{turn.role.value.lower()} said {phrase!r}",
                        turn.id,
                        begin,
                        end,
                        turn.begin_ms,
                    )
        return None

    def _continued(self, index: int) -> _Folded | None:
        """The next turn, when the same speaker says it right after this one."""
        turns = self.conversation.turns
        if index + 1 < len(turns) and turns[index + 1].role is turns[index].role:
            return self.folded[index + 1]
        return None

    def _find_in(
        self, index: int, following: _Folded | None, phrase: str
    ) -> tuple[int, int] | None:
        own = self.folded[index]
        text = own.text if following is None else f"{own.text} {following.text}"
        start = _find(text, phrase)
        if start is None or start >= len(own.text):
            return None  # found only in the next turn: found when that turn is searched
        return own.span(start, min(start + len(phrase), len(own.text)))

    def _in_scope(self, turn: Turn, rule: PhraseRule) -> bool:
        if rule.by is not None and turn.role is not rule.by:
            return False
        if rule.first_seconds is not None and turn.begin_ms > rule.first_seconds * 1000:
            return False
        return rule.last_seconds is None or turn.end_ms >= self.end - rule.last_seconds * 1000


_NEGATIONS = frozenset(
    {"no", "not", "never", "nobody", "none", "nothing", "neither", "nor", "cannot", "without"}
)
_NEGATION_REACH = 5  # words before a phrase that can negate it, within its clause
_CLAUSE_ENDS = ".,;:!?\n"


def _find(text: str, phrase: str) -> int | None:
    """The phrase as whole words ("hello" is not found in "othello"), not negated."""
    start = text.find(phrase)
    while start >= 0:
        before = start == 0 or not text[start - 1].isalnum()
        after = start + len(phrase) >= len(text) or not text[start + len(phrase)].isalnum()
        if before and after and not _negated(text, start):
            return start
        start = text.find(phrase, start + 1)
    return None


def _negated(text: str, start: int) -> bool:
    """A negation in the few words before, in the same clause ("we won't sue you")."""
    clause = text[:start]
    for end in _CLAUSE_ENDS:
        clause = clause.rsplit(end, 1)[-1]
    words = clause.replace("’", "'").split()[-_NEGATION_REACH:]
    return any(word in _NEGATIONS or word.endswith("n't") for word in words)


def metric_value(conversation: Conversation, metric: Metric) -> float | None:
    duration, silence = conversation.duration_ms, conversation.non_talk_ms
    interruptions = conversation.interruptions
    values: dict[Metric, float | None] = {
        Metric.OVERALL_CUSTOMER_SENTIMENT_SCORE: conversation.sentiment.get(Role.CUSTOMER),
        Metric.OVERALL_AGENT_SENTIMENT_SCORE: conversation.sentiment.get(Role.AGENT),
        Metric.NON_TALK_TIME: None if silence is None else silence / 1000,
        Metric.NON_TALK_TIME_PERCENTAGE: None
        if silence is None or not duration
        else 100 * silence / duration,
        Metric.NUMBER_OF_INTERRUPTIONS: None if interruptions is None else float(interruptions),
        Metric.CONTACT_DURATION: duration / 1000 if duration else None,
        Metric.AGENT_TALK_SPEED: conversation.talk_speed.get(Role.AGENT),
        Metric.CLOSING_CUSTOMER_SENTIMENT: conversation.closing_sentiment,
    }
    return values[metric]


def _rule_holds(rule: Rule, transcript: _Transcript) -> tuple[bool | None, tuple[Evidence, ...]]:
    """Whether the rule holds, and why; None when the conversation cannot tell (nobody, or
    not the speaker, said anything; no sentiment was measured): a human answers then."""
    conversation = transcript.conversation
    if isinstance(rule, CategoryRule):
        matches = conversation.categories.get(rule.category)
        matched = matches is not None
        if not matched:
            return not rule.present, (
                Evidence("absent", f"category {rule.category!r} not matched"),
            )
        evidence = tuple(
            Evidence("category", rule.category, m.turn_id, m.begin_char, m.end_char, m.begin_ms)
            for m in matches or ()
        ) or (Evidence("category", f"{rule.category} (the whole contact)"),)
        return rule.present, evidence
    if isinstance(rule, PhraseRule):
        if not transcript.speaks(rule.by):
            who = rule.by.value.lower() if rule.by else "anybody"
            return None, (Evidence("absent", f"no words of {who} in the transcript"),)
        said = transcript.said(rule)
        if said is None:
            who = rule.by.value.lower() if rule.by else "nobody"
            return not rule.present, (
                Evidence("absent", f"{who} said none of {list(rule.phrases)}"),
            )
        return rule.present, (said,)
    closing = conversation.closing_sentiment
    if closing is None:
        return None, (Evidence("absent", "the customer's closing sentiment was not measured"),)
    return closing <= rule.at_most, (
        Evidence("sentiment", f"customer's closing sentiment {closing:g}"),
    )


def answer(question: Question, transcript: _Transcript) -> Answer:
    conversation = transcript.conversation
    gate = question.not_applicable_unless
    if gate and gate not in conversation.categories and question.not_applicable_enabled:
        why = Evidence("absent", f"category {gate!r} not matched: not applicable")
        return Answer(question.ref_id, None, not_applicable=True, evidence=(why,))
    if question.kind is QuestionType.NUMERIC:
        return _numeric(question, conversation)
    if question.kind is QuestionType.TEXT:
        return Answer(question.ref_id, None)
    why_not: list[Evidence] = []  # each rule that did not hold, and why: the default's evidence
    undecided = False
    for rule in question.rules:
        holds, evidence = _rule_holds(rule, transcript)
        if holds:
            return _selected(question, rule.option, evidence)
        undecided = undecided or holds is None
        why_not.extend(evidence)
    if question.default_option and not undecided:
        return _selected(question, question.default_option, tuple(why_not))
    return Answer(question.ref_id, None, evidence=tuple(why_not))


def _selected(question: Question, ref_id: str, evidence: tuple[Evidence, ...]) -> Answer:
    option = question.option(ref_id)
    return Answer(question.ref_id, option.ref_id, option.score, False, option.automatic_fail,
                  option.flag, evidence)  # fmt: skip


# What Contact Lens never measures in a chat: a question on it does not apply to one.
VOICE_ONLY = frozenset(
    {
        Metric.NON_TALK_TIME,
        Metric.NON_TALK_TIME_PERCENTAGE,
        Metric.NUMBER_OF_INTERRUPTIONS,
        Metric.AGENT_TALK_SPEED,
    }
)


def _numeric(question: Question, conversation: Conversation) -> Answer:
    if question.metric is None:
        return Answer(question.ref_id, None)
    value = metric_value(conversation, question.metric)
    if value is None and conversation.channel == "CHAT" and question.metric in VOICE_ONLY:
        why = Evidence("absent", f"{question.metric.value} is not measured in a chat")
        return Answer(question.ref_id, None, not_applicable=True, evidence=(why,))
    if value is None:  # the file lacks it: a human answers, never a default
        why = Evidence("absent", f"{question.metric.value} is not in the analysis")
        return Answer(question.ref_id, None, evidence=(why,))
    evidence = (Evidence("metric", f"{question.metric.value} = {value:g}"),)
    held = next((r for r in question.ranges if r.holds(value)), None)
    if held is None:  # between the rubric's bands: a human scores it, it never drops out
        gap = Evidence("absent", f"{value:g} is in none of the question's bands")
        return Answer(question.ref_id, value, None, evidence=(*evidence, gap))
    return Answer(
        question.ref_id, value, held.score, False, held.automatic_fail, held.flag, evidence
    )


# -- scoring --------------------------------------------------------------------------------------


def _weighted(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Sum of weight x score (0-1) over what was scored, re-normalised to its weights."""
    weight = sum(w for w, _ in pairs)
    if not pairs or weight <= 0:
        return None
    return sum(w * s for w, s in pairs) / weight


def total_of(
    rubric: Rubric, answers: Mapping[str, Answer]
) -> tuple[float | None, dict[str, float | None]]:
    """The total (0-100) and each section's, from the answers given."""
    sections: dict[str, float | None] = {}
    across: list[tuple[float, float]] = []
    for section in rubric.sections:
        scored = [
            (q.weight, answers[q.ref_id].score / 10)  # type: ignore[operator]
            for q in section.questions
            if q.ref_id in answers and answers[q.ref_id].score is not None
        ]
        within = _weighted(scored)
        sections[section.ref_id] = None if within is None else round(100 * within, 2)
        if rubric.mode is ScoringMode.SECTION_ONLY and within is not None:
            across.append((section.weight, within))
        elif rubric.mode is ScoringMode.QUESTION_ONLY:
            across.extend(scored)
    total = _weighted(across)
    return (None if total is None else round(100 * total, 2)), sections


def score(rubric: Rubric, conversation: Conversation, partial: bool = False) -> Scorecard:
    transcript = _Transcript(conversation)
    answers = {q.ref_id: answer(q, transcript) for q in rubric.questions()}
    return scorecard(rubric, conversation, answers, partial)


def scorecard(
    rubric: Rubric, conversation: Conversation, answers: Mapping[str, Answer], partial: bool = False
) -> Scorecard:
    """The scorecard for these answers (automatic, or a reviewer's overrides)."""
    failed = any(a.automatic_fail for a in answers.values())
    total, sections = total_of(rubric, answers)
    if failed:
        total = 0.0
    questions = rubric.questions()
    flags = _flags(rubric, conversation, answers, total, failed)
    unanswered = _unanswered(questions, answers)
    call_back = tuple(
        q.ref_id for q in questions
        if q.call_back_on_fail and _failing(answers[q.ref_id])
    )  # fmt: skip
    return Scorecard(rubric.name, rubric.version, conversation.contact_id, total, failed,
                     tuple(answers[q.ref_id] for q in questions), sections, flags, unanswered,
                     partial, call_back)  # fmt: skip


def _unanswered(questions: Sequence[Question], answers: Mapping[str, Answer]) -> tuple[str, ...]:
    """The questions a reviewer must answer: scored kinds with no score that apply."""
    return tuple(
        q.ref_id
        for q in questions
        if q.kind is not QuestionType.TEXT and answers[q.ref_id].score is None
        and not answers[q.ref_id].not_applicable
    )  # fmt: skip


def _undecided(question: Question, answer: Answer) -> bool:
    """A question meant to be answered automatically that the conversation could not answer
    (no words, no measure, a value between bands): a human must, so the contact is flagged."""
    automatic = bool(question.rules) or question.metric is not None
    return automatic and answer.score is None and not answer.not_applicable


def _failing(answer: Answer) -> bool:
    return answer.automatic_fail or (answer.score is not None and answer.score == 0)


def _flags(
    rubric: Rubric,
    conversation: Conversation,
    answers: Mapping[str, Answer],
    total: float | None,
    failed: bool,
) -> tuple[str, ...]:
    flags = [a.flag for a in answers.values() if a.flag]
    if failed:
        flags.append("automatic_fail")
    if total is not None and total < rubric.flag_below:
        flags.append("low_score")
    # Without a closing measure, the customer's overall sentiment speaks for the ending.
    closing = conversation.closing_sentiment
    if closing is None:
        closing = conversation.sentiment.get(Role.CUSTOMER)
    if closing is not None and closing <= rubric.flag_closing_sentiment_at_most:
        flags.append("negative_ending")
    if any(_undecided(q, answers[q.ref_id]) for q in rubric.questions()):
        flags.append("undecided")
    return tuple(dict.fromkeys(flags))


def scorecard_dict(card: Scorecard) -> dict[str, object]:
    """The scorecard as `switchboard qa score` prints it and the API answers it."""
    return {
        "contact_id": card.contact_id,
        "rubric": card.rubric,
        "rubric_version": card.rubric_version,
        "total": card.total,
        "automatic_fail": card.automatic_fail,
        "partial": card.partial,
        "sections": dict(card.sections),
        "flags": list(card.flags),
        "needs_review": list(card.needs_review),
        "call_back": list(card.call_back),
        "answers": [
            {
                "question": a.question,
                "value": a.value,
                "score": a.score,
                "not_applicable": a.not_applicable,
                "automatic_fail": a.automatic_fail,
                "by": a.by,
                "evidence": [e.as_dict() for e in a.evidence],
            }
            for a in card.answers
        ],
    }
