"""Pacing: progressive and predictive dialling over the same simulated day (20 agents, 25 %
live answers, lognormal talk around 180 s, 8 hours, 3 seeds), with an oracle that dials
only the people who will answer as the bound (devkit/dialer_sim.py has the model)."""

from __future__ import annotations

from statistics import mean
from typing import Any

from devkit.dialer_sim import MODES, Day, simulate

SEEDS = (1, 2, 3)


def measure() -> dict[str, Any]:
    runs = {mode: [simulate(Day(seed=seed), mode) for seed in SEEDS] for mode in MODES}
    occupancy = {mode: mean(r.occupancy for r in results) for mode, results in runs.items()}
    return {
        "occupancy": occupancy,
        "worst_abandonment": {m: max(r.abandonment for r in rs) for m, rs in runs.items()},
        "contacts_per_agent_hour": {
            m: mean(r.contacts_per_agent_hour for r in rs) for m, rs in runs.items()
        },
        "ratio": occupancy["predictive"] / occupancy["progressive"],
        "bound": occupancy["oracle"] / occupancy["progressive"],
    }


if __name__ == "__main__":
    print(measure())
