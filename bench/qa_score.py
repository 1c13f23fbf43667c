"""Scoring a 30-minute call (400 turns) against a 30-question rubric: the analysis file read
and every question answered and scored, against `json.loads` of the same file.

The call and the rubric are generated (seeded): turns alternate agent and customer with the
phrases real rubrics look for scattered through them; the rubric mixes phrase rules (with
speaker and time scopes), category rules, closing sentiment and metrics, in both scoring
modes' shape (sections weighed).
"""

from __future__ import annotations

import json
import random
import time
from statistics import median
from typing import Any

TURNS = 400
QUESTIONS = 30
ROUNDS = 60
PHRASES = [
    "thank you for calling", "this call is recorded", "date of birth", "security question",
    "guaranteed return", "anything else i can help", "attempt to collect a debt", "payment plan",
    "i understand", "let me check", "is there anything else", "have a nice day",
]  # fmt: skip
WORDS = [
    "account", "card", "payment", "balance", "statement", "transfer", "online", "branch", "fee",
]  # fmt: skip


def analysis_text(seed: int = 11) -> str:
    rng = random.Random(seed)
    turns = []
    at = 0
    for i in range(TURNS):
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 30))]
        if rng.random() < 0.15:
            words.insert(rng.randint(0, len(words)), rng.choice(PHRASES))
        length = 1500 + 150 * len(words)
        turns.append({
            "BeginOffsetMillis": at, "EndOffsetMillis": at + length, "Id": f"turn-{i:04d}",
            "ParticipantId": "AGENT" if i % 2 == 0 else "CUSTOMER", "Content": " ".join(words),
            "Sentiment": rng.choice(["NEUTRAL", "POSITIVE", "NEGATIVE"]), "LoudnessScore": [70.0],
        })  # fmt: skip
        at += length + 300
    quarter = at // 4
    document = {
        "Version": "1.1.0", "AccountId": "111122223333", "Channel": "VOICE",
        "ContentMetadata": {"Output": "Raw"}, "JobStatus": "COMPLETED", "LanguageCode": "en-US",
        "Participants": [{"ParticipantId": "AGENT", "ParticipantRole": "AGENT"},
                         {"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}],
        "Categories": {"MatchedCategories": ["Greeting", "Complaint"], "MatchedDetails": {
            "Greeting": {"PointsOfInterest": [{"BeginOffsetMillis": 0, "EndOffsetMillis": 4000}]},
            "Complaint": {"PointsOfInterest": []}}},
        "ConversationCharacteristics": {
            "TotalConversationDurationMillis": at,
            "Sentiment": {"OverallSentiment": {"AGENT": 1.2, "CUSTOMER": -0.4},
                          "SentimentByPeriod": {"QUARTER": {"CUSTOMER": _quarters(quarter)}}},
            "Interruptions": {"TotalCount": 7, "TotalTimeMillis": 5600},
            "NonTalkTime": {"TotalTimeMillis": 95000, "Instances": []},
            "TalkSpeed": {"DetailsByParticipant": {"AGENT": {"AverageWordsPerMinute": 161},
                                                   "CUSTOMER": {"AverageWordsPerMinute": 144}}},
        },
        "Transcript": turns,
    }  # fmt: skip
    return json.dumps(document)


def _quarters(quarter: int) -> list[dict[str, float]]:
    scores = [-1, -2, 0, 1.5]
    return [
        {"BeginOffsetMillis": q * quarter, "EndOffsetMillis": (q + 1) * quarter, "Score": s}
        for q, s in enumerate(scores)
    ]


def _numeric(ref: str, label: str) -> dict[str, Any]:
    ranges = [(0, 10, 10), (10.01, 1000, 4)]
    options = [{"MinValue": a, "MaxValue": b, "Score": s} for a, b, s in ranges]
    numeric = {"MinValue": 0, "MaxValue": 1000, "Options": options,
               "Automation": {"PropertyValue": {"Label": label}}}  # fmt: skip
    return {"RefId": ref, "Title": ref, "QuestionType": "NUMERIC", "Weight": 10,
            "QuestionTypeProperties": {"Numeric": numeric}}  # fmt: skip


def _select(ref: str, rule: dict[str, Any]) -> dict[str, Any]:
    options = [
        {"RefId": "yes", "Text": "Yes", "Score": 10},
        {"RefId": "no", "Text": "No", "Score": 0},
    ]
    automation = {"Options": [rule], "DefaultOptionRefId": "no"}
    return {"RefId": ref, "Title": ref, "QuestionType": "SINGLESELECT", "Weight": 10,
            "QuestionTypeProperties": {"SingleSelect": {"Options": options,
                                                        "Automation": automation}}}  # fmt: skip


def _phrase_rule(n: int) -> dict[str, Any]:
    phrases = [PHRASES[n % len(PHRASES)], PHRASES[(n + 5) % len(PHRASES)]]
    rule: dict[str, Any] = {"Phrases": phrases, "By": ["AGENT", "CUSTOMER", "ANYONE"][n % 3],
                            "Condition": "PRESENT", "OptionRefId": "yes"}  # fmt: skip
    if n % 2:
        rule["LastSeconds"] = 120
    return {"Phrase": rule}


def rubric_document() -> dict[str, Any]:
    questions = []
    labels = ["NUMBER_OF_INTERRUPTIONS", "NON_TALK_TIME_PERCENTAGE", "AGENT_TALK_SPEED"]
    for n in range(QUESTIONS):
        ref, kind = f"q{n:02d}", n % 5
        if kind == 3:
            questions.append(_numeric(ref, labels[n % 3]))
        elif kind == 4:
            category = {"Category": "Greeting", "Condition": "PRESENT", "OptionRefId": "yes"}
            questions.append(_select(ref, {"RuleCategory": category}))
        elif kind == 2:
            sentiment = {"ClosingCustomerAtMost": -2, "OptionRefId": "no"}
            questions.append(_select(ref, {"Sentiment": sentiment}))
        else:
            questions.append(_select(ref, _phrase_rule(n)))
    sections = [
        {"Section": {"RefId": f"s{s}", "Title": f"s{s}", "Weight": 100 / 3,
                     "Items": [{"Question": q} for q in questions[s * 10:(s + 1) * 10]]}}
        for s in range(3)
    ]  # fmt: skip
    return {"Name": "bench", "Title": "bench", "Version": 1,
            "ScoringStrategy": {"Mode": "SECTION_ONLY"}, "Items": sections}  # fmt: skip


def measure() -> dict[str, Any]:
    from chalicelib.qa.analysis import read_analysis
    from chalicelib.qa.model import score
    from chalicelib.qa.schema import read_rubric

    text = analysis_text()
    rubric = read_rubric(rubric_document())

    def ours() -> None:
        score(rubric, read_analysis(text, "bench.json", "c"))

    def parse() -> None:
        json.loads(text)

    ours()  # warm
    ours_s = median(_timed(ours) for _ in range(ROUNDS))
    parse_s = median(_timed(parse) for _ in range(ROUNDS))
    card = score(rubric, read_analysis(text, "bench.json", "c"))
    return {
        "turns": TURNS,
        "questions": len(rubric.questions()),
        "kib": len(text) / 1024,
        "ours_ms": ours_s * 1000,
        "parse_ms": parse_s * 1000,
        "ratio": ours_s / parse_s,
        "answered": sum(1 for a in card.answers if a.value is not None),
    }


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
