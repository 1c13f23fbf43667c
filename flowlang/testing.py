"""Amazon Connect's testing language (Version 2025-06-21), run offline against the simulator.

A test case is a list of observations: an event the system should produce (`TestInitiated`,
`MessageReceived`, `FlowActionStarted`, `TestCompleted`) and the actions to take when it does
(`SendInstruction` for the caller's keys, words or hang-up; `OverrideSystemBehavior` to mock a
Lambda, hours, Lex or a queue; `Assert`; `TestControl` to end the test or log data). The same
document can be uploaded with CreateTestCase and run on a live instance; what a live instance
needs and we do not (the time of the call, queue loads) lives under `Metadata.switchboard`,
which Connect ignores.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowlang.model import Action, FlowError, spoken
from flowlang.placeholders import first_placeholder_name
from flowlang.simulator import HANG_UP, EndSimulation, Mock, condition_holds

VERSIONS = frozenset({"2025-06-21", "2019-10-30"})
SIMILARITY = 0.8


@dataclass(frozen=True)
class Observation:
    identifier: str
    event: Mapping[str, Any]
    actions: tuple[Mapping[str, Any], ...]
    times: int = 1
    next_observations: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest class

    name: str
    flow: str  # the entry flow: a name, file stem or placeholder
    caller: str
    attributes: Mapping[str, str]
    observations: tuple[Observation, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def offline(self) -> Mapping[str, Any]:
        """Our own, offline-only settings (`Metadata.switchboard`)."""
        value = self.metadata.get("switchboard", {})
        return value if isinstance(value, dict) else {}


def _observation(raw: Mapping[str, Any]) -> Observation:
    usage = raw.get("Usage") or {}
    following = (raw.get("Transitions") or {}).get("NextObservations")
    return Observation(
        identifier=raw.get("Identifier", ""),
        event=raw["Event"],
        actions=tuple(raw.get("Actions", ())),
        times=usage.get("Times", 1) if usage.get("Type") == "EXACTLY" else 1,
        next_observations=tuple(following) if following is not None else None,
    )


def _json_object(value: Any, where: str) -> Any:
    """Connect carries `Content` and `InitializationData` as JSON text; files may inline them."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        raise FlowError(f"{where} is not valid JSON: {error}") from None


def _initial_attributes(data: Any, source: str) -> dict[str, str]:
    attributes = data.get("Attributes", data) if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        raise FlowError(f"{source}: InitializationData must hold an object of attributes")
    return {str(k): str(v) for k, v in attributes.items()}


def _checked(schema: type[Any], raw: Any, source: str, within: str = "") -> None:
    from chalicelib.platform.schema import SchemaError, check, describe

    try:
        check(schema, raw)
    except SchemaError as error:
        lines = describe(error.problems)
        raise FlowError(f"{source}: " + "; ".join(f"{within}{line}" for line in lines)) from None


def load_test_case(raw: Any, source: str = "<test>") -> TestCase:
    """A CreateTestCase-shaped document (Name, EntryPoint, InitializationData, Content) or
    its bare content, its structure checked (every problem at once, each naming its key)."""
    from flowlang.testing_schema import TestCaseDocument, TestContent

    if not isinstance(raw, dict):
        raise FlowError(f"{source}: a test case must be a JSON object")
    within = "Content." if "Content" in raw else ""
    if within:
        _checked(TestCaseDocument, raw, source)
    content = _json_object(raw.get("Content", raw), f"{source}: Content")
    _checked(TestContent, content, source, within)
    entry = (raw.get("EntryPoint") or {}).get("VoiceCallEntryPointParameters") or {}
    initial = _json_object(raw.get("InitializationData", "{}"), f"{source}: InitializationData")
    return TestCase(
        name=raw.get("Name") or source,
        flow=entry.get("FlowId", ""),
        caller=entry.get("SourcePhoneNumber", ""),
        attributes=_initial_attributes(initial, source),
        observations=tuple(_observation(o) for o in content["Observations"]),
        metadata=content.get("Metadata", {}),
        source=source,
    )


# -- matching ---------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return spoken(text).lower()


def _message_matches(expected: Mapping[str, Any], criteria: str, heard: Mapping[str, Any]) -> bool:
    for key in ("Text", "SSML", "PromptId"):
        if key not in expected:
            continue
        want, got = _clean(str(expected[key])), _clean(str(heard.get(key, "")))
        if not got:
            return False
        if criteria == "Inclusion":
            return want in got
        return (
            want == got
            or want in got
            or difflib.SequenceMatcher(None, want, got).ratio() >= SIMILARITY
        )
    return True


def _short(value: str) -> str:
    name = first_placeholder_name(value)
    if name:
        return name
    return re.split(r"[/:]", value)[-1].removeprefix("switchboard-dev-")


def _parameter_matches(want: Any, got: Any, resolve: Callable[[Any], str]) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            _parameter_matches(v, got.get(k), resolve) for k, v in want.items()
        )
    want_text, raw, resolved = str(want), str(got or ""), resolve(got or "")
    return want_text in (raw, resolved) or _short(want_text) in (_short(raw), _short(resolved))


def _action_matches(
    expected: Mapping[str, Any], action: Action | None, resolve: Callable[[Any], str]
) -> bool:
    if action is None or expected.get("ActionType") != action.type:
        return False
    wanted = expected.get("ActionParameters") or {}
    return all(_parameter_matches(v, action.parameters.get(k), resolve) for k, v in wanted.items())


# -- the run ----------------------------------------------------------------------------------


@dataclass
class ObservationResult:
    identifier: str
    matched: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.failures:
            return "failed"
        return "passed" if self.matched else "not reached"


@dataclass
class TestReport:
    __test__ = False

    test: TestCase
    results: dict[str, ObservationResult]
    waiting_for: list[str] = field(default_factory=list)
    logs: list[dict[str, str]] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return (
            not self.error
            and not self.waiting_for
            and not any(r.failures for r in self.results.values())
        )


class TestRunner:
    """Plays a test case as the simulator's director."""

    __test__ = False

    def __init__(self, test: TestCase) -> None:
        self.test = test
        self.by_id = {o.identifier: o for o in test.observations}
        self.results = {o.identifier: ObservationResult(o.identifier) for o in test.observations}
        self.frontier: list[str] = [test.observations[0].identifier]
        self.inputs: list[str] = []
        self.mocks: list[Mapping[str, Any]] = []
        self.logs: list[dict[str, str]] = []
        self._end = False

    # Director ---------------------------------------------------------------------------------

    def observe(
        self,
        kind: str,
        action: Action | None,
        properties: Mapping[str, Any],
        lookup: Callable[[str], str],
    ) -> None:
        for identifier in list(self.frontier):
            observation = self.by_id[identifier]
            if self._matches(observation.event, kind, action, properties, lookup):
                self._matched(observation, lookup)
                break
        if self._end and kind != "TestCompleted":
            raise EndSimulation("the test ended (EndTest)")

    def next_input(self, action: Action) -> str:
        return self.inputs.pop(0) if self.inputs else "timeout"

    def override(self, action: Action, resolve: Callable[[Any], str]) -> Mock | None:
        for behavior in reversed(self.mocks):
            if _action_matches(behavior, action, resolve):
                return _mock(behavior.get("Strategy") or {})
        return None

    # ------------------------------------------------------------------------------------------

    def _matches(
        self,
        event: Mapping[str, Any],
        kind: str,
        action: Action | None,
        properties: Mapping[str, Any],
        lookup: Callable[[str], str],
    ) -> bool:
        if event.get("Type") != kind:
            return False
        expected = event.get("Properties") or {}
        if kind == "MessageReceived":
            criteria = str(event.get("MatchingCriteria") or expected.get("MatchingCriteria") or "")
            criteria = criteria if isinstance(criteria, str) else ""
            return _message_matches(expected, criteria, properties)
        if kind == "FlowActionStarted":
            return _action_matches(expected, action, lambda v: _resolver(v, lookup))
        return True

    def _matched(self, observation: Observation, lookup: Callable[[str], str]) -> None:
        result = self.results[observation.identifier]
        result.matched += 1
        self._run_actions(observation, result, lookup)
        if result.matched < observation.times:
            return
        if observation.next_observations is not None:
            self.frontier = list(observation.next_observations)
        else:
            order = [o.identifier for o in self.test.observations]
            position = order.index(observation.identifier)
            self.frontier = order[position + 1 : position + 2]

    def _run_actions(
        self, observation: Observation, result: ObservationResult, lookup: Callable[[str], str]
    ) -> None:
        by_id = {str(a.get("Identifier", n)): a for n, a in enumerate(observation.actions)}
        current = next(iter(by_id), None)
        seen: set[str] = set()
        while current and current in by_id and current not in seen:
            seen.add(current)
            action = by_id[current]
            self._act(action, result, lookup)
            current = str((action.get("Transitions") or {}).get("NextAction") or "")

    def _act(
        self, action: Mapping[str, Any], result: ObservationResult, lookup: Callable[[str], str]
    ) -> None:
        kind = action.get("Type")
        parameters = action.get("Parameters") or {}
        if kind == "SendInstruction":
            self.inputs.append(_instruction(parameters.get("Instruction") or {}))
        elif kind == "OverrideSystemBehavior":
            self.mocks.append((parameters.get("Behavior") or {}).get("Properties") or {})
        elif kind in ("Assert", "Assertion"):
            failure = _assertion(parameters, lookup)
            if failure:
                result.failures.append(f"{action.get('Identifier', 'assert')}: {failure}")
        elif kind == "TestControl":
            self._control(parameters.get("Command") or {}, lookup)
        else:
            result.failures.append(f"unsupported test action type {kind!r}")

    def _control(self, command: Mapping[str, Any], lookup: Callable[[str], str]) -> None:
        if command.get("Type") == "EndTest":
            self._end = True
        elif command.get("Type") == "LogData":
            expressions = (command.get("Properties") or {}).get("Expressions") or {}
            self.logs.append({k: lookup(str(v)) for k, v in expressions.items()})

    def report(self, path: Sequence[str], error: str = "") -> TestReport:
        waiting = (
            []
            if self._end
            else [i for i in self.frontier if self.results[i].matched < self.by_id[i].times]
        )
        return TestReport(self.test, self.results, waiting, self.logs, list(path), error)


def _resolver(value: Any, lookup: Callable[[str], str]) -> str:
    text = str(value)
    return lookup(text) if text.startswith("$.") else text


def _instruction(instruction: Mapping[str, Any]) -> str:
    kind = instruction.get("Type")
    properties = instruction.get("Properties") or {}
    if kind == "DtmfInput":
        return str(properties.get("Value", ""))
    if kind == "TextUtterance":
        return spoken(str(properties.get("Text") or properties.get("SSML") or ""))
    if kind == "Disconnect":
        return HANG_UP
    raise FlowError(f"unsupported instruction type {kind!r}")


def _assertion(parameters: Mapping[str, Any], lookup: Callable[[str], str]) -> str:
    namespace = str(parameters.get("Namespace", ""))
    operator = str(parameters.get("Operator", "Equals"))
    expected = str(parameters.get("Operand", ""))
    actual = lookup(namespace)
    if condition_holds(operator, actual, expected):
        return ""
    return f"{namespace} is {actual!r}, expected {operator} {expected!r}"


def _mock(strategy: Mapping[str, Any]) -> Mock:
    if strategy.get("Type") == "SubstituteResource":
        return Mock("substitute", strategy.get("SubstituteArn", ""))
    response = strategy.get("Response") or {}
    if response.get("Type") == "Error":
        return Mock("error", (response.get("Error") or {}).get("Value", "NoMatchingError"))
    result = response.get("ExecutionResult") or {}
    if "LoadedData" in result:
        loaded = result["LoadedData"]
        return Mock("result", json.loads(loaded) if isinstance(loaded, str) else loaded)
    return Mock("result", result.get("Value"))
