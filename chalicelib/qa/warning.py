"""The early warning, pure: contact reasons counted per 15-minute bucket, each bucket judged
against the same time of the week in the weeks before, and an alert raised when a reason
rises well above it. A payments company's "beacon" tells product owners when complaints about
their product rise; a telecom watches its call reasons move in real time.

The baseline of a bucket is the same 15-minute slot of the week over the last `weeks` weeks.
Counts vary by chance (Poisson: the variance is the mean) and whole days run busier or
quieter than usual (`day_noise`, a share of the mean that moves every bucket of a day
together), so a bucket's spread is the larger of what the past weeks show and those two
together. A bucket is a spike when its count is at least `min_count`, `ratio` times the
baseline and `z` spreads above it; the last two buckets are also judged together (`z_pair`),
so a rise too small to stand out in one bucket is caught in the second. An alert is raised
when a reason starts spiking, not again while it stays up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

BUCKET_MINUTES = 15
SLOTS_PER_WEEK = 7 * 24 * 60 // BUCKET_MINUTES  # 672


@dataclass(frozen=True)
class Detector:
    weeks: int = 6
    min_count: int = 12  # fewer contacts than this never alert: a quiet night is noise
    ratio: float = 2.0
    z: float = 5.0  # one bucket alone must stand out this far
    z_pair: float = 4.0  # two buckets in a row together: chance rarely does it twice
    day_noise: float = 0.15

    def baseline(self, counts: Sequence[int], bucket: int) -> tuple[float, float] | None:
        """(mean, variance) of the same slot of the week before `bucket`; None without
        `weeks` weeks of history."""
        samples = [
            counts[at]
            for week in range(1, self.weeks + 1)
            if 0 <= (at := bucket - week * SLOTS_PER_WEEK) < len(counts)
        ]
        if len(samples) < self.weeks:
            return None
        mean = sum(samples) / len(samples)
        variance = sum((s - mean) ** 2 for s in samples) / (len(samples) - 1)
        return mean, variance

    def _variance(self, mean: float, variance: float) -> float:
        """Of the next count around the baseline: the count's own variation and the
        baseline's, estimated from only `weeks` samples (a prediction interval)."""
        own = max(variance, mean + (self.day_noise * mean) ** 2, 1.0)
        return own * (1 + 1 / self.weeks)

    def spiking(self, counts: Sequence[int], bucket: int) -> bool:
        """Whether `bucket` (alone, or with the one before it) stands out."""
        now = self.baseline(counts, bucket)
        if now is None:
            return False
        if self._stands_out(counts[bucket], now[0], math.sqrt(self._variance(*now)), self.z):
            return True
        before = self.baseline(counts, bucket - 1) if bucket else None
        if before is None:
            return False
        mean = now[0] + before[0]
        # Chance adds up independently; a busy day moves both buckets together.
        variance = self._variance(mean, now[1] + before[1])
        pair = counts[bucket] + counts[bucket - 1]
        return self._stands_out(pair, mean, math.sqrt(variance), self.z_pair)

    def _stands_out(self, count: float, mean: float, spread: float, z: float) -> bool:
        return count >= self.min_count and count >= self.ratio * mean and count - mean >= z * spread

    def alerts(self, counts: Sequence[int], start: int = 0) -> list[int]:
        """The buckets where a spike starts (one alert per rise), from `start` on."""
        raised, up = [], False
        for bucket in range(start, len(counts)):
            spiking = self.spiking(counts, bucket)
            if spiking and not up:
                raised.append(bucket)
            up = spiking
        return raised
