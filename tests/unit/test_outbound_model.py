"""The outbound core's pure parts: the token bucket that paces StartOutboundVoiceContact."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.outbound.model import TokenBucket

RATE, BURST = 2.0, 2


def calls_at(request_times: list[float]) -> list[float]:
    """When each request may call, taking from one bucket in order."""
    bucket, placed = TokenBucket(float(BURST), 0.0), []
    for now in request_times:
        bucket, wait = bucket.take(now, RATE, BURST)
        placed.append(now + wait)
    return placed


def busiest(placed: list[float], window: float) -> int:
    return max(sum(start <= t < start + window for t in placed) for start in placed)


def test_a_burst_goes_at_once_then_the_rate_holds_and_an_idle_bucket_refills() -> None:
    assert calls_at([0.0] * 5) == [0.0, 0.0, 0.5, 1.0, 1.5]
    assert calls_at([0.0, 0.0, 10.0, 10.0, 10.0]) == [0.0, 0.0, 10.0, 10.0, 10.5]


def test_a_clock_that_goes_backwards_refills_nothing() -> None:
    bucket, _ = TokenBucket(0.0, 100.0).take(100.0, RATE, BURST)
    later, wait = bucket.take(50.0, RATE, BURST)  # another host's clock, behind
    assert wait == 1.0 and later.at == 100.0


@given(st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=60))
def test_no_window_ever_holds_more_than_the_burst_and_the_rate_allow(times) -> None:
    placed = calls_at(sorted(times))
    for window in (0.5, 1.0, 3.0):
        assert busiest(placed, window) <= BURST + RATE * window
