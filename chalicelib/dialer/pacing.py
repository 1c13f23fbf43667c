"""How many calls to dial now: progressive (one per free agent) or predictive (enough that
the people who answer find agents free, from the measured answer rate and handle time, with
a control loop on abandonment). Pure: the dialer and `switchboard dialer simulate` feed it
the same view of the floor.

Abandonment is a call a live person answered with no agent free within 2 seconds (TSR safe
harbour: at most 3 % of answered calls, per campaign and per 30 days). Predictive spends an
abandonment budget (`TARGET` of the calls answered so far) and never places a call that
could overspend it at a high quantile; when the budget is gone it dials progressively by
itself until answered calls rebuild it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LIMIT = 0.03  # the law's ceiling on abandoned / answered
TARGET = 0.025  # where the control loop aims, leaving room for chance
WARM_UP_DIALS = 40  # dials before the answer rate measured is trusted over the prior
WARM_UP_ANSWERS = 20  # answered calls, dialled progressively, before dialling ahead
# Below this many agents one abandoned call is too large a share of a day's answers to risk
# any: the floor dials progressively.
MIN_AGENTS = 10


@dataclass(frozen=True)
class Floor:
    """What the dialer sees at a moment."""

    agents: int
    free_agents: int
    dials_in_flight: int  # placed, not yet answered or failed
    dials: int  # so far in the campaign
    answered: int  # by a live person, so far
    abandoned: int  # so far
    handle_seconds: float  # mean talk and wrap-up, as measured so far (or the plan's)


def progressive(floor: Floor) -> int:
    """One call in flight per free agent: no answered call ever waits for an agent."""
    return max(0, floor.free_agents - floor.dials_in_flight)


@dataclass
class Predictive:
    """Dial ahead of free agents by the answer rate; the gain follows abandonment."""

    prior_answer_rate: float = 0.25
    ring_seconds: float = 10.0  # how far ahead agents freeing up are counted
    gain: float = 1.0
    _checked_answered: int = field(default=0, repr=False)

    def answer_rate(self, floor: Floor) -> float:
        if floor.dials < WARM_UP_DIALS:
            return self.prior_answer_rate
        return max(0.02, floor.answered / floor.dials)

    def abandonment(self, floor: Floor) -> float:
        return floor.abandoned / floor.answered if floor.answered else 0.0

    def dials_now(self, floor: Floor) -> int:
        if floor.agents < MIN_AGENTS or floor.answered < WARM_UP_ANSWERS:
            return progressive(floor)
        self._steer(floor)
        busy = floor.agents - floor.free_agents
        freeing = busy * self.ring_seconds / max(floor.handle_seconds, 1.0)
        rate = self.answer_rate(floor)
        wanted = max(0, math.floor(self.gain * (floor.free_agents + freeing) / rate))
        extra = wanted - floor.dials_in_flight
        while extra > 0 and self._risk(floor, floor.dials_in_flight + extra) > self._budget(floor):
            extra -= 1
        return max(extra, progressive(floor))

    def _budget(self, floor: Floor) -> int:
        """Whole calls that may still be abandoned without passing the target."""
        return math.floor(TARGET * floor.answered) - floor.abandoned

    def _risk(self, floor: Floor, in_flight: int) -> float:
        """How many of `in_flight` calls may find no agent free, at a high quantile: the
        expected answers plus two standard deviations, less the agents free now. Calls
        already placed cannot be taken back, so each new one must fit the budget left."""
        rate = self.answer_rate(floor)
        answers = rate * in_flight + 2 * math.sqrt(in_flight * rate * (1 - rate))
        return max(0.0, answers - floor.free_agents)

    def _steer(self, floor: Floor) -> None:
        """After every 20 more answered calls: lower the gain when abandoning above the
        target, raise it slowly when below."""
        if floor.answered - self._checked_answered < 20:
            return
        self._checked_answered = floor.answered
        rate = self.abandonment(floor)
        self.gain = max(0.3, self.gain * 0.85) if rate > TARGET else min(1.5, self.gain * 1.03)
