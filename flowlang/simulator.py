"""Run a flow-language document offline: one simulated contact, one scripted caller.

The simulator plays prompts, takes scripted keypad input (`"timeout"` for silence), evaluates
Compare conditions and JSONPath references, invokes Lambda hooks with Connect's event shape
(the documented ContactData keys plus RelatedContactId, SegmentAttributes and Tags, and the
caller's InitiationMethod: API for a contact StartOutboundVoiceContact placed; honouring
`InvocationTimeLimitSeconds`, Connect's retries and the Error branch), and
records the path. An action type it does not support stops the run with an error naming the
type and the action, never silently; so does anything only the scenario can decide (a queue's
metrics, hours it does not describe, when an agent answers a looping queue flow):
`UndecidedError` names the action and the scenario key. A branch taken because the scenario
or a test's mock said so is marked with a "scenario" event.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

from chalicelib.platform.digits import parse_digits
from chalicelib.platform.hours import Hours
from flowlang.model import Action, Flow, FlowError
from flowlang.placeholders import first_placeholder_name, flow_reference_names, placeholder_name

MAX_STEPS = 500
MAX_ATTRIBUTE_BYTES = 32 * 1024
MAX_LAMBDA_RETRIES = 3
_REFERENCE = re.compile(r"\$\.[A-Za-z]+(?:\.[A-Za-z0-9_-]+)*")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

LambdaFunction = Callable[[dict[str, Any]], Any]


class UnsupportedActionError(FlowError):
    def __init__(self, action: Action) -> None:
        super().__init__(
            f"action {action.identifier!r} has type {action.type!r}, which the simulator "
            "does not support"
        )
        self.action = action


class UndecidedError(FlowError):
    """Something the flow's path depends on that only the scenario can say: the run stops
    naming the action and the scenario key, rather than take an error branch the real flow
    would not take."""

    def __init__(self, action: Action, key: str, why: str) -> None:
        super().__init__(
            f"action {action.identifier!r} ({action.type}): {why}; say it in the scenario as {key}"
        )
        self.action = action
        self.key = key


class Outcome(Enum):
    QUEUED = "queued"
    ANSWERED = "answered"  # an agent took the call while a queue flow played
    DISCONNECTED = "disconnected"
    ENDED = "ended"
    CALLBACK = "callback"


@dataclass(frozen=True)
class Event:
    # prompt, input, lambda, attributes, queue, callback, error, end; "scenario" marks a
    # branch taken because the scenario (or a test's mock) said so, not the flow's own logic.
    kind: str
    action_id: str
    text: str
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Caller:
    """What the scripted caller does: who they are and the keys they press, in order."""

    number: str | None
    inputs: Sequence[str] = ()
    contact_id: str = "00000000-0000-4000-8000-000000000001"
    initial_contact_id: str = ""
    channel: str = "VOICE"
    attributes: Mapping[str, str] = field(default_factory=dict)
    # "API" for a contact that StartOutboundVoiceContact placed (callbacks, the dialer).
    initiation_method: str = "INBOUND"
    related_contact_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    segment_attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """The outside world a flow touches that is not ours: the instance, queues and their
    metrics, hours, other flows and modules, Lex bots and Lambdas someone else owns."""

    instance_arn: str = "arn:aws:connect:us-east-1:111122223333:instance/sim-instance"
    system_number: str = "+18005550100"
    queue_ids: Mapping[str, str] = field(default_factory=dict)
    queues_at_capacity: frozenset[str] = frozenset()
    hours_open: Mapping[str, bool | Hours] = field(default_factory=dict)  # by id, ARN or name
    now: datetime | None = None  # when the call happens, for calendars
    queue_metrics: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    flows: Mapping[str, Flow] = field(default_factory=dict)  # by id, ARN, name or placeholder
    lex_intents: Mapping[str, str] = field(default_factory=dict)  # utterance -> intent
    lambda_responses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    third_party_answers: bool = True
    # While a customer queue flow plays: after how many seconds an agent takes the call.
    agent_answers_after_seconds: float | None = None
    # The queue the contact is already in when the flow starts (a queue, hold or whisper flow).
    queue: str = ""


@dataclass
class CallResult:
    path: list[str] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)  # (flow name, action id)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (flow, from, to)
    events: list[Event] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    outcome: Outcome | None = None
    queue: str = ""
    priority: int = 5  # Connect's default routing priority

    def prompts(self) -> list[str]:
        return [e.text for e in self.events if e.kind == "prompt"]

    def hook_calls(self) -> list[Event]:
        return [e for e in self.events if e.kind == "lambda"]


@dataclass
class _Contact:
    caller: Caller
    scenario: Scenario
    result: CallResult
    flow: Flow
    external: dict[str, str] = field(default_factory=dict)
    stored_input: str = ""
    target_queue: str = ""
    callback_number: str = ""
    flow_attributes: dict[str, str] = field(default_factory=dict)
    lex: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    loops: dict[tuple[str, str], int] = field(default_factory=dict)
    waited_seconds: float = 0.0  # time spent in queue prompts, for interrupts
    interrupted_loop: str = ""  # the loop prompts that End flow / Resume returns to
    modules: list[tuple[Flow, str]] = field(default_factory=list)  # (caller flow, return to)
    director: Director = field(default_factory=lambda: ScriptedCaller(()))

    def observe(self, kind: str, action: Action | None, **properties: Any) -> None:
        self.director.observe(kind, action, properties, self.lookup)

    def lookup(self, path: str) -> str:
        parts = path.split(".")[1:]
        roots: dict[str, Any] = {
            "External": self.external,
            "Attributes": self.result.attributes,
            "CustomerEndpoint": {"Address": self.caller.number or ""},
            "SystemEndpoint": {"Address": self.scenario.system_number},
            "StoredCustomerInput": self.stored_input,
            "ContactId": self.caller.contact_id,
            "InitialContactId": self.caller.initial_contact_id or self.caller.contact_id,
            "Channel": self.caller.channel,
            "FlowAttributes": self.flow_attributes,
            "Lex": self.lex,
            "Metrics": self.metrics,
            "Queue": {"Name": self.target_queue},
        }
        value: Any = roots
        for part in parts:
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value if isinstance(value, str) else ""

    def decided_by_scenario(self, action: Action, why: str) -> None:
        self.result.events.append(Event("scenario", action.identifier, why))

    def resolve(self, value: Any) -> str:
        """A parameter value: a whole JSONPath reference, or text with references inside."""
        text = value if isinstance(value, str) else json.dumps(value)
        return _REFERENCE.sub(lambda m: self.lookup(m.group(0)), text)


Step = Callable[["Simulator", Action, _Contact], str]
HANG_UP = "__hang_up__"


class EndSimulation(Exception):
    """Raised by a director to stop the call (a test's EndTest, a caller hanging up)."""


@dataclass(frozen=True)
class Mock:
    """What a test substitutes for a flow action: a result, an error, or another resource."""

    kind: str  # "result", "error" or "substitute"
    value: Any = None


class Director(Protocol):
    """Who drives the call: plays the caller and watches what the system does."""

    def observe(
        self,
        kind: str,
        action: Action | None,
        properties: Mapping[str, Any],
        lookup: Callable[[str], str],
    ) -> None: ...

    def next_input(self, action: Action) -> str: ...

    def override(self, action: Action, resolve: Callable[[Any], str]) -> Mock | None: ...


class ScriptedCaller:
    """The plain director: the caller's scripted inputs, in order; no mocks."""

    def __init__(self, inputs: Sequence[str]) -> None:
        self._inputs = list(inputs)

    def observe(
        self,
        kind: str,
        action: Action | None,
        properties: Mapping[str, Any],
        lookup: Callable[[str], str],
    ) -> None:
        return None

    def next_input(self, action: Action) -> str:
        return self._inputs.pop(0) if self._inputs else "timeout"

    def override(self, action: Action, resolve: Callable[[Any], str]) -> Mock | None:
        return None


class Simulator:
    def __init__(
        self,
        flow: Flow,
        lambdas: Mapping[str, LambdaFunction],
        scenario: Scenario | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flow = flow
        self.lambdas = lambdas
        self.scenario = scenario or Scenario()
        self.monotonic = monotonic

    def run(self, caller: Caller, director: Director | None = None) -> CallResult:
        contact = _Contact(
            caller,
            self.scenario,
            CallResult(),
            self.flow,
            director=director or ScriptedCaller(caller.inputs),
        )
        contact.result.attributes.update(caller.attributes)
        contact.target_queue = self.scenario.queue
        try:
            contact.observe("TestInitiated", None)
            self._walk(contact)
        except EndSimulation as stop:
            contact.result.outcome = contact.result.outcome or Outcome.ENDED
            contact.result.events.append(Event("end", "", str(stop) or "ended"))
        contact.director.observe("TestCompleted", None, {}, contact.lookup)
        return contact.result

    def _walk(self, contact: _Contact) -> None:
        current = self.flow.start_action
        for _ in range(MAX_STEPS):
            if not current:
                return
            flow = contact.flow
            action = flow.action(current)
            contact.result.path.append(action.identifier)
            contact.result.steps.append((flow.name, action.identifier))
            step = _STEPS.get(action.type)
            if step is None:
                raise UnsupportedActionError(action)
            contact.observe(
                "FlowActionStarted",
                action,
                ActionType=action.type,
                ActionParameters=action.parameters,
            )
            current = step(self, action, contact)
            if current and contact.flow is flow:
                contact.result.edges.add((flow.name, action.identifier, current))
        raise FlowError(f"the call did not finish within {MAX_STEPS} actions (a loop?)")

    # -- Lambda --------------------------------------------------------------------------------

    def lambda_event(self, action: Action, contact: _Contact) -> dict[str, Any]:
        raw_params = action.parameters.get("LambdaInvocationAttributes") or {}
        caller = contact.caller
        address = caller.number
        return {
            "Name": "ContactFlowEvent",
            "Details": {
                "ContactData": {
                    "Attributes": dict(contact.result.attributes),
                    "Channel": caller.channel,
                    "ContactId": caller.contact_id,
                    "InitialContactId": caller.initial_contact_id or caller.contact_id,
                    "PreviousContactId": caller.initial_contact_id or caller.contact_id,
                    "CustomerEndpoint": None
                    if address is None
                    else {"Address": address, "Type": "TELEPHONE_NUMBER"},
                    "SystemEndpoint": {
                        "Address": self.scenario.system_number,
                        "Type": "TELEPHONE_NUMBER",
                    },
                    "InitiationMethod": caller.initiation_method,
                    "InstanceARN": self.scenario.instance_arn,
                    "Queue": None,
                    "MediaStreams": {"Customer": {"Audio": None}},
                    "RelatedContactId": caller.related_contact_id or None,
                    "SegmentAttributes": {k: dict(v) for k, v in caller.segment_attributes.items()},
                    "Tags": dict(caller.tags),
                },
                "Parameters": {k: contact.resolve(v) for k, v in raw_params.items()},
            },
        }

    def function_for(self, action: Action, contact: _Contact) -> tuple[str, LambdaFunction]:
        reference = action.parameters.get("LambdaFunctionARN", "")
        arn = contact.resolve(reference)
        if not arn.strip():
            raise FlowError(
                f"action {action.identifier!r}: the function ARN is empty"
                + (f" ({reference!r} resolved to nothing)" if reference else "")
            )
        name = placeholder_name(arn, "lambda") or arn.rsplit(":function:", 1)[-1]
        function = self.lambdas.get(name)
        if function is not None:
            return name, function
        canned = self.scenario.lambda_responses.get(name)
        if canned is not None:
            return name, lambda event: dict(canned)
        raise FlowError(
            f"action {action.identifier!r}: no Lambda function {name!r} registered "
            "and no answer for it in the scenario"
        )


def _prompt_text(action: Action, contact: _Contact) -> str:
    params = action.parameters
    for key in ("Text", "SSML"):
        if key in params:
            return contact.resolve(params[key])
    if "PromptId" in params:
        return f"[audio prompt {contact.resolve(params['PromptId'])}]"
    return ""


def _say(action: Action, contact: _Contact, text: str, spec: Mapping[str, Any]) -> None:
    contact.result.events.append(Event("prompt", action.identifier, text))
    heard = {k: contact.resolve(spec[k]) for k in ("Text", "SSML", "PromptId") if k in spec}
    contact.observe("MessageReceived", action, **heard)


def _message(sim: Simulator, action: Action, contact: _Contact) -> str:
    _say(action, contact, _prompt_text(action, contact), action.parameters)
    return action.next_action


def _take_input(action: Action, contact: _Contact, stored: bool, spoken: bool = False) -> str:
    pressed = contact.director.next_input(action)
    if pressed == HANG_UP:
        contact.result.outcome = Outcome.DISCONNECTED
        raise EndSimulation("the caller hung up")
    # Stored input is often a secret (a PIN, a card number): the event says so, so that
    # transcripts can hide it.
    detail = {"stored": "true"} if stored else {}
    if spoken:
        detail["spoken"] = "true"
    contact.result.events.append(Event("input", action.identifier, pressed, detail))
    return pressed


def _get_input(sim: Simulator, action: Action, contact: _Contact) -> str:
    _message(sim, action, contact)
    stored = str(action.parameters.get("StoreInput", "False")).lower() == "true"
    pressed = _take_input(action, contact, stored)
    if stored:  # a timeout too: Connect stores the value `Timeout` and goes on
        contact.stored_input = "Timeout" if pressed == "timeout" else pressed.rstrip("#")
        return action.next_action
    if pressed == "timeout":
        return action.error_target("InputTimeLimitExceeded")
    for condition in action.conditions:
        if condition.operator == "Equals" and pressed in condition.operands:
            return condition.next_action
    return action.error_target("NoMatchingCondition")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


_TEXT_OPERATORS: Mapping[str, Callable[[str, str], bool]] = {
    "Equals": lambda a, b: a == b,
    "TextStartsWith": lambda a, b: a.startswith(b),
    "TextEndsWith": lambda a, b: a.endswith(b),
    "TextContains": lambda a, b: b in a,
}
_NUMBER_OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    "NumberGreaterThan": lambda a, b: a > b,
    "NumberGreaterOrEqualTo": lambda a, b: a >= b,
    "NumberLessThan": lambda a, b: a < b,
    "NumberLessOrEqualTo": lambda a, b: a <= b,
}


def condition_holds(operator: str, value: str, operand: str) -> bool:
    if operator in _TEXT_OPERATORS:
        return _TEXT_OPERATORS[operator](value, operand)
    if operator in _NUMBER_OPERATORS:
        left, right = _number(value), _number(operand)
        return left is not None and right is not None and _NUMBER_OPERATORS[operator](left, right)
    raise FlowError(f"unknown Compare operator {operator!r}")


def _compare(sim: Simulator, action: Action, contact: _Contact) -> str:
    value = contact.resolve(action.parameters.get("ComparisonValue", ""))
    for condition in action.conditions:
        if any(condition_holds(condition.operator, value, o) for o in condition.operands):
            return condition.next_action
    return action.error_target("NoMatchingCondition")


def _set_attributes(sim: Simulator, action: Action, contact: _Contact) -> str:
    updates = {
        k: contact.resolve(v) for k, v in (action.parameters.get("Attributes") or {}).items()
    }
    merged = {**contact.result.attributes, **updates}
    if len(json.dumps(merged, ensure_ascii=False).encode()) > MAX_ATTRIBUTE_BYTES:
        contact.result.events.append(Event("error", action.identifier, "attributes over 32 KB"))
        return action.error_target("NoMatchingError")
    contact.result.attributes = merged
    contact.result.events.append(Event("attributes", action.identifier, "set", updates))
    return action.next_action


def _last(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


def _queue_name(contact: _Contact, queue: str) -> str:
    name = placeholder_name(queue, "queue")
    if name:
        return name
    queue_id = queue.rsplit("/queue/", 1)[-1]
    by_id = {v: k for k, v in contact.scenario.queue_ids.items()}
    return by_id.get(queue_id, queue_id)


def _set_queue(sim: Simulator, action: Action, contact: _Contact) -> str:
    queue = contact.resolve(action.parameters.get("QueueId", ""))
    agent = contact.resolve(action.parameters.get("AgentId", ""))
    if not queue and not agent:
        contact.result.events.append(Event("error", action.identifier, "no queue to set"))
        return action.error_target("NoMatchingError")
    # An agent's own queue when the block names an agent (a personal callback, a VIP's
    # assigned agent).
    contact.target_queue = _queue_name(contact, queue) if queue else f"agent {_last(agent)}"
    contact.result.events.append(Event("queue", action.identifier, contact.target_queue))
    return action.next_action


def _transfer_to_queue(sim: Simulator, action: Action, contact: _Contact) -> str:
    mock = contact.director.override(action, contact.resolve)
    if mock is not None and mock.kind == "error":
        contact.decided_by_scenario(action, f"a test mocked the error {mock.value}")
        return action.error_target(str(mock.value))
    if mock is not None and mock.kind == "substitute":
        contact.target_queue = _queue_name(contact, str(mock.value))
    if not contact.target_queue:
        return action.error_target("NoMatchingError")
    if contact.target_queue in contact.scenario.queues_at_capacity:
        contact.decided_by_scenario(action, f"{contact.target_queue} is at capacity")
        return action.error_target("QueueAtCapacity")
    contact.result.outcome = Outcome.QUEUED
    contact.result.queue = contact.target_queue
    contact.result.events.append(Event("end", action.identifier, f"queued: {contact.target_queue}"))
    return ""


def _disconnect(sim: Simulator, action: Action, contact: _Contact) -> str:
    if contact.result.outcome is None:
        contact.result.outcome = Outcome.DISCONNECTED
    contact.result.events.append(Event("end", action.identifier, contact.result.outcome.value))
    return ""


def _end_flow(sim: Simulator, action: Action, contact: _Contact) -> str:
    if contact.interrupted_loop in contact.flow.actions:
        # End flow / Resume after an interrupt returns the caller to the loop prompts.
        return contact.interrupted_loop
    contact.result.outcome = contact.result.outcome or Outcome.ENDED
    contact.result.events.append(Event("end", action.identifier, "flow ended"))
    return ""


def _continue(sim: Simulator, action: Action, contact: _Contact) -> str:
    return action.next_action


def _hours_verdict(action: Action, contact: _Contact) -> bool | None:
    mock = contact.director.override(action, contact.resolve)
    if mock is not None and mock.kind == "result":
        return str(mock.value) == "InHours"
    if mock is not None and mock.kind == "error":
        contact.decided_by_scenario(action, "a test mocked an error")
        return None
    hours = contact.resolve(action.parameters.get("HoursOfOperationId", ""))
    return _calendar_verdict(action, contact, str(mock.value) if mock is not None else hours)


def _calendar_verdict(action: Action, contact: _Contact, hours: str) -> bool:
    calendars = contact.scenario.hours_open
    name = first_placeholder_name(hours, "hours") or _last(hours) or "<the queue's hours>"
    found = next((calendars[c] for c in (hours, _last(hours), name) if c in calendars), None)
    if found is None:
        raise UndecidedError(
            action, f"hours.{name}", f"hours of operation {hours or 'of the queue'!r} are unknown"
        )
    if isinstance(found, Hours):
        return found.is_open(contact.scenario.now or datetime.now(UTC))
    return found


def _check_hours(sim: Simulator, action: Action, contact: _Contact) -> str:
    is_open = _hours_verdict(action, contact)
    if is_open is None:
        return action.error_target("NoMatchingError")
    verdict = "True" if is_open else "False"
    for condition in action.conditions:
        if verdict in condition.operands:
            return condition.next_action
    return action.error_target("NoMatchingCondition")


def _set_callback_number(sim: Simulator, action: Action, contact: _Contact) -> str:
    number = contact.resolve(action.parameters.get("CallbackNumber", ""))
    if not _E164.match(number):
        return action.error_target("InvalidCallbackNumber")
    contact.callback_number = number
    return action.next_action


def _create_callback(sim: Simulator, action: Action, contact: _Contact) -> str:
    queue = contact.resolve(action.parameters.get("QueueId", "")) or contact.target_queue
    if not queue or not contact.callback_number:
        return action.error_target("NoMatchingError")
    contact.result.outcome = Outcome.CALLBACK
    contact.result.queue = _queue_name(contact, queue)
    contact.result.events.append(Event("callback", action.identifier, contact.result.queue))
    return action.next_action


def _routing_priority(sim: Simulator, action: Action, contact: _Contact) -> str:
    priority = str(action.parameters.get("QueuePriority", ""))
    number = parse_digits(priority)
    if number is None or number < 1:
        raise FlowError(f"action {action.identifier!r}: QueuePriority must be a static integer > 0")
    contact.result.priority = number
    return action.next_action


def _branch(action: Action, value: str, default_error: str = "NoMatchingCondition") -> str:
    """The condition whose operand the value meets, else the error branch, else NextAction."""
    for condition in action.conditions:
        if any(condition_holds(condition.operator, value, o) for o in condition.operands):
            return condition.next_action
    return action.errors.get(default_error) or action.next_action


def _loop(sim: Simulator, action: Action, contact: _Contact) -> str:
    key = (contact.flow.name, action.identifier)
    limit = int(contact.resolve(action.parameters.get("LoopCount", "0")) or 0)
    done = contact.loops.get(key, 0)
    if done < limit:
        contact.loops[key] = done + 1
        return _branch(action, "ContinueLooping")
    contact.loops[key] = 0  # the loop starts over if the flow comes back to it
    return _branch(action, "DoneLooping")


def _wait(sim: Simulator, action: Action, contact: _Contact) -> str:
    seconds = contact.resolve(
        action.parameters.get("TimeoutSeconds", action.parameters.get("TimeLimitSeconds", ""))
    )
    contact.result.events.append(Event("wait", action.identifier, f"waits {seconds} s"))
    return _branch(action, "WaitCompleted", "NoMatchingError")


# CheckMetricData's metric names and the GetCurrentMetricData names a scenario may also use.
_METRIC_NAMES = {
    "NumberOfAgentsAvailable": "AGENTS_AVAILABLE",
    "NumberOfAgentsStaffed": "AGENTS_STAFFED",
    "NumberOfAgentsOnline": "AGENTS_ONLINE",
    "NumberOfContactsInQueue": "CONTACTS_IN_QUEUE",
    "OldestContactInQueueAgeSeconds": "OLDEST_CONTACT_AGE",
}


def _queue_metrics(action: Action, contact: _Contact) -> tuple[str, Mapping[str, float]] | None:
    """The queue's metrics; None when no queue is set, which fails in Connect too."""
    reference = contact.resolve(action.parameters.get("QueueId", "")) or contact.target_queue
    if not reference:
        if contact.flow.flow_type in _IN_QUEUE_FLOW_TYPES:
            raise UndecidedError(action, "queue", "which queue the contact is waiting in")
        return None
    queue = _queue_name(contact, reference)
    metrics = contact.scenario.queue_metrics.get(queue)
    if metrics is None:
        raise UndecidedError(action, f"queues.{queue}.metrics", f"no metrics for queue {queue!r}")
    return queue, metrics


def _check_metric(sim: Simulator, action: Action, contact: _Contact) -> str:
    found = _queue_metrics(action, contact)
    if found is None:
        return action.error_target("NoMatchingError")
    queue, metrics = found
    metric = str(action.parameters.get("MetricType", ""))
    value = metrics.get(metric, metrics.get(_METRIC_NAMES.get(metric, "")))
    if value is None:
        raise UndecidedError(
            action, f"queues.{queue}.metrics.{metric}", f"the scenario gives no {metric}"
        )
    return _branch(action, f"{value:g}")


def _get_metrics(sim: Simulator, action: Action, contact: _Contact) -> str:
    found = _queue_metrics(action, contact)
    if found is None:
        return action.error_target("NoMatchingError")
    metrics = found[1]

    def metric(name: str) -> str:
        return f"{metrics.get(name, metrics.get(_API_NAMES[name], 0)):g}"

    contact.metrics = {
        "Queue": {
            "Size": metric("CONTACTS_IN_QUEUE"),
            "OldestContactAge": metric("OLDEST_CONTACT_AGE"),
            "AgentsAvailable": metric("AGENTS_AVAILABLE"),
            "AgentsOnline": metric("AGENTS_ONLINE"),
            "AgentsStaffed": metric("AGENTS_STAFFED"),
        }
    }
    return action.next_action


_API_NAMES = {api: flow_name for flow_name, api in _METRIC_NAMES.items()}


def _lex(sim: Simulator, action: Action, contact: _Contact) -> str:
    _message(sim, action, contact)
    said = _take_input(action, contact, stored=False, spoken=True)
    mock = contact.director.override(action, contact.resolve)
    if mock is not None and mock.kind == "error":
        contact.decided_by_scenario(action, "a test mocked an error")
        return action.error_target("NoMatchingError")
    if said == "timeout":
        return action.error_target("InputTimeLimitExceeded")
    intent = (
        said.split(":", 1)[1]
        if said.startswith("intent:")
        else contact.scenario.lex_intents.get(said.strip().lower(), "")
    )
    if mock is not None and mock.kind == "result":
        intent = str(dict(mock.value or {}).get("IntentName", intent))
    contact.lex = {"IntentName": intent, "Slots": {}, "InputTranscript": said}
    for condition in action.conditions:
        if intent and intent in condition.operands:
            return condition.next_action
    return action.error_target("NoMatchingCondition")


def _third_party(sim: Simulator, action: Action, contact: _Contact) -> str:
    number = contact.resolve(action.parameters.get("ThirdPartyPhoneNumber", ""))
    if not _E164.match(number):
        return action.error_target("CallFailed")
    if not contact.scenario.third_party_answers:
        contact.decided_by_scenario(action, "the third party does not answer")
        return action.error_target("CallFailed")
    contact.result.events.append(Event("end", action.identifier, "transferred to third party"))
    contact.result.outcome = Outcome.ENDED
    return ""


def _play_iteratively(sim: Simulator, action: Action, contact: _Contact) -> str:
    """The messages a queue or hold flow loops until an agent takes the call, or, with
    `InterruptFrequencySeconds`, until the interval passes (the `MessagesInterrupted`
    branch: the flow does something and comes back)."""
    for message in action.parameters.get("Messages") or []:
        text = (
            message.get("Text")
            or message.get("SSML")
            or f"[audio prompt {message.get('PromptId', '')}]"
        )
        # Heard like any other message, so a test case can wait for it.
        _say(action, contact, contact.resolve(text), message)
    interval = _number(contact.resolve(action.parameters.get("InterruptFrequencySeconds", "")))
    interrupted = next(
        (c.next_action for c in action.conditions if "MessagesInterrupted" in c.operands), ""
    )
    if contact.flow.flow_type not in _LOOPING_FLOW_TYPES and not interrupted:
        return action.next_action  # played once, outside a queue or hold flow
    if interval and interrupted and not _answered_within(contact, interval):
        contact.interrupted_loop = action.identifier
        contact.waited_seconds += interval
        contact.result.events.append(
            Event("wait", action.identifier, f"interrupted after {contact.waited_seconds:g} s")
        )
        return interrupted
    return _agent_answers(action, contact)


def _answered_within(contact: _Contact, seconds: float) -> bool:
    """Whether an agent answers before the next interrupt; with no time given, the run
    cannot go on (`_agent_answers` says so)."""
    answers_at = contact.scenario.agent_answers_after_seconds
    return answers_at is None or answers_at <= contact.waited_seconds + seconds


def _agent_answers(action: Action, contact: _Contact) -> str:
    answers_at = contact.scenario.agent_answers_after_seconds
    if answers_at is None:
        raise UndecidedError(
            action,
            "agent_answers_after_seconds",
            "the messages loop until an agent answers, and the scenario does not say when",
        )
    contact.result.outcome = Outcome.ANSWERED
    contact.decided_by_scenario(action, f"an agent answers after {answers_at:g} s")
    contact.result.events.append(Event("end", action.identifier, "answered by an agent"))
    return ""


_LOOPING_FLOW_TYPES = frozenset({"CUSTOMER_QUEUE", "CUSTOMER_HOLD", "AGENT_HOLD"})
# Flows that run for a contact already in a queue.
_IN_QUEUE_FLOW_TYPES = _LOOPING_FLOW_TYPES | {"CUSTOMER_WHISPER", "AGENT_WHISPER"}


def _set_flow_attributes(sim: Simulator, action: Action, contact: _Contact) -> str:
    for key, spec in (action.parameters.get("FlowAttributes") or {}).items():
        value = spec.get("Value", "") if isinstance(spec, dict) else spec
        contact.flow_attributes[key] = contact.resolve(value)
    return action.next_action


def _resolve_flow(action: Action, contact: _Contact, parameter: str) -> Flow:
    reference = contact.resolve(action.parameters.get(parameter, ""))
    flows = contact.scenario.flows
    for candidate in flow_reference_names(reference):
        if candidate in flows:
            return flows[candidate]
    raise FlowError(
        f"action {action.identifier!r}: {parameter} {reference!r} names no flow in the scenario"
    )


def _transfer_to_flow(sim: Simulator, action: Action, contact: _Contact) -> str:
    target = _resolve_flow(action, contact, "ContactFlowId")
    contact.result.events.append(Event("flow", action.identifier, f"transfer to {target.name}"))
    contact.flow = target
    return target.start_action


def _invoke_module(sim: Simulator, action: Action, contact: _Contact) -> str:
    module = _resolve_flow(action, contact, "FlowModuleId")
    contact.result.events.append(Event("flow", action.identifier, f"module {module.name}"))
    contact.modules.append((contact.flow, action.next_action))
    contact.flow = module
    return module.start_action


def _end_module(sim: Simulator, action: Action, contact: _Contact) -> str:
    if not contact.modules:
        return _end_flow(sim, action, contact)
    contact.flow, return_to = contact.modules.pop()
    return return_to


def _mocked_lambda(action: Action, contact: _Contact, mock: Mock) -> str:
    if mock.kind == "error":
        contact.decided_by_scenario(action, f"a test mocked the error {mock.value}")
        return action.error_target("NoMatchingError")
    answer = {str(k): str(v) for k, v in dict(mock.value or {}).items()}
    contact.result.events.append(Event("lambda", action.identifier, "mocked", answer))
    contact.external = answer
    return action.next_action


def _invoke_lambda(sim: Simulator, action: Action, contact: _Contact) -> str:
    mock = contact.director.override(action, contact.resolve)
    if mock is not None and mock.kind != "substitute":
        return _mocked_lambda(action, contact, mock)
    if mock is not None:
        action = replace(
            action, parameters={**action.parameters, "LambdaFunctionARN": str(mock.value)}
        )
    name, function = sim.function_for(action, contact)
    event = sim.lambda_event(action, contact)
    limit = float(action.parameters.get("InvocationTimeLimitSeconds", 8))
    started = sim.monotonic()
    for _ in range(1 + MAX_LAMBDA_RETRIES):  # Connect retries a failed invocation up to 3 times
        response, failure = _call_once(function, event)
        if sim.monotonic() - started > limit:
            response, failure = None, f"took longer than {limit:g} s"
            break
        if response is not None:
            break
    detail = {k: str(v) for k, v in (response or {}).items()}
    contact.result.events.append(Event("lambda", action.identifier, name, detail))
    if response is None:
        contact.result.events.append(Event("error", action.identifier, f"{name}: {failure}"))
        return action.error_target("NoMatchingError")
    contact.external = dict(detail)
    return action.next_action


def _call_once(
    function: LambdaFunction, event: dict[str, Any]
) -> tuple[dict[str, str] | None, str]:
    try:
        response = function(event)
    except Exception as error:
        return None, f"raised {type(error).__name__}"
    if not isinstance(response, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in response.items()
    ):
        return None, "answered something that is not a flat map of strings"
    return response, ""


_STEPS: Mapping[str, Step] = {
    "MessageParticipant": _message,
    "GetParticipantInput": _get_input,
    "Compare": _compare,
    "UpdateContactAttributes": _set_attributes,
    "UpdateContactTargetQueue": _set_queue,
    "TransferContactToQueue": _transfer_to_queue,
    "DisconnectParticipant": _disconnect,
    "EndFlowExecution": _end_flow,
    "InvokeLambdaFunction": _invoke_lambda,
    "CheckHoursOfOperation": _check_hours,
    "UpdateContactCallbackNumber": _set_callback_number,
    "CreateCallbackContact": _create_callback,
    "UpdateFlowLoggingBehavior": _continue,
    "UpdateContactRecordingBehavior": _continue,
    "UpdateContactRoutingBehavior": _routing_priority,
    "Loop": _loop,
    "Wait": _wait,
    "CheckMetricData": _check_metric,
    "GetMetricData": _get_metrics,
    "ConnectParticipantWithLexBot": _lex,
    "TransferParticipantToThirdParty": _third_party,
    "MessageParticipantIteratively": _play_iteratively,
    "UpdateFlowAttributes": _set_flow_attributes,
    "TransferToFlow": _transfer_to_flow,
    "InvokeFlowModule": _invoke_module,
    "EndFlowModuleExecution": _end_module,
    "UpdateContactData": _continue,
    "UpdateContactEventHooks": _continue,
    "UpdateContactMediaStreamingBehavior": _continue,
    "UpdateContactTextToSpeechVoice": _continue,
    "UpdateContactRecordingAndAnalyticsBehavior": _continue,
}
