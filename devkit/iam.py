"""What IAM would ask of each AWS request our functions make, and whether a policy allows it.

The policy-coverage proof (docs/ops.md, "Least privilege") has two halves:
- every request a function makes in the tests is checked, as it is made, against that
  function's own policy (`.chalice/policies/<stage>/<function>.json`), and refused with
  `AccessDeniedException` as AWS would refuse it (tests/integration/conftest.py);
- after the whole suite, every permission of every policy must have been used by a request of
  that function or by what Lambda itself does with the function's role (`runtime_needs`).

`requests` turns one botocore call (service, operation, parameters) into the IAM requests it
needs: a transaction asks for each item's own action on each table, a batch for its action
on every table named, an S3 multipart upload for `s3:PutObject`. A call with no mapping here
is refused too, so a new kind of call cannot pass unexamined.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

ACCOUNT = "123456789012"


class UnmappedCall(Exception):
    """A botocore operation this module cannot say the IAM action or resource of."""


@dataclass(frozen=True)
class Request:
    """One IAM authorisation: an action on a resource, with the condition keys it carries."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = field(default=())

    def __str__(self) -> str:
        keys = "".join(f" [{k}={v}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{keys}"


def _dynamodb(region: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    def table(name: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Request(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        inner = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                 "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}  # fmt: skip
        return [
            Request(f"dynamodb:{inner[kind]}", table(body["TableName"]))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if "TableName" not in params:
        raise UnmappedCall(f"dynamodb {operation} names no table")
    return [Request(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))]


# Per the Service Authorization Reference: the resource type each Connect action is
# authorised on (contact actions on the contact, search on the instance, metrics per queue).
_CONNECT_RESOURCES = {
    "StartOutboundVoiceContact": "contact",
    "DescribeContact": "contact",
    "SearchContacts": "instance",
    "GetCurrentMetricData": "queue",
}


def _connect(region: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    kind = _CONNECT_RESOURCES.get(operation)
    if kind is None:
        raise UnmappedCall(f"connect {operation} has no resource mapping")
    instance = f"arn:aws:connect:{region}:{ACCOUNT}:instance/{params['InstanceId']}"
    if kind == "instance":
        resources = [instance]
    elif kind == "contact":
        resources = [f"{instance}/contact/{params.get('ContactId', 'new')}"]
    else:
        queues = params.get("Filters", {}).get("Queues", [])
        resources = [f"{instance}/queue/{queue}" for queue in queues]
    return [Request(f"connect:{operation}", resource) for resource in resources]


_S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
}


def _s3(region: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    action = _S3_ACTIONS.get(operation)
    if action is None:
        raise UnmappedCall(f"s3 {operation} has no action mapping")
    return [Request(action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}")]


def _sqs(region: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    name = params.get("QueueName") or str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
    action = "sqs:SendMessage" if operation == "SendMessageBatch" else f"sqs:{operation}"
    return [Request(action, f"arn:aws:sqs:{region}:{ACCOUNT}:{name}")]


def _events(region: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    if operation != "PutEvents":
        raise UnmappedCall(f"events {operation} has no resource mapping")
    return [
        Request(
            "events:PutEvents",
            f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{entry.get('EventBusName', 'default')}",
            (("events:source", str(entry.get("Source", ""))),),
        )
        for entry in params["Entries"]
    ]


def _ssm(region: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
    names = params.get("Names") or [params.get("Name") or params.get("Path")]
    return [
        Request(f"ssm:{operation}", f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{n}") for n in names
    ]


_SERVICES = {
    "dynamodb": _dynamodb,
    "connect": _connect,
    "s3": _s3,
    "sqs": _sqs,
    "events": _events,
    "ssm": _ssm,
}


def requests(service: str, operation: str, params: Mapping[str, Any], region: str) -> list[Request]:
    """The IAM requests one botocore call makes; `UnmappedCall` when this cannot say."""
    mapping = _SERVICES.get(service)
    if mapping is None:
        raise UnmappedCall(f"{service} {operation}: no IAM mapping for the {service} service")
    return mapping(region, operation, params)


def _listed(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """StringEquals and StringLike, the only operators our policies use; any other is False."""
    for operator, keys in condition.items():
        if operator not in ("StringEquals", "StringLike"):
            return False
        for key, wanted in keys.items():
            got = context.get(key)
            patterns = _listed(wanted)
            if got is None:
                return False
            if operator == "StringEquals" and got not in patterns:
                return False
            if operator == "StringLike" and not any(fnmatchcase(got, p) for p in patterns):
                return False
    return True


def statement_allows(statement: Mapping[str, Any], request: Request) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    action = request.action.lower()
    if not any(fnmatchcase(action, a.lower()) for a in _listed(statement["Action"])):
        return False
    if not any(fnmatchcase(request.resource, r) for r in _listed(statement["Resource"])):
        return False
    return _condition_holds(statement.get("Condition", {}), dict(request.context))


def allows(policy: Mapping[str, Any], request: Request) -> bool:
    """Whether an identity policy of Allow statements lets the request through."""
    return any(statement_allows(s, request) for s in policy["Statement"])


@dataclass(frozen=True)
class Grant:
    """One action on one resource pattern of a policy statement."""

    sid: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.action} on {self.resource} ({self.sid})"


def unused(policy: Mapping[str, Any], used: Iterable[Request]) -> list[Grant]:
    """The policy's grants no request used: each (action, resource) of each statement, under
    that statement's condition, must have served one."""
    seen = list(used)
    left = []
    for statement in policy["Statement"]:
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                single = {**statement, "Action": action, "Resource": resource}
                if not any(statement_allows(single, request) for request in seen):
                    left.append(Grant(statement.get("Sid", "?"), action, resource))
    return left


def missing(policy: Mapping[str, Any], used: Iterable[Request]) -> list[Request]:
    """The requests the policy does not allow."""
    return sorted({r for r in used if not allows(policy, r)}, key=str)


CURRENT_FUNCTION: ContextVar[str | None] = ContextVar("lambda_function", default=None)


_OURS = f"{os.sep}chalicelib{os.sep}"
_RELATIVE: dict[str, str | None] = {}  # a file's path from chalicelib/, None if not ours


def _relative(path: str) -> str | None:
    if path not in _RELATIVE:
        _RELATIVE[path] = path[path.rindex(_OURS) + 1 :] if _OURS in path else None
    return _RELATIVE[path]


def call_site(with_line: bool = True) -> str:
    """Where in chalicelib/ the AWS call was made: the innermost frame of ours."""
    frame = sys._getframe(1)
    while frame is not None:
        relative = _relative(frame.f_code.co_filename)
        if relative is not None:
            if with_line:
                return f"{relative}:{frame.f_lineno} ({frame.f_code.co_qualname})"
            # A comprehension or a nested function is its enclosing function's call site.
            return f"{relative} ({frame.f_code.co_qualname.split('.<locals>')[0]})"
        frame = frame.f_back  # type: ignore[assignment]
    return OUTSIDE


OUTSIDE = "outside chalicelib/"


@dataclass
class Enforcer:
    """IAM for the tests: each AWS call made inside a Lambda function (named by
    `CURRENT_FUNCTION`) is checked against that function's policy and refused as AWS would
    refuse it; what was used and what was refused are kept for the coverage check."""

    policy_of: Callable[[str], Mapping[str, Any]]
    used: dict[str, set[Request]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    # Our call sites that made an AWS call, by the function they ran in ("" for none: the
    # CLI, a test calling a store directly): which of them no function was seen to reach.
    sites: dict[str, set[str]] = field(default_factory=dict)
    _decided: dict[tuple[str, Request], tuple[Mapping[str, Any], bool]] = field(
        default_factory=dict, repr=False
    )

    def check(self, client: Any, operation: str, params: Mapping[str, Any]) -> None:
        function = CURRENT_FUNCTION.get()
        self.sites.setdefault(function or "", set()).add(call_site(with_line=False))
        if function is None:
            return  # the test's own set-up and checks, not a Lambda function
        service = client.meta.service_model.service_name
        try:
            asked = requests(service, operation, params, client.meta.region_name)
        except UnmappedCall as error:
            self._refuse(function, operation, f"{error} (add it to devkit/iam.py)")
            return
        self.used.setdefault(function, set()).update(asked)
        denied = [r for r in asked if not self._allowed(function, r)]
        if denied:
            self._refuse(function, operation, ", ".join(map(str, denied)))

    def _allowed(self, function: str, request: Request) -> bool:
        """`allows`, remembered: the same few requests come again and again."""
        policy = self.policy_of(function)
        known = self._decided.get((function, request))
        if known is None or known[0] is not policy:  # a test may hand another policy in
            known = (policy, allows(policy, request))
            self._decided[(function, request)] = known
        return known[1]

    def _refuse(self, function: str, operation: str, what: str) -> None:
        from botocore.exceptions import ClientError

        message = f"{function} may not: {what}; called from {call_site()}"
        self.refused.append(message)
        error = {"Error": {"Code": "AccessDeniedException", "Message": message}}
        raise ClientError(error, operation)  # type: ignore[arg-type]


def cold_start(services: Iterable[object]) -> None:
    """What a new Lambda process would not have: our modules' cached lookups (the dead-letter
    queue's URL, the settings) and every cache inside the services served (the caller key,
    the rubrics). Each function is its own process in AWS; without this, a lookup one
    function made would hide the same need in the next function the test invokes."""
    for name, module in list(sys.modules.items()):
        if name.startswith("chalicelib"):
            for value in list(vars(module).values()):
                if getattr(value, "__module__", "") == name and hasattr(value, "cache_clear"):
                    value.cache_clear()
    ours = ("chalicelib", "aws_lambda_powertools")
    seen: set[int] = set()
    stack = [(service, 0) for service in services]
    while stack:
        value, depth = stack.pop()
        if id(value) in seen or depth > 4:
            continue
        seen.add(id(value))
        if callable(getattr(type(value), "clear_cache", None)):
            value.clear_cache()  # type: ignore[attr-defined]
        stack.extend(
            (inner, depth + 1)
            for inner in getattr(value, "__dict__", {}).values()
            if type(inner).__module__.startswith(ours)
        )
