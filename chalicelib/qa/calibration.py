"""Calibration, pure: how far reviewers agree when they score the same contacts. Per select
question, Cohen's kappa (agreement beyond what chance gives) for each pair of reviewers,
averaged over the pairs; for the totals, the mean absolute difference."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from chalicelib.qa.model import Rubric
from chalicelib.qa.review import Review, reviewed_answers, reviewed_total


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Kappa of two raters over the same items, in order; None when it is undefined (no
    items, or chance alone explains every answer: both always gave one same answer)."""
    if len(first) != len(second):
        raise ValueError("the two raters must answer the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[k] * counts_b[k] for k in counts_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    contacts: int  # scored by every reviewer compared
    kappa: Mapping[str, float | None]  # per select question, mean over reviewer pairs
    total_mean_abs_difference: float | None  # points out of 100, over pairs and contacts


def agreement(
    answers: Mapping[str, Mapping[str, Mapping[str, str]]],
    totals: Mapping[str, Mapping[str, float]],
) -> Agreement:
    """`answers[reviewer][contact][question]` (the option chosen) and
    `totals[reviewer][contact]`; only contacts every reviewer scored count."""
    reviewers = sorted(answers)
    shared = sorted(set.intersection(*(set(answers[r]) for r in reviewers))) if reviewers else []
    questions = sorted({q for r in reviewers for c in shared for q in answers[r][c]})
    kappa = {q: _mean_kappa(answers, reviewers, shared, q) for q in questions}
    return Agreement(len(shared), kappa, _mean_total_difference(totals, reviewers, shared))


def _mean_kappa(
    answers: Mapping[str, Mapping[str, Mapping[str, str]]],
    reviewers: Sequence[str],
    contacts: Sequence[str],
    question: str,
) -> float | None:
    pairs = combinations(reviewers, 2)
    found = [
        k for a, b in pairs if (k := _pair_kappa(answers, a, b, contacts, question)) is not None
    ]
    return sum(found) / len(found) if found else None


def _mean_total_difference(
    totals: Mapping[str, Mapping[str, float]], reviewers: Sequence[str], contacts: Sequence[str]
) -> float | None:
    differences = [
        abs(totals[a][c] - totals[b][c])
        for a, b in combinations(reviewers, 2)
        for c in contacts
        if c in totals.get(a, {}) and c in totals.get(b, {})
    ]
    return sum(differences) / len(differences) if differences else None


def _pair_kappa(
    answers: Mapping[str, Mapping[str, Mapping[str, str]]],
    a: str,
    b: str,
    contacts: Sequence[str],
    question: str,
) -> float | None:
    both = [c for c in contacts if question in answers[a][c] and question in answers[b][c]]
    return cohen_kappa(
        [answers[a][c][question] for c in both], [answers[b][c][question] for c in both]
    )


# -- from submitted calibration reviews ----------------------------------------------------------


def calibration(
    week: str,
    submitted: Sequence[tuple[Review, Mapping[str, Any]]],
    rubric_named: Callable[[str], Rubric | None],
) -> dict[str, Any]:
    """Agreement over the week's submitted calibration copies, each with its contact's
    scorecard: per question the option (or number) each reviewer left, and their totals."""
    answers: dict[str, dict[str, dict[str, str]]] = {}
    totals: dict[str, dict[str, float]] = {}
    for copy, card in submitted:
        left = reviewed_answers(card, copy.overrides)
        answers.setdefault(copy.reviewer, {})[copy.contact_id] = {
            q: str(a.value) for q, a in left.items() if a.value is not None
        }
        rubric = rubric_named(card["rubric"])
        total = reviewed_total(rubric, left) if rubric is not None else card["total"]
        if total is not None:
            totals.setdefault(copy.reviewer, {})[copy.contact_id] = float(total)
    found = agreement(answers, totals)
    return {
        "week": week,
        "reviewers": sorted(answers),
        "contacts": found.contacts,
        "kappa": dict(found.kappa),
        "total_mean_abs_difference": found.total_mean_abs_difference,
    }
