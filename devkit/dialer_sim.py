"""A day of outbound dialling as a discrete-event simulation, to compare pacing modes on the
same records: `switchboard dialer simulate` and bench/pacing.py.

Each record's fate is drawn once per seed, in order, so every mode meets the same people:
a live answer after 5-20 s of ringing (`answer_rate`), busy after 3-6 s (10 %), or no
answer after `no_answer_after` seconds. A live answer takes a free agent at once, or waits
up to 2 s for one (the safe-harbour rule), else it is abandoned. Talk time is lognormal
around `aht_seconds`, followed by `wrap_seconds` of after-call work. Dials are paced at
Connect's 2 a second. The oracle mode knows who will answer and dials only them: the bound.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.dialer.pacing import Floor, Predictive, progressive

SAFE_HARBOUR_SECONDS = 2.0
MODES = ("progressive", "predictive", "oracle")


@dataclass(frozen=True)
class Day:
    agents: int = 20
    answer_rate: float = 0.25
    aht_seconds: float = 180.0
    hours: float = 8.0
    seed: int = 1
    wrap_seconds: float = 20.0
    busy_rate: float = 0.10
    no_answer_after: float = 30.0
    dials_per_second: float = 2.0


@dataclass(frozen=True)
class Record:
    answers: bool
    ring_seconds: float
    talk_seconds: float


@dataclass(frozen=True)
class DayResult:
    mode: str
    dials: int
    answered: int
    connected: int
    abandoned: int
    talk_seconds: float
    agent_seconds: float

    @property
    def occupancy(self) -> float:
        return self.talk_seconds / self.agent_seconds

    @property
    def abandonment(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0

    @property
    def contacts_per_agent_hour(self) -> float:
        return self.connected / (self.agent_seconds / 3600)


def records(day: Day) -> Callable[[], Record]:
    generator = random.Random(day.seed)
    sigma = 0.6  # lognormal spread of talk time; mu keeps the mean at aht_seconds
    mu = math.log(day.aht_seconds) - sigma**2 / 2

    def next_record() -> Record:
        fate = generator.random()
        talk = generator.lognormvariate(mu, sigma)
        if fate < day.answer_rate:
            return Record(True, generator.uniform(5, 20), talk)
        if fate < day.answer_rate + day.busy_rate:
            return Record(False, generator.uniform(3, 6), talk)
        return Record(False, day.no_answer_after, talk)

    return next_record


@dataclass
class _Floor:
    day: Day
    now: float = 0.0
    free: int = 0
    in_flight: int = 0
    waiting: deque[tuple[float, Record]] = field(default_factory=deque)  # (answered at, who)
    events: list[tuple[float, int, str, Record | None]] = field(default_factory=list)
    dials: int = 0
    answered: int = 0
    connected: int = 0
    abandoned: int = 0
    talk: float = 0.0
    handled: float = 0.0  # talk + wrap of finished calls
    finished: int = 0
    _seq: int = 0

    def at(self, when: float, kind: str, record: Record | None = None) -> None:
        self._seq += 1
        heapq.heappush(self.events, (when, self._seq, kind, record))

    def view(self) -> Floor:
        plan = self.day.aht_seconds + self.day.wrap_seconds
        handle = self.handled / self.finished if self.finished >= 10 else plan
        return Floor(
            self.day.agents, self.free, self.in_flight, self.dials, self.answered,
            self.abandoned, handle,
        )  # fmt: skip

    def connect(self, record: Record) -> None:
        self.free -= 1
        self.connected += 1
        end_of_day = self.day.hours * 3600
        self.talk += max(0.0, min(record.talk_seconds, end_of_day - self.now))
        self.at(self.now + record.talk_seconds + self.day.wrap_seconds, "free", record)


def simulate(day: Day, mode: str) -> DayResult:
    floor = _Floor(day, free=day.agents)
    next_record = records(day)
    pacer = Predictive(prior_answer_rate=day.answer_rate)
    end = day.hours * 3600
    tokens = 0.0
    for second in range(int(end)):
        _advance(floor, float(second))
        tokens = min(day.dials_per_second, tokens + day.dials_per_second)
        wanted = _wanted(mode, floor, pacer)
        while wanted > 0 and tokens >= 1:
            record = next_record()
            if mode == "oracle" and not record.answers:
                continue  # the oracle never dials someone who will not answer
            tokens -= 1
            wanted -= 1
            floor.dials += 1
            floor.in_flight += 1
            floor.at(floor.now + record.ring_seconds, "rang", record)
    _advance(floor, end)
    return DayResult(
        mode, floor.dials, floor.answered, floor.connected, floor.abandoned, floor.talk,
        day.agents * end,
    )  # fmt: skip


def _wanted(mode: str, floor: _Floor, pacer: Predictive) -> int:
    view = floor.view()
    if mode == "predictive":
        return pacer.dials_now(view)
    return progressive(view)


def _advance(floor: _Floor, until: float) -> None:
    while floor.events and floor.events[0][0] <= until:
        when, _, kind, record = heapq.heappop(floor.events)
        floor.now = when
        _expire_waiting(floor)
        if kind == "rang" and record is not None:
            _rang(floor, record)
        elif kind == "free" and record is not None:
            _agent_free(floor, record)
    floor.now = until
    _expire_waiting(floor)


def _rang(floor: _Floor, record: Record) -> None:
    floor.in_flight -= 1
    if not record.answers:
        return
    floor.answered += 1
    if floor.free > 0:
        floor.connect(record)
    else:  # wait up to 2 s for an agent; the event makes sure the wait is looked at then
        floor.waiting.append((floor.now, record))
        floor.at(floor.now + SAFE_HARBOUR_SECONDS, "give-up", record)


def _agent_free(floor: _Floor, record: Record) -> None:
    floor.free += 1
    floor.handled += record.talk_seconds + floor.day.wrap_seconds
    floor.finished += 1
    if floor.waiting:
        floor.connect(floor.waiting.popleft()[1])


def _expire_waiting(floor: _Floor) -> None:
    while floor.waiting and floor.now - floor.waiting[0][0] > SAFE_HARBOUR_SECONDS:
        floor.waiting.popleft()
        floor.abandoned += 1
