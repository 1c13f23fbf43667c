"""A rubric as people write it: the shape of a Contact Lens evaluation form
(`CreateEvaluationForm`'s `Items`, `Section`, `Question`, `QuestionTypeProperties`,
`ScoringStrategy`), with a few keys of ours for what Connect's automation cannot say
(phrases, closing sentiment, our metrics, flags, interventions). Keys and types are checked
by the schema; what refers to what (an automation's option, unique RefIds, weights that add up)
in `read_rubric`, every problem naming its item by RefId. Imports pydantic: off hook paths.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.platform.schema import Document, SchemaError, check, describe
from chalicelib.qa.analysis import Role
from chalicelib.qa.model import (
    CategoryRule,
    Metric,
    Option,
    PhraseRule,
    Question,
    QuestionType,
    Range,
    Rubric,
    Rule,
    ScoringMode,
    Section,
    SentimentRule,
)

RefIdText = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
ScoreValue = Annotated[int, Field(ge=0, le=10)]
Percent = Annotated[float, Field(ge=0, le=100)]


class OptionDocument(Document):
    RefId: RefIdText
    Text: Annotated[str, Field(min_length=1, max_length=128)]
    Score: ScoreValue = 0
    AutomaticFail: bool = False
    Flag: str = ""


class RuleCategoryDocument(Document):
    Category: Annotated[str, Field(min_length=1)]
    Condition: Literal["PRESENT", "NOT_PRESENT"]
    OptionRefId: RefIdText


class PhraseDocument(Document):
    Phrases: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    By: Literal["AGENT", "CUSTOMER", "ANYONE"] = "ANYONE"
    Condition: Literal["PRESENT", "NOT_PRESENT"]
    OptionRefId: RefIdText
    FirstSeconds: Annotated[int, Field(ge=1)] | None = None
    LastSeconds: Annotated[int, Field(ge=1)] | None = None


class SentimentDocument(Document):
    ClosingCustomerAtMost: Annotated[float, Field(ge=-5, le=5)]
    OptionRefId: RefIdText


class AutomationOptionDocument(Document):
    RuleCategory: RuleCategoryDocument | None = None
    Phrase: PhraseDocument | None = None
    Sentiment: SentimentDocument | None = None


class SingleSelectAutomationDocument(Document):
    Options: list[AutomationOptionDocument] = []
    DefaultOptionRefId: RefIdText | None = None


class SingleSelectDocument(Document):
    Options: Annotated[list[OptionDocument], Field(min_length=2, max_length=256)]
    DisplayAs: Literal["DROPDOWN", "RADIO"] = "RADIO"
    Automation: SingleSelectAutomationDocument | None = None


class RangeDocument(Document):
    MinValue: float
    MaxValue: float
    Score: ScoreValue = 0
    AutomaticFail: bool = False
    Flag: str = ""


class PropertyValueDocument(Document):
    Label: Literal[tuple(m.value for m in Metric)]  # type: ignore[valid-type]


class NumericAutomationDocument(Document):
    PropertyValue: PropertyValueDocument


class NumericDocument(Document):
    MinValue: float
    MaxValue: float
    Options: list[RangeDocument] = []
    Automation: NumericAutomationDocument | None = None


class TypePropertiesDocument(Document):
    SingleSelect: SingleSelectDocument | None = None
    Numeric: NumericDocument | None = None
    Text: dict[str, Any] | None = None


class GateDocument(Document):
    Category: Annotated[str, Field(min_length=1)]


class InterventionDocument(Document):
    CallBack: bool = False


class QuestionDocument(Document):
    RefId: RefIdText
    Title: Annotated[str, Field(min_length=1, max_length=350)]
    Instructions: str = ""
    QuestionType: Literal["SINGLESELECT", "NUMERIC", "TEXT"]
    Weight: Percent = 0
    NotApplicableEnabled: bool = False
    QuestionTypeProperties: TypePropertiesDocument = TypePropertiesDocument()
    NotApplicableUnless: GateDocument | None = None
    Intervention: InterventionDocument | None = None


class SectionItemDocument(Document):
    Question: QuestionDocument


class SectionDocument(Document):
    RefId: RefIdText
    Title: Annotated[str, Field(min_length=1, max_length=128)]
    Instructions: str = ""
    Weight: Percent = 0
    Items: Annotated[list[SectionItemDocument], Field(min_length=1, max_length=100)]


class ItemDocument(Document):
    Section: SectionDocument


class ScoringStrategyDocument(Document):
    Mode: Literal["QUESTION_ONLY", "SECTION_ONLY"]
    Status: Literal["ENABLED"] = "ENABLED"


class FlagsDocument(Document):
    ScoreBelow: Annotated[float, Field(ge=0, le=100)] = 70
    ClosingSentimentAtMost: Annotated[float, Field(ge=-5, le=5)] = -2


class RubricDocument(Document):
    Name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    Title: Annotated[str, Field(min_length=1, max_length=128)]
    Version: Annotated[int, Field(ge=1)]
    Description: str = ""
    ScoringStrategy: ScoringStrategyDocument
    Flags: FlagsDocument = FlagsDocument()
    Items: Annotated[list[ItemDocument], Field(min_length=1, max_length=100)]


class RubricError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def read_rubric(raw: Any) -> Rubric:
    """The rubric, or RubricError with every problem, each naming its item."""
    try:
        document = check(RubricDocument, raw)
    except SchemaError as error:
        raise RubricError(describe(error.problems)) from None
    problems = _cross_references(document)
    if problems:
        raise RubricError(problems)
    return _rubric(document)


def _cross_references(document: RubricDocument) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    sections = [item.Section for item in document.Items]
    for section in sections:
        for ref in (section.RefId, *(i.Question.RefId for i in section.Items)):
            if ref in seen:
                problems.append(f"{ref}: RefId used twice")
            seen.add(ref)
        problems += [p for i in section.Items for p in _question_problems(i.Question)]
    return problems + _weight_problems(document.ScoringStrategy.Mode, sections)


def _question_problems(question: QuestionDocument) -> list[str]:
    ref, properties = question.RefId, question.QuestionTypeProperties
    if question.QuestionType == "SINGLESELECT":
        if properties.SingleSelect is None:
            return [f"{ref}: a SINGLESELECT question needs QuestionTypeProperties.SingleSelect"]
        return _select_problems(ref, properties.SingleSelect)
    if question.QuestionType == "NUMERIC":
        if properties.Numeric is None:
            return [f"{ref}: a NUMERIC question needs QuestionTypeProperties.Numeric"]
        return _numeric_problems(ref, properties.Numeric)
    return (
        [f"{ref}: a TEXT question is not scored: its Weight must be 0"] if question.Weight else []
    )


def _select_problems(ref: str, select: SingleSelectDocument) -> list[str]:
    options = [o.RefId for o in select.Options]
    problems = [f"{ref}: option {o} used twice" for o in set(options) if options.count(o) > 1]
    if select.Automation is not None:
        problems += _automation_problems(ref, select.Automation, options)
    return problems


def _automation_problems(
    ref: str, automation: SingleSelectAutomationDocument, options: list[str]
) -> list[str]:
    problems = []
    targets = [automation.DefaultOptionRefId] if automation.DefaultOptionRefId else []
    for n, rule in enumerate(automation.Options):
        kinds = [k for k in (rule.RuleCategory, rule.Phrase, rule.Sentiment) if k is not None]
        if len(kinds) != 1:
            kinds_wanted = "exactly one of RuleCategory, Phrase, Sentiment"
            problems.append(f"{ref}: Automation.Options[{n}] needs {kinds_wanted}")
        targets += [k.OptionRefId for k in kinds]
    missing = [t for t in targets if t not in options]
    return problems + [
        f"{ref}: automation names option {t!r}, which the question does not have" for t in missing
    ]


def _numeric_problems(ref: str, numeric: NumericDocument) -> list[str]:
    problems = []
    if numeric.MaxValue < numeric.MinValue:
        problems.append(f"{ref}: MaxValue is under MinValue")
    ranges = sorted(numeric.Options, key=lambda r: r.MinValue)
    bounds = f"{numeric.MinValue:g}-{numeric.MaxValue:g}"
    for n, option in enumerate(ranges):
        span = f"{option.MinValue:g}-{option.MaxValue:g}"
        if option.MaxValue < option.MinValue:
            problems.append(f"{ref}: range {span} is upside down")
        if not numeric.MinValue <= option.MinValue <= option.MaxValue <= numeric.MaxValue:
            problems.append(f"{ref}: range {span} is outside {bounds}")
        if n and option.MinValue <= ranges[n - 1].MaxValue:
            before = f"{ranges[n - 1].MinValue:g}-{ranges[n - 1].MaxValue:g}"
            problems.append(f"{ref}: ranges {before} and {span} overlap")
    return problems


def _off(total: float) -> bool:
    return abs(total - 100) > 0.01


def _weight_problems(mode: str, sections: list[SectionDocument]) -> list[str]:
    """Weights are percentages: across the form's questions (QUESTION_ONLY), or across the
    sections and within each section (SECTION_ONLY)."""
    scored = [[i.Question for i in s.Items if i.Question.QuestionType != "TEXT"] for s in sections]
    if mode == "QUESTION_ONLY":
        total = sum(q.Weight for qs in scored for q in qs)
        wrong = f"question weights add up to {total:g}, not 100 (QUESTION_ONLY)"
        return [wrong] if _off(total) else []
    return _section_weight_problems(sections, scored)


def _section_weight_problems(
    sections: list[SectionDocument], scored: list[list[QuestionDocument]]
) -> list[str]:
    total = sum(s.Weight for s in sections)
    wrong = f"section weights add up to {total:g}, not 100 (SECTION_ONLY)"
    problems = [wrong] if _off(total) else []
    for section, questions in zip(sections, scored, strict=True):
        within = sum(q.Weight for q in questions)
        if questions and _off(within):
            problems.append(f"{section.RefId}: question weights add up to {within:g}, not 100")
    return problems


# -- the document, in the model's terms ---------------------------------------------------------


def _rubric(document: RubricDocument) -> Rubric:
    return Rubric(
        name=document.Name,
        version=document.Version,
        mode=ScoringMode(document.ScoringStrategy.Mode),
        sections=tuple(
            Section(s.RefId, s.Title, s.Weight, tuple(_question(i.Question) for i in s.Items))
            for s in (item.Section for item in document.Items)
        ),
        flag_below=document.Flags.ScoreBelow,
        flag_closing_sentiment_at_most=document.Flags.ClosingSentimentAtMost,
    )


def _question(document: QuestionDocument) -> Question:
    properties = document.QuestionTypeProperties
    select, numeric = properties.SingleSelect, properties.Numeric
    automation = select.Automation if select else None
    return Question(
        ref_id=document.RefId,
        title=document.Title,
        kind=QuestionType(document.QuestionType),
        weight=document.Weight,
        not_applicable_enabled=document.NotApplicableEnabled,
        options=tuple(
            Option(o.RefId, o.Text, o.Score, o.AutomaticFail, o.Flag) for o in select.Options
        ) if select else (),
        ranges=tuple(
            Range(r.MinValue, r.MaxValue, r.Score, r.AutomaticFail, r.Flag) for r in numeric.Options
        ) if numeric else (),
        rules=tuple(_rule(o) for o in automation.Options) if automation else (),
        default_option=(automation.DefaultOptionRefId or "") if automation else "",
        not_applicable_unless=_gate(document),
        metric=_metric(numeric),
        call_back_on_fail=bool(document.Intervention and document.Intervention.CallBack),
    )  # fmt: skip


def _gate(document: QuestionDocument) -> str:
    return document.NotApplicableUnless.Category if document.NotApplicableUnless else ""


def _metric(numeric: NumericDocument | None) -> Metric | None:
    if numeric is None or numeric.Automation is None:
        return None
    return Metric(numeric.Automation.PropertyValue.Label)


def _rule(option: AutomationOptionDocument) -> Rule:
    if option.RuleCategory is not None:
        c = option.RuleCategory
        return CategoryRule(c.Category, c.Condition == "PRESENT", c.OptionRefId)
    if option.Phrase is not None:
        p = option.Phrase
        by = None if p.By == "ANYONE" else Role(p.By)
        return PhraseRule(tuple(p.Phrases), by, p.Condition == "PRESENT", p.OptionRefId,
                          p.FirstSeconds, p.LastSeconds)  # fmt: skip
    assert option.Sentiment is not None  # checked: exactly one kind
    return SentimentRule(option.Sentiment.ClosingCustomerAtMost, option.Sentiment.OptionRefId)
