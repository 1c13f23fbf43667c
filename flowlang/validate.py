"""Check a flow before Amazon Connect rejects it, or worse, accepts it and strands a caller.

Each finding names the file, the action id and type, and the field. Errors are things Connect
refuses or that break a call; warnings are risky practice (an unrouted error, an unreachable
block). Pure: what the app registers comes in as a `HookCatalogue`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flowlang import catalogue as cat
from flowlang.loader import FlowDocument
from flowlang.model import Action, Flow
from flowlang.placeholders import PLACEHOLDER_SHAPE, flow_reference_names, placeholder_name

_EXTERNAL = re.compile(r"\$\.External\.([A-Za-z0-9_-]+)")
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# Templating done by other tools before upload: ${...}, {{...}} that are not ours.
_FOREIGN_TEMPLATE = re.compile(r"\$\{[^}]+\}|\{\{[^}]+\}\}")
_CALLER = ""  # $.External as the flow was entered: the caller's last Lambda, if any
_SOME_LAMBDA = "?"  # a Lambda (or module) whose outputs we don't know
# Actions that start another flow and the parameter that names it; the flow it starts sees
# $.External as it was at that action (it persists until the next Lambda runs).
_ENTERS = {"TransferToFlow": "ContactFlowId", "InvokeFlowModule": "FlowModuleId"}
_ASSUMED_DYNAMIC_BYTES = 1024


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    rule: str
    source: str
    action_id: str
    action_type: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "file": self.source,
            "action_id": self.action_id,
            "action_type": self.action_type,
            "field": self.field,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.action_id} ({self.action_type})" if self.action_id else "flow"
        target = f" {self.field}:" if self.field else ""
        return f"{self.source}: {self.severity.value}: {where}{target} {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Hook:
    timeout_seconds: int
    outputs: frozenset[str] | None = None  # None: the outputs are not known


@dataclass(frozen=True)
class HookCatalogue:
    """Our Lambda functions: name -> timeout and the keys they can answer."""

    hooks: Mapping[str, Hook] = field(default_factory=dict)
    function_prefix: str = "switchboard-"  # deployed names: switchboard-<stage>-<hook>

    def hook_name(self, arn: str) -> str | None:
        """The hook an ARN or placeholder names, or None when it is not one of ours."""
        name = placeholder_name(arn, "lambda")
        if name:
            return name
        function = arn.rsplit(":function:", 1)[-1] if ":function:" in arn else ""
        if function.startswith(self.function_prefix):
            return function.split("-", 2)[-1]
        return None


class _Checker:
    def __init__(self, document: FlowDocument, hooks: HookCatalogue) -> None:
        self.document = document
        self.flow: Flow = document.flow
        self.hooks = hooks
        self.findings: list[Finding] = []

    def add(
        self, severity: Severity, rule: str, action: Action | None, field_: str, message: str
    ) -> None:
        self.findings.append(
            Finding(
                severity,
                rule,
                self.document.source,
                action.identifier if action else "",
                action.type if action else "",
                field_,
                message,
            )
        )

    def error(self, rule: str, action: Action | None, field_: str, message: str) -> None:
        self.add(Severity.ERROR, rule, action, field_, message)

    def warning(self, rule: str, action: Action | None, field_: str, message: str) -> None:
        self.add(Severity.WARNING, rule, action, field_, message)


def _edges(action: Action) -> Iterator[tuple[str, str]]:
    """(field, target) for every transition of the action."""
    return ((way.field, way.target) for way in action.transitions)


def _check_size_and_identifiers(c: _Checker) -> None:
    if len(c.flow.actions) > cat.MAX_ACTIONS:
        c.error(
            "too-many-actions",
            None,
            "Actions",
            f"{len(c.flow.actions)} actions; Connect allows {cat.MAX_ACTIONS}",
        )
    for action in c.flow.actions.values():
        identifier = action.identifier
        bad = sorted(set(identifier) & cat.FORBIDDEN_IDENTIFIER_CHARACTERS)
        if len(identifier) > cat.MAX_IDENTIFIER:
            c.error(
                "identifier",
                action,
                "Identifier",
                f"is {len(identifier)} characters; the limit is {cat.MAX_IDENTIFIER}",
            )
        if bad or identifier in cat.RESERVED_IDENTIFIERS or not identifier.strip():
            c.error(
                "identifier",
                action,
                "Identifier",
                f"uses a forbidden character or name ({''.join(bad) or identifier!r})",
            )


def _check_types(c: _Checker) -> None:
    flow_type = c.flow.flow_type
    for action in c.flow.actions.values():
        if action.type not in cat.ACTION_TYPES:
            c.warning(
                "unknown-action-type",
                action,
                "Type",
                f"{action.type!r} is not in the flow-language reference we check against: "
                "not checked (its parameters and branches are taken as they are)",
            )
            continue
        allowed = cat.ALLOWED_IN.get(action.type)
        forbidden = cat.FORBIDDEN_IN.get(action.type, frozenset())
        if flow_type and ((allowed and flow_type not in allowed) or flow_type in forbidden):
            c.error(
                "not-allowed-in-flow-type",
                action,
                "Type",
                f"{action.type} cannot be used in a {flow_type} flow",
            )


def _check_targets(c: _Checker) -> None:
    if c.flow.start_action not in c.flow.actions:
        c.error(
            "dangling-transition",
            None,
            "StartAction",
            f"points to {c.flow.start_action!r}, which is not an action",
        )
    for action in c.flow.actions.values():
        for field_, target in _edges(action):
            if target not in c.flow.actions:
                c.error(
                    "dangling-transition",
                    action,
                    field_,
                    f"points to {target!r}, which is not an action",
                )


def _reachable(flow: Flow) -> set[str]:
    seen, stack = set(), [flow.start_action]
    while stack:
        current = stack.pop()
        if current in seen or current not in flow.actions:
            continue
        seen.add(current)
        stack.extend(target for _, target in _edges(flow.actions[current]))
    return seen


def _check_reachability(c: _Checker, reachable: set[str]) -> None:
    for identifier, action in c.flow.actions.items():
        if identifier not in reachable:
            c.warning("unreachable", action, "", "no path from StartAction reaches this action")


def _check_error_routes(c: _Checker) -> None:
    for action in c.flow.actions.values():
        kinds = cat.ERRORS.get(action.type, ())
        if action.type == "Compare" and "NoMatchingCondition" not in action.errors:
            c.error(
                "compare-default",
                action,
                "Transitions.Errors",
                "Compare needs a NoMatchingCondition branch for values no condition matches",
            )
        elif _silence_unrouted(action):
            c.warning(
                "input-timeout",
                action,
                "Transitions.Errors",
                "no InputTimeLimitExceeded branch: a silent caller takes "
                + ("NoMatchingError" if "NoMatchingError" in action.errors else "no route"),
            )
        elif kinds and not action.errors and action.next_action:
            c.warning(
                "unrouted-error",
                action,
                "Transitions.Errors",
                f"can fail ({', '.join(kinds)}) but routes no error: route every error",
            )


def _silence_unrouted(action: Action) -> bool:
    """Get customer input with no timeout branch. With `StoreInput` a timeout is not an
    error: Connect goes down the success branch with the stored value `Timeout`."""
    stores = str(action.parameters.get("StoreInput", "")).lower() == "true"
    return (
        action.type == "GetParticipantInput"
        and not stores
        and "InputTimeLimitExceeded" not in action.errors
    )


def _integer(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _check_lambda(c: _Checker, action: Action) -> None:
    params = action.parameters
    limit = _integer(params.get("InvocationTimeLimitSeconds", ""))
    field_ = "Parameters.InvocationTimeLimitSeconds"
    if "InvocationTimeLimitSeconds" not in params:
        c.error("lambda-timeout", action, field_, "is missing (Connect needs 1 to 8 seconds)")
    elif _is_empty(params["InvocationTimeLimitSeconds"]):
        pass  # said by empty-parameter
    elif limit is None or limit < 1:
        c.error("lambda-timeout", action, field_, "must be a whole number of seconds, 1 to 8")
    elif limit > cat.MAX_LAMBDA_SECONDS:
        c.error(
            "lambda-timeout",
            action,
            field_,
            f"is {limit} s; a synchronous Lambda gets at most {cat.MAX_LAMBDA_SECONDS} s",
        )
    name = c.hooks.hook_name(str(params.get("LambdaFunctionARN", "")))
    if name is None:
        return
    hook = c.hooks.hooks.get(name)
    if hook is None:
        c.error(
            "unknown-function",
            action,
            "Parameters.LambdaFunctionARN",
            f"names {name!r}, which app.py does not register",
        )
    elif limit is not None and limit > hook.timeout_seconds:
        c.error(
            "lambda-timeout",
            action,
            field_,
            f"is {limit} s, above {name}'s own timeout of {hook.timeout_seconds} s",
        )


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _reference_problem(value: Any) -> str:
    if _is_empty(value):
        return ""  # said by empty-parameter
    if not isinstance(value, str):
        return "is not a string"
    for shape in PLACEHOLDER_SHAPE.finditer(value):
        kind, name = shape.groups()
        if placeholder_name(shape.group(0)) is None:
            return f"has an unresolvable placeholder {{{{{kind}:{name}}}}}"
    usable = (
        _ARN.match(value)
        or value.startswith("$.")
        or _UUID.match(value)
        or _FOREIGN_TEMPLATE.search(value)
    )
    return "" if usable else f"{value!r} is not an ARN, id, reference or placeholder"


def _references(
    parameters: Mapping[str, Any], path: str = "Parameters"
) -> Iterator[tuple[str, Any]]:
    for key, value in parameters.items():
        if isinstance(value, dict):
            yield from _references(value, f"{path}.{key}")
        elif key in cat.REFERENCE_PARAMETERS:
            yield f"{path}.{key}", value


def _check_references(c: _Checker) -> None:
    for action in c.flow.actions.values():
        if action.type == "InvokeLambdaFunction":
            _check_lambda(c, action)
        for field_, value in _references(action.parameters):
            problem = _reference_problem(value)
            if problem:
                c.error("unresolved-reference", action, field_, problem)


def _empty_parameters(value: Any, path: str = "Parameters") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in cat.NEVER_EMPTY and _is_empty(item):
                yield f"{path}.{key}"
            else:
                yield from _empty_parameters(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _empty_parameters(item, f"{path}[{index}]")


def _check_empty_parameters(c: _Checker) -> None:
    for action in c.flow.actions.values():
        for field_ in _empty_parameters(action.parameters):
            key = field_.rsplit(".", 1)[-1]
            said = "the function ARN is empty" if key == "LambdaFunctionARN" else "is empty"
            # An empty reference is an unresolved one; any other never-empty value is empty.
            rule = "unresolved-reference" if key in cat.REFERENCE_PARAMETERS else "empty-parameter"
            c.error(rule, action, field_, said)


def _check_metric_types(c: _Checker) -> None:
    for action in c.flow.actions.values():
        if action.type != "CheckMetricData":
            continue
        metric = str(action.parameters.get("MetricType", ""))
        field_ = "Parameters.MetricType"
        if metric and metric not in cat.CHECK_METRICS:
            c.error(
                "metric-type",
                action,
                field_,
                f"{metric!r} is not a CheckMetricData metric (one of "
                f"{', '.join(sorted(cat.CHECK_METRICS))}; dynamic values are not supported)",
            )
        elif metric.startswith("NumberOfAgents"):
            _check_agent_count_conditions(c, action, metric)


def _check_agent_count_conditions(c: _Checker, action: Action, metric: str) -> None:
    for condition in action.conditions:
        if (condition.operator, condition.operands) != ("NumberGreaterThan", ("0",)):
            c.error(
                "metric-type",
                action,
                "Transitions.Conditions",
                f"{metric} allows only the condition NumberGreaterThan 0, not "
                f"{condition.operator} {', '.join(condition.operands)}",
            )


def _attribute_bytes(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value)
    return _ASSUMED_DYNAMIC_BYTES if "$." in text else len(text.encode())


def _check_attribute_size(c: _Checker) -> None:
    sizes: dict[str, int] = {}
    last: Action | None = None
    for action in c.flow.actions.values():
        if action.type != "UpdateContactAttributes":
            continue
        last = action
        for key, value in (action.parameters.get("Attributes") or {}).items():
            sizes[key] = max(sizes.get(key, 0), len(key.encode()) + _attribute_bytes(value))
    total = sum(sizes.values())
    if total > cat.MAX_ATTRIBUTE_BYTES:
        c.warning(
            "attribute-size",
            last,
            "Parameters.Attributes",
            f"the attributes this flow sets could reach {total} bytes (a reference counted "
            f"as {_ASSUMED_DYNAMIC_BYTES}); Connect's limit is {cat.MAX_ATTRIBUTE_BYTES}",
        )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _lambda_token(c: _Checker, action: Action) -> str:
    name = c.hooks.hook_name(str(action.parameters.get("LambdaFunctionARN", "")))
    return name if name is not None and name in c.hooks.hooks else _SOME_LAMBDA


def _last_lambda_sets(c: _Checker, entry: set[str]) -> dict[str, set[str]]:
    """For each action, which Lambda's answer $.External may hold when it runs, starting
    from `entry` (what it holds when the flow is entered)."""
    states: dict[str, set[str]] = {c.flow.start_action: set(entry)}
    work = [c.flow.start_action]
    while work:
        action = c.flow.actions.get(work.pop())
        if action is None:
            continue
        incoming = states[action.identifier]
        for field_, target in _edges(action):
            outgoing = incoming
            if action.type == "InvokeLambdaFunction" and "Errors" not in field_:
                outgoing = {_lambda_token(c, action)}
            elif action.type == "InvokeFlowModule":
                outgoing = incoming | {_SOME_LAMBDA}
            known = states.setdefault(target, set())
            if not outgoing <= known:
                known |= outgoing
                work.append(target)
    return states


def _check_external_reads(c: _Checker, states: Mapping[str, set[str]]) -> None:
    for identifier, action in c.flow.actions.items():
        reads = {m for text in _strings(action.parameters) for m in _EXTERNAL.findall(text)}
        for key in sorted(reads):
            for token in sorted(states.get(identifier, set())):
                _check_external_read(c, action, key, token)


def _check_external_read(c: _Checker, action: Action, key: str, token: str) -> None:
    outputs = c.hooks.hooks[token].outputs if token in c.hooks.hooks else None
    if token == _CALLER:
        c.warning(
            "external-from-caller",
            action,
            "Parameters",
            f"reads $.External.{key} before any Lambda in this flow: it holds what the last "
            "Lambda answered in the flow that transferred here (assumed: validate this flow "
            "together with the flows that transfer to it to check)",
        )
    elif outputs is not None and key not in outputs:
        c.error(
            "external-unset",
            action,
            "Parameters",
            f"reads $.External.{key}, which {token} (the last Lambda on a path here) never answers",
        )


def _names(c: _Checker) -> set[str]:
    """Every name another flow's reference may use for this one."""
    wrapper = c.document.wrapper
    ids = [str(wrapper.get(key, "")) for key in ("Id", "Arn", "ContactFlowId")]
    return {c.flow.name, c.document.source, *ids, *(i.rsplit("/", 1)[-1] for i in ids)} - {""}


def _entered(c: _Checker, action: Action, flows: Mapping[str, _Checker]) -> _Checker | None:
    reference = str(action.parameters.get(_ENTERS[action.type], ""))
    metadata = c.flow.metadata.get("ActionMetadata", {}).get(action.identifier, {})
    shown = metadata.get("parameters", {}).get(_ENTERS[action.type], {})
    names = flow_reference_names(reference)
    if isinstance(shown, dict) and shown.get("displayName"):
        names.append(str(shown["displayName"]))
    console = metadata.get("ContactFlow") or metadata.get("contactFlow") or {}
    if isinstance(console, dict) and console.get("text"):  # the console's display name
        names.append(str(console["text"]))
    return next((flows[name] for name in names if name in flows), None)


def _entry_states(checkers: list[_Checker]) -> dict[int, dict[str, set[str]]]:
    """$.External at every action of every flow, following transfers and module calls
    between the flows given: a flow entered from one of them starts with what its callers
    held there; a flow none of them enters starts with its unknown caller's."""
    flows = {name: c for c in checkers for name in _names(c)}
    entries: dict[int, set[str]] = {id(c): set() for c in checkers}
    states: dict[int, dict[str, set[str]]] = {}
    changed = True
    while changed:
        changed = False
        for c in checkers:
            states[id(c)] = _last_lambda_sets(c, entries[id(c)] or {_CALLER})
            for action in c.flow.actions.values():
                target = _entered(c, action, flows) if action.type in _ENTERS else None
                held = states[id(c)].get(action.identifier, set())
                if target is not None and not held <= entries[id(target)]:
                    entries[id(target)] |= held
                    changed = True
    return states


class _Tarjan:
    """Strongly connected components of the action graph, iteratively (flows can be deep)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.stack: list[str] = []
        self.on_stack: set[str] = set()
        self.components: list[set[str]] = []

    def _children(self, node: str) -> Iterator[str]:
        return (t for _, t in _edges(self.flow.actions[node]) if t in self.flow.actions)

    def _enter(self, node: str, work: list[tuple[str, Iterator[str]]]) -> None:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node)
        work.append((node, self._children(node)))

    def _leave(self, node: str, work: list[tuple[str, Iterator[str]]]) -> None:
        if work:
            parent = work[-1][0]
            self.low[parent] = min(self.low[parent], self.low[node])
        if self.low[node] != self.index[node]:
            return
        component: set[str] = set()
        while not component or node not in component:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.add(member)
        self.components.append(component)

    def run(self) -> list[set[str]]:
        for root in self.flow.actions:
            if root in self.index:
                continue
            work: list[tuple[str, Iterator[str]]] = []
            self._enter(root, work)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is None:
                    work.pop()
                    self._leave(node, work)
                elif child not in self.index:
                    self._enter(child, work)
                elif child in self.on_stack:
                    self.low[node] = min(self.low[node], self.index[child])
        return self.components


def _check_loops(c: _Checker) -> None:
    for component in _Tarjan(c.flow).run():
        members = [c.flow.actions[i] for i in component]
        looping = len(component) > 1 or any(
            t == members[0].identifier for _, t in _edges(members[0])
        )
        if not looping:
            continue
        exits = any(t not in component for a in members for _, t in _edges(a))
        ends = any(a.type in cat.TERMINAL | cat.HAND_OFF for a in members)
        if not exits and not ends:
            first = min(members, key=lambda a: a.identifier)
            c.error(
                "endless-loop",
                first,
                "Transitions",
                f"these {len(members)} actions loop with no way out: "
                + ", ".join(sorted(component)[:6]),
            )


def validate(document: FlowDocument, hooks: HookCatalogue | None = None) -> list[Finding]:
    """One flow, its callers unknown."""
    return validate_set([document], hooks)


def validate_set(
    documents: list[FlowDocument], hooks: HookCatalogue | None = None
) -> list[Finding]:
    """Flows checked together: what one flow reads from $.External after a transfer from
    another is checked against what the other's Lambdas answer."""
    checkers = [_Checker(document, hooks or HookCatalogue()) for document in documents]
    states = _entry_states(checkers)
    for checker in checkers:
        _check_size_and_identifiers(checker)
        _check_types(checker)
        _check_targets(checker)
        _check_reachability(checker, _reachable(checker.flow))
        _check_error_routes(checker)
        _check_references(checker)
        _check_empty_parameters(checker)
        _check_metric_types(checker)
        _check_attribute_size(checker)
        _check_external_reads(checker, states[id(checker)])
        _check_loops(checker)
    return [finding for checker in checkers for finding in checker.findings]
