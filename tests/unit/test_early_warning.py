"""The early warning on synthetic contact-reason series (devkit/reason_series.py: weekly
seasonality, day-to-day noise, Poisson counts): a reason that triples is caught within two
15-minute buckets, and steady traffic raises at most one false alarm a month."""

from __future__ import annotations

import random

from chalicelib.qa.warning import SLOTS_PER_WEEK, Detector
from devkit.reason_series import spiked, steady

MONTH = 30 * 24 * 4  # buckets
WEEKS = Detector().weeks  # of history the baseline needs
HISTORY = WEEKS * SLOTS_PER_WEEK


def test_steady_traffic_raises_at_most_one_false_alarm_a_month() -> None:
    detector = Detector()
    per_month = []
    for seed in range(12):  # a year of simulated months
        counts = steady(WEEKS + 5, seed)
        alerts = [b for b in detector.alerts(counts, HISTORY) if b < HISTORY + MONTH]
        per_month.append(len(alerts))
    assert max(per_month) <= 1, per_month
    assert sum(per_month) / len(per_month) < 0.5


def test_a_reason_that_triples_is_caught_within_two_buckets() -> None:
    """On any day between 08:00 and 19:00 (a weekend evening brings about 5 contacts a
    bucket); a rare miss is a low-volume bucket where three times a little is still little."""
    detector, counts, rng = Detector(), steady(WEEKS + 5, 99), random.Random(1)
    caught = []
    for n in range(100):
        at = HISTORY + rng.randrange(0, 30) * 96 + int(rng.uniform(8, 19) * 4)
        alerts = detector.alerts(spiked(counts, at, seed=n), at - 4)
        caught.append(any(at <= bucket <= at + 1 for bucket in alerts))
    assert caught.count(True) >= 97, f"{caught.count(False)} of {len(caught)} spikes missed"


def test_one_alert_per_rise_not_one_per_bucket() -> None:
    counts = steady(WEEKS + 1, 3)
    at = HISTORY + 4 * 96 + 40  # a Friday, 10:00
    alerts = Detector().alerts(spiked(counts, at, seed=5, length=8), at - 4)
    assert len([b for b in alerts if at <= b < at + 8]) == 1


def test_without_the_weeks_of_history_nothing_is_judged() -> None:
    counts = spiked(steady(2, 4), 8 * 96 + 40, seed=1, factor=10)
    assert Detector().alerts(counts) == []
