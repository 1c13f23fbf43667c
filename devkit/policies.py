"""One IAM policy per Lambda function, written from `infra/permissions.json`.

`python -m devkit.policies` writes `.chalice/policies/<stage>/<function>.json` for every stage
in `.chalice/config.json` (Chalice gives each function its own role from its file);
`--check` exits 1 naming any file that is not what the spec says (`make check`, and a test).

A policy is the spec's grants for the function, with resources named for the stage, plus what
Lambda itself does with the function's role, derived from the app (`runtime_grants`):
- its own log group (`logs:CreateLogGroup`, `CreateLogStream`, `PutLogEvents`);
- traces (`xray:PutTraceSegments`, `PutTelemetryRecords`): X-Ray has no resource-level
  permissions, the one `Resource: "*"`;
- the reads of its SQS or Kinesis event source;
- the dead-letter queue the package gives every asynchronously invoked function, and a Kinesis
  consumer's on-failure destination.

A value the stage's settings do not give (prod's Connect instance and its bucket) is written
as `${ConnectInstanceArn}` or `${ContactLensBucket}`: the package's stack parameters, which
`make package` substitutes (`Fn::Sub`), so that a deployed policy always names the instance
the stack was given.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from devkit.iam import ACCOUNT, Request
from devkit.local_aws import CHALICE_CONFIG, ROOT, stage_environment

SPEC = ROOT / "infra" / "permissions.json"
POLICIES = ROOT / ".chalice" / "policies"
API_HANDLER = "api_handler"  # Chalice's name for the function that serves every HTTP route
ASYNC_DEAD_LETTERS = "async-dead-letters"
QA_DEAD_LETTERS = "qa-dead-letters"
KINESIS_READS = ("DescribeStream", "DescribeStreamSummary", "GetRecords", "GetShardIterator",
                 "ListShards")  # fmt: skip
SQS_READS = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")


@dataclass(frozen=True)
class Invocation:
    """How Lambda runs a function, which decides what its role does besides our calls."""

    asynchronous: bool = False  # by a schedule or an EventBridge rule: a dead-letter queue
    queue: str = ""  # an SQS event source, by its short name ("qa-events")
    stream: str = ""  # a Kinesis event source, by its short name ("contact-records")


def _short(name: str) -> str:
    """`switchboard-dev-qa-events` -> `qa-events`: the app is read with one stage's names."""
    return name.split("-", 2)[2]


@cache
def invocations() -> dict[str, Invocation]:
    """Every Lambda function of the app, by name, with how it is invoked."""
    import os

    from chalice.app import (
        CloudWatchEventConfig,
        KinesisEventConfig,
        ScheduledEventConfig,
        SQSEventConfig,
    )

    for variable, value in stage_environment("dev").items():
        os.environ.setdefault(variable, value)  # any stage's names: only their shape is read
    from app import app

    found = {API_HANDLER: Invocation()}
    found.update({f.name: Invocation() for f in app.pure_lambda_functions})
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig | CloudWatchEventConfig):
            found[source.name] = Invocation(asynchronous=True)
        elif isinstance(source, SQSEventConfig):
            found[source.name] = Invocation(queue=_short(str(source.queue)))
        elif isinstance(source, KinesisEventConfig):
            found[source.name] = Invocation(stream=_short(source.stream))
        else:  # S3 notifications and SNS would invoke asynchronously too
            found[source.name] = Invocation(asynchronous=True)
    return found


def function_name(stage: str, function: str) -> str:
    """The deployed name, as `chalice deploy` gives it and the package sets it."""
    return f"switchboard-{stage}" if function == API_HANDLER else f"switchboard-{stage}-{function}"


@cache
def _instance_and_bucket(stage: str) -> tuple[str, str]:
    """The stage's Connect instance ARN and bucket, or the stack parameters naming them."""
    environment = stage_environment(stage)
    instance_id = environment.get("CONNECT_INSTANCE_ID")
    instance = (
        f"arn:aws:connect:*:*:instance/{instance_id}" if instance_id else "${ConnectInstanceArn}"
    )
    return instance, environment.get("CONTACT_LENS_BUCKET") or "${ContactLensBucket}"


def _resource(short: str, stage: str) -> str:
    instance, bucket = _instance_and_bucket(stage)
    kind, _, rest = short.partition("/")
    named = {
        "table": f"arn:aws:dynamodb:*:*:table/switchboard-{stage}-{rest}",
        "queue": f"arn:aws:sqs:*:*:switchboard-{stage}-{rest}",
        "stream": f"arn:aws:kinesis:*:*:stream/switchboard-{stage}-{rest}",
        "connect": instance if rest == "instance" else f"{instance}/{rest}/*",
        "contact-lens": f"arn:aws:s3:::{bucket}/{rest}",
        "lists": f"arn:aws:s3:::switchboard-{stage}-lists-*/{rest}",
        "parameter": f"arn:aws:ssm:*:*:parameter/switchboard/{stage}/{rest}",
        "event-bus": f"arn:aws:events:*:*:event-bus/{rest}",
    }
    if kind not in named:
        raise ValueError(f"{SPEC.name}: no kind of resource {short!r}")
    return named[kind]


def _sid(action: str) -> str:
    service, _, name = action.partition(":")
    return service.title().replace("-", "") + name


def runtime_grants(stage: str, function: str) -> list[dict[str, Any]]:
    """What Lambda does with the function's role, as statements."""
    how = invocations()[function]
    group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{function_name(stage, function)}"
    statements = [
        _statement("LambdaLogGroup", ["logs:CreateLogGroup"], [group]),
        _statement("LambdaLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{group}:*"]),
        _statement("LambdaTracesHaveNoResourceLevelPermissions",
                   ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ]  # fmt: skip
    if how.queue:
        actions = [f"sqs:{a}" for a in SQS_READS]
        statements.append(
            _statement("LambdaEventSource", actions, [_resource(f"queue/{how.queue}", stage)])
        )
    if how.stream:
        actions = [f"kinesis:{a}" for a in KINESIS_READS]
        statements.append(
            _statement("LambdaEventSource", actions, [_resource(f"stream/{how.stream}", stage)])
        )
        failed = QA_DEAD_LETTERS  # the mapping's on-failure destination (devkit/package.py)
        statements.append(
            _statement(
                "LambdaOnFailure", ["sqs:SendMessage"], [_resource(f"queue/{failed}", stage)]
            )
        )
    if how.asynchronous:
        where = [_resource(f"queue/{ASYNC_DEAD_LETTERS}", stage)]
        statements.append(_statement("LambdaDeadLetters", ["sqs:SendMessage"], where))
    return statements


def runtime_needs(stage: str, function: str, region: str = "us-east-1") -> list[Request]:
    """The requests Lambda makes with the role, as the coverage check counts them used."""
    how = invocations()[function]
    group = (
        f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{function_name(stage, function)}"
    )
    needs = [
        Request("logs:CreateLogGroup", group),
        Request("logs:CreateLogStream", f"{group}:log-stream:1"),
        Request("logs:PutLogEvents", f"{group}:log-stream:1"),
        Request("xray:PutTraceSegments", "*"),
        Request("xray:PutTelemetryRecords", "*"),
    ]

    def queue(short: str) -> str:
        return f"arn:aws:sqs:{region}:{ACCOUNT}:switchboard-{stage}-{short}"

    if how.queue:
        needs += [Request(f"sqs:{a}", queue(how.queue)) for a in SQS_READS]
    if how.stream:
        stream = f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/switchboard-{stage}-{how.stream}"
        needs += [Request(f"kinesis:{a}", stream) for a in KINESIS_READS]
        needs.append(Request("sqs:SendMessage", queue(QA_DEAD_LETTERS)))
    if how.asynchronous:
        needs.append(Request("sqs:SendMessage", queue(ASYNC_DEAD_LETTERS)))
    return needs


def _statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


@cache
def _spec() -> dict[str, Any]:
    functions: dict[str, Any] = json.loads(SPEC.read_text())["functions"]
    return functions


def policy(stage: str, function: str) -> dict[str, Any]:
    """The function's policy document for the stage."""
    grants = _spec().get(function)
    if grants is None:
        raise KeyError(f"{SPEC.name} has no entry for the function {function!r}")
    statements = runtime_grants(stage, function)
    for action, granted in sorted(grants.items()):
        if isinstance(granted, list):
            granted = {"resources": granted}
        resources = [_resource(short, stage) for short in granted["resources"]]
        extra = {"Condition": granted["condition"]} if "condition" in granted else {}
        statements.append(_statement(_sid(action), [action], resources, **extra))
    return {"Version": "2012-10-17", "Statement": statements}


def policy_file(stage: str, function: str) -> Path:
    return POLICIES / stage / f"{function}.json"


def _stages() -> list[str]:
    return sorted(json.loads(CHALICE_CONFIG.read_text())["stages"])


def stale() -> list[str]:
    """The policy files that are not what the spec and the app say, and the functions the
    spec names that the app does not have."""
    problems = [f"{SPEC.name} names {f!r}, which the app does not have"
                for f in sorted(set(_spec()) - set(invocations()))]  # fmt: skip
    for stage in _stages():
        for function in sorted(invocations()):
            path = policy_file(stage, function)
            wanted = json.dumps(policy(stage, function), indent=2) + "\n"
            if not path.exists() or path.read_text() != wanted:
                problems.append(f"{path.relative_to(ROOT)} is not what {SPEC.name} says")
    return problems


def write() -> list[Path]:
    written = []
    for stage in _stages():
        for function in sorted(invocations()):
            path = policy_file(stage, function)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(policy(stage, function), indent=2) + "\n")
            written.append(path)
    return written


def main(arguments: list[str]) -> int:
    if "--check" in arguments:
        problems = stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python -m devkit.policies", file=sys.stderr)
        return 1 if problems else 0
    print(f"{len(write())} policies written to {POLICIES.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
