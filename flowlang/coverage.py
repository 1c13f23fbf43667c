"""Path coverage per flow: which actions and which branches the test calls went through."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flowlang.model import Flow


@dataclass(frozen=True)
class FlowCoverage:
    flow: str
    actions: int
    actions_hit: int
    branches: int
    branches_hit: int
    missed_actions: tuple[str, ...]

    @staticmethod
    def _percent(hit: int, total: int) -> float:
        return 100.0 if total == 0 else 100.0 * hit / total

    @property
    def action_percent(self) -> float:
        return self._percent(self.actions_hit, self.actions)

    @property
    def branch_percent(self) -> float:
        return self._percent(self.branches_hit, self.branches)


@dataclass
class CoverageTracker:
    flows: Mapping[str, Flow]
    steps: set[tuple[str, str]] = field(default_factory=set)
    edges: set[tuple[str, str, str]] = field(default_factory=set)

    def record(
        self, steps: Iterable[tuple[str, str]], edges: Iterable[tuple[str, str, str]]
    ) -> None:
        self.steps.update(steps)
        self.edges.update(edges)

    def coverage(self, name: str) -> FlowCoverage:
        flow = self.flows[name]
        branches = {
            (a.identifier, way.target)
            for a in flow.actions.values()
            for way in a.transitions
            if way.target in flow.actions
        }
        hit_actions = {i for f, i in self.steps if f == name and i in flow.actions}
        hit_branches = {(s, t) for f, s, t in self.edges if f == name} & branches
        return FlowCoverage(
            name,
            len(flow.actions),
            len(hit_actions),
            len(branches),
            len(hit_branches),
            tuple(sorted(set(flow.actions) - hit_actions)),
        )
