"""Reviewer agreement: Cohen's kappa per question, mean absolute difference of totals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.qa.calibration import agreement, cohen_kappa


def test_kappa_of_a_textbook_table() -> None:
    """20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: agreement 0.7, chance 0.5, kappa 0.4."""
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


@given(st.lists(st.sampled_from("abc"), min_size=1, max_size=40), st.data())
def test_kappa_is_one_for_identical_answers_symmetric_and_at_most_one(first, data) -> None:
    second = data.draw(st.lists(st.sampled_from("abc"), min_size=len(first), max_size=len(first)))
    if len(set(first)) > 1:
        assert cohen_kappa(first, first) == pytest.approx(1.0)
    k = cohen_kappa(first, second)
    assert k == cohen_kappa(second, first) or (
        k is not None and k == pytest.approx(cohen_kappa(second, first))
    )
    assert k is None or k <= 1.0 + 1e-9


def test_kappa_is_undefined_without_items_or_variety() -> None:
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["yes", "yes"], ["yes", "yes"]) is None
    with pytest.raises(ValueError):
        cohen_kappa(["yes"], [])


def test_agreement_over_reviewers_counts_only_shared_contacts() -> None:
    answers = {
        "ann": {"c1": {"greeting": "yes"}, "c2": {"greeting": "no"}, "c3": {"greeting": "yes"}},
        "bob": {"c1": {"greeting": "yes"}, "c2": {"greeting": "no"}},
        "cy": {"c1": {"greeting": "yes"}, "c2": {"greeting": "yes"}},
    }
    totals = {"ann": {"c1": 90.0, "c2": 40.0}, "bob": {"c1": 80.0, "c2": 40.0},
              "cy": {"c1": 90.0, "c2": 70.0}}  # fmt: skip
    found = agreement(answers, totals)
    assert found.contacts == 2
    # ann and bob agree on both (kappa 1); cy agrees with each as often as chance would
    # (always "yes": kappa 0 with each): the mean over the three pairs is 1/3
    assert found.kappa["greeting"] == pytest.approx(1 / 3)
    assert found.total_mean_abs_difference == pytest.approx((10 + 0 + 0 + 30 + 10 + 30) / 6)
