"""Synthetic contact-reason counts per 15-minute bucket, for the early warning's tests and
benchmark: weekly seasonality (a business-day curve, quieter weekends, near-silent nights),
day-to-day noise, Poisson counts, and spikes laid on top."""

from __future__ import annotations

import math
import random

from chalicelib.qa.warning import BUCKET_MINUTES, SLOTS_PER_WEEK


def rate(slot: int, base: float) -> float:
    """Expected contacts in a slot of the week: a morning and an afternoon peak on weekdays,
    half that at weekends, a trickle at night."""
    day, minute = divmod(slot * BUCKET_MINUTES, 24 * 60)
    hour = minute / 60
    if hour < 7 or hour >= 21:
        shape = 0.04
    else:
        shape = 0.35 + 0.65 * max(
            math.exp(-((hour - 10.5) ** 2) / 4), math.exp(-((hour - 15) ** 2) / 5)
        )
    return base * shape * (1.0 if day < 5 else 0.5)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method in slices, exact for any mean)."""
    count, left = 0, mean
    while left > 0:
        step = min(left, 30.0)
        left -= step
        limit, product = math.exp(-step), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count


def steady(weeks: int, seed: int, base: float = 24.0, noise: float = 0.12) -> list[int]:
    """Counts for `weeks` weeks of steady traffic: each day has its own level (noise)."""
    rng = random.Random(seed)
    counts = []
    for bucket in range(weeks * SLOTS_PER_WEEK):
        if bucket % (24 * 60 // BUCKET_MINUTES) == 0:
            level = math.exp(rng.gauss(0, noise))
        counts.append(poisson(rng, rate(bucket % SLOTS_PER_WEEK, base) * level))
    return counts


def spiked(
    counts: list[int], at: int, seed: int, factor: float = 3.0, length: int = 4, base: float = 24.0
) -> list[int]:
    """The series with `factor` times the expected contacts for `length` buckets from `at`."""
    rng = random.Random(seed)
    changed = list(counts)
    for bucket in range(at, min(at + length, len(counts))):
        expected = rate(bucket % SLOTS_PER_WEEK, base)
        changed[bucket] = poisson(rng, expected * factor)
    return changed
