"""The account-wide pace on DynamoDB (moto, from the template): however many dispatchers
dial, together they stay under Connect's limit for the account."""

from __future__ import annotations

import threading

import pytest

from chalicelib.outbound.model import DialNotPlacedError, TokenBucket
from tests.unit.test_outbound_model import BURST, RATE, busiest


class PerProcessPacer:
    """What pacing was before: a bucket in each process's memory."""

    def __init__(self) -> None:
        self.bucket = TokenBucket(float(BURST), 0.0)

    def take(self, now: float) -> float:
        self.bucket, wait = self.bucket.take(now, RATE, BURST)
        return wait


def dial_flat_out(pacers: list, calls: int) -> list[float]:
    """Each dispatcher dials again as soon as it may; when each call is sent."""
    next_request = [0.0] * len(pacers)
    placed: list[float] = []
    while len(placed) < calls:
        who = min(range(len(pacers)), key=lambda i: next_request[i])
        wait = pacers[who].take(now=next_request[who])
        placed.append(next_request[who] + wait)
        next_request[who] += wait + 0.01  # the call itself takes a moment
    return placed


def test_two_dispatchers_together_stay_under_the_accounts_limit(tables) -> None:
    from chalicelib.outbound.store import DynamoPacer

    shared = dial_flat_out([DynamoPacer(), DynamoPacer()], calls=40)
    for window in (1.0, 5.0):
        assert busiest(shared, window) <= BURST + RATE * window
    # The same two dispatchers with a bucket each send twice the limit: what this replaced.
    separate = dial_flat_out([PerProcessPacer(), PerProcessPacer()], calls=40)
    assert busiest(separate, 5.0) > BURST + RATE * 5.0


def test_racing_takers_never_share_a_slot(tables, atomic_moto) -> None:
    from chalicelib.outbound.store import DynamoPacer

    waits: list[float] = []
    guard = threading.Lock()

    def take() -> None:
        pacer = DynamoPacer()
        for _ in range(50):
            wait = pacer.take(now=1000.0)  # all at the same instant
            if wait is not None:
                with guard:
                    waits.append(wait)
                return

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]


def test_a_slot_too_far_away_or_an_unreachable_bucket_leaves_the_attempt_unspent(
    tables, monkeypatch
) -> None:
    from chalicelib.outbound.store import DynamoPacer, PaceRecord

    pacer = DynamoPacer()
    for _ in range(12):  # 0, 0, 0.5 ... 5.0 s
        assert pacer.take(now=0.0) is not None
    with pytest.raises(DialNotPlacedError, match="next slot"):
        pacer.take(now=0.0)
    assert pacer.take(now=10.0) == 0.0  # the bucket was left as it was, and refills

    def unreachable(*args, **kwargs):
        from pynamodb.exceptions import GetError

        raise GetError("DynamoDB is down")

    monkeypatch.setattr(PaceRecord, "get", unreachable)
    with pytest.raises(DialNotPlacedError, match="pacing unavailable"):
        DynamoPacer().acquire()
