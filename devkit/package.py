"""`make package STAGE=prod`: one CloudFormation/SAM template for a whole stage, reviewed
and deployed as one artifact.

`infra/template.yaml` (the data stack: tables, bucket, QA's rules, queues and stream; created
as-is in moto by the tests) is extended with what only exists beside the functions, derived
from the app itself so that a new hook or schedule is covered without editing a list:
- a permission for the Connect instance (the `ConnectInstanceArn` parameter) to invoke each
  Connect hook, the hooks being those the capability registry declares outputs for;
- a dead-letter queue for every function Lambda invokes asynchronously (schedules and
  EventBridge rules), so an invocation that fails its retries is kept, not dropped;
- for the Kinesis contact-record mapping, a retry limit, bisection of a failing batch and the
  QA dead-letter queue as its on-failure destination (Chalice cannot set them; ADR 0010);
- alarms, each pointing at its runbook entry in docs/ops.md, to one SNS topic, and a
  dashboard of the same figures (`ALARMS`).
Then `chalice package --merge-template` writes `build/<stage>/sam.json` and the code's zip,
and cfn-lint checks the result.
"""

from __future__ import annotations

import compileall
import json
import os
import py_compile
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.dialer.pacing import TARGET as ABANDONMENT_AIM
from devkit.local_aws import ROOT, TEMPLATE
from devkit.policies import API_HANDLER, ASYNC_DEAD_LETTERS, invocations

BUILD = ROOT / "build"
RUNBOOK = "docs/ops.md#"
NAMESPACE = "Switchboard"  # Powertools metrics: namespace and `service` dimension as configured
SERVICE = "switchboard"
HOOK_P99_MS = 2000  # of the hook's 2.5 s budget; Connect gives a hook 8 s at most


@dataclass(frozen=True)
class Watched:
    """One of our metrics an alarm watches: at least `least` (its `statistic` over 5 minutes)
    in each of `periods` periods in a row."""

    anchor: str  # its runbook entry in docs/ops.md
    metric: str
    least: float
    statistic: str = "Sum"
    periods: int = 1


WATCHED = {
    "HookFallbacks": Watched("hook-fallbacks", "HookFallback", 1),
    # Still UNKNOWN after the reconciler looked, in each of three 5-minute periods: stuck.
    "CallbacksStuckUnknown": Watched(
        "callbacks-stuck-in-unknown", "CallbacksStillUnknown", 1, periods=3
    ),
    "CampaignAbandonment": Watched(
        "campaign-abandonment-near-3-percent",
        "CampaignAbandonmentPercent",
        100 * ABANDONMENT_AIM,
        statistic="Maximum",
    ),
    "QaContactsUnscored": Watched("qa-contacts-unscored", "QaContactsUnscored", 1),
    "QaEarlyWarnings": Watched("qa-early-warnings", "QaEarlyWarnings", 1),
    "ContactEventsWithoutOwner": Watched(
        "contact-events-without-owner", "ContactEventsWithoutOwner", 1
    ),
    "ConnectThrottling": Watched("throttling-from-connect", "ConnectThrottled", 10),
}
# Alarm -> (its runbook anchor, the queue whose messages should be none).
DEAD_LETTER_QUEUES = {
    "QaDeadLettersNotEmpty": ("dead-letters-not-empty", "QaEventsDeadLetterQueue"),
    "AsyncDeadLettersNotEmpty": ("dead-letters-not-empty", "AsyncDeadLetterQueue"),
}
DEAD_LETTERS = "AsyncDeadLetterQueue"
KINESIS_RETRIES = 10


def _long_form(path: Path) -> dict[str, Any]:
    """The template with its short-form tags (`!Ref`, `!GetAtt`, `!Sub`) as the JSON form."""
    from cfnlint.decode import decode_str  # type: ignore[import-untyped]

    template, problems = decode_str(path.read_text())
    if problems or template is None:
        raise SystemExit(f"{path}: {problems}")
    long_form: dict[str, Any] = json.loads(json.dumps(template))
    return long_form


def _functions() -> tuple[list[str], list[str], list[str]]:
    """(Connect hooks, functions Lambda invokes asynchronously, Kinesis consumers), by name."""
    from chalicelib.capabilities import CAPABILITIES

    hooks = sorted({hook for c in CAPABILITIES for hook in c.outputs})
    asynchronous = sorted(name for name, how in invocations().items() if how.asynchronous)
    kinesis = sorted(name for name, how in invocations().items() if how.stream)
    return hooks, asynchronous, kinesis


def _logical(name: str) -> str:
    """The function's resource name in Chalice's template."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if name == API_HANDLER else str(to_cfn_resource_name(name))


def _role(name: str) -> str:
    """Its role's resource name (Chalice spells the API handler's `ApiHandlerRole`)."""
    from chalice.utils import to_cfn_resource_name

    return f"{to_cfn_resource_name(name)}Role"


# Settings a stage may leave to the stack: each is then the stack parameter's value, in the
# functions' environment and (as `${Parameter}`) in their policies (devkit/policies.py).
STACK_SUPPLIED: dict[str, Any] = {
    "CONNECT_INSTANCE_ID": {
        "Fn::Select": [1, {"Fn::Split": ["instance/", {"Ref": "ConnectInstanceArn"}]}]
    },
    "CONTACT_LENS_BUCKET": {"Ref": "ContactLensBucket"},
}
STAND_IN = {  # to read the app with, when the stack supplies the value
    "CONNECT_INSTANCE_ID": "00000000-0000-4000-8000-000000000000",
    "CONTACT_LENS_BUCKET": "stack-parameter",
}
INSTANCE_ARN = r"arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# An instance id's shape, loose enough for a made-up local one ("...-00000000dev0"), not for
# a placeholder ("REPLACE-WITH-...").
ID_SHAPE = "[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}"


def read_as(stage: str) -> None:
    """The stage's settings, with stand-ins for what its stack supplies, set in os.environ:
    the app is read as the stage will run it."""
    from devkit.local_aws import stage_environment

    for variable, value in {**STAND_IN, **stage_environment(stage)}.items():
        os.environ.setdefault(variable, value)


def merge_template(stage: str = "dev") -> dict[str, Any]:
    """The data stack plus what belongs beside the functions (merged into Chalice's)."""
    from devkit.local_aws import stage_environment

    given = stage_environment(stage)
    read_as(stage)
    template = _long_form(TEMPLATE)
    parameters = template["Parameters"]
    parameters["Stage"]["Default"] = stage
    if "CONTACT_LENS_BUCKET" in given:
        parameters["ContactLensBucket"]["Default"] = given["CONTACT_LENS_BUCKET"]
    hooks, asynchronous, kinesis = _functions()
    # A stage that names its instance accepts only that instance's ARN: the hooks' permission,
    # the functions' settings and their policies can never name two instances.
    instance = given.get("CONNECT_INSTANCE_ID", UUID)
    parameters["ConnectInstanceArn"] = {
        "Type": "String",
        "AllowedPattern": f"^{INSTANCE_ARN}{instance}$",
        "ConstraintDescription": "the ARN of the stage's Connect instance",
        "Description": "The Connect instance whose flows invoke the hooks.",
    }
    resources = template["Resources"]
    resources[DEAD_LETTERS] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": {"Fn::Sub": f"switchboard-${{Stage}}-{ASYNC_DEAD_LETTERS}"},
            "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True,
        },
    }
    resources.update(watched(hooks))
    for hook in hooks:
        resources[f"{_logical(hook)}ConnectPermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": _logical(hook)},
                "Principal": "connect.amazonaws.com",
                "SourceAccount": {"Ref": "AWS::AccountId"},
                "SourceArn": {"Ref": "ConnectInstanceArn"},
            },
        }
    outputs = template.setdefault("Outputs", {})
    for name in sorted(invocations()):
        resources.update(_function(stage, name, given))
        # `switchboard flows deploy` finds the functions here (devkit/deploy.stack_outputs).
        logical = _logical(name)
        outputs[f"{logical}Arn"] = {"Description": name, "Value": {"Fn::GetAtt": [logical, "Arn"]}}
    for variable, value in STACK_SUPPLIED.items():  # for the CLI (devkit/deploy.py)
        outputs[variable.title().replace("_", "") + "Setting"] = {
            "Description": variable, "Value": value
        }  # fmt: skip
    for name in asynchronous:
        resources[_logical(name)]["Properties"] |= {
            "DeadLetterQueue": {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]}}
        }
    for name in kinesis:
        failed = {"OnFailure": {"Destination": {"Fn::GetAtt": ["QaEventsDeadLetterQueue", "Arn"]}}}
        source = f"{_logical(name)}KinesisEventSource"
        mapping = {"MaximumRetryAttempts": KINESIS_RETRIES, "BisectBatchOnFunctionError": True,
                   "DestinationConfig": failed}  # fmt: skip
        resources[_logical(name)]["Properties"]["Events"] = {source: {"Properties": mapping}}
    return template


def _function(stage: str, name: str, given: dict[str, str]) -> dict[str, Any]:
    """The function named as `chalice deploy` names it, the settings its stack supplies, and
    its role's policy with the stack's parameters in it."""
    from devkit.policies import function_name, policy

    supplied = {v: value for v, value in STACK_SUPPLIED.items() if v not in given}
    properties: dict[str, Any] = {"FunctionName": function_name(stage, name)}
    if supplied:
        properties["Environment"] = {"Variables": supplied}
    role = _role(name)
    named = {"PolicyName": f"{role}Policy", "PolicyDocument": _substituted(policy(stage, name))}
    return {_logical(name): {"Properties": properties}, role: {"Properties": {"Policies": [named]}}}


def _substituted(value: Any) -> Any:
    """Each string naming a stack parameter (`${ConnectInstanceArn}`) as an `Fn::Sub`."""
    if isinstance(value, dict):
        return {key: _substituted(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_substituted(inner) for inner in value]
    return {"Fn::Sub": value} if isinstance(value, str) and "${" in value else value


def _alarm(anchor: str, description: str, metric: dict[str, Any], threshold: float) -> Any:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"{description} Runbook: {RUNBOOK}{anchor}",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 1,  # unless the metric says otherwise
            "Period": 300,
            "Threshold": threshold,
            "TreatMissingData": "notBreaching",
            **metric,
        },
    }


def watched(hooks: list[str]) -> dict[str, Any]:
    """The alarms, their topic and the dashboard, as resources."""
    resources: dict[str, Any] = {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "switchboard-${Stage}-alarms"}},
        }
    }
    ours = [{"Name": "service", "Value": SERVICE}]
    for name, watch in WATCHED.items():
        resources[f"{name}Alarm"] = _alarm(
            watch.anchor,
            f"{watch.metric}'s {watch.statistic} is {watch.least:g} or more "
            f"in {watch.periods} 5-minute period(s) in a row.",
            {"Namespace": NAMESPACE, "MetricName": watch.metric, "Dimensions": ours,
             "Statistic": watch.statistic, "EvaluationPeriods": watch.periods,
             "DatapointsToAlarm": watch.periods},
            watch.least,
        )  # fmt: skip
    for name, (anchor, queue) in DEAD_LETTER_QUEUES.items():
        resources[f"{name}Alarm"] = _alarm(
            anchor,
            f"Messages are waiting in {queue}.",
            {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
             "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}],
             "Statistic": "Maximum"},
            1,
        )  # fmt: skip
    for hook in hooks:
        resources[f"{_logical(hook)}SlowAlarm"] = _alarm(
            "hook-p99-near-the-connect-timeout",
            f"{hook}'s p99 duration is {HOOK_P99_MS} ms or more.",
            {"Namespace": "AWS/Lambda", "MetricName": "Duration",
             "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": _logical(hook)}}],
             "ExtendedStatistic": "p99"},
            HOOK_P99_MS,
        )  # fmt: skip
    resources["Dashboard"] = _dashboard(hooks)
    return resources


def _dashboard(hooks: list[str]) -> Any:
    """One page of the figures the alarms watch."""
    counted = [
        [NAMESPACE, w.metric, "service", SERVICE, {"stat": w.statistic}] for w in WATCHED.values()
    ]
    queues = [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{queue}.QueueName}}"]
        for _, queue in DEAD_LETTER_QUEUES.values()
    ]
    durations = [
        ["AWS/Lambda", "Duration", "FunctionName", f"${{{_logical(h)}}}", {"stat": "p99"}]
        for h in hooks
    ]
    widgets = [
        _widget("Hooks, fallbacks and QA (count per 5 minutes)", counted, 0),
        _widget("Dead-letter queues (messages waiting)", queues, 6),
        _widget(f"Hook duration p99 (ms; alarm at {HOOK_P99_MS})", durations, 12),
    ]
    body = json.dumps({"widgets": widgets})
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": "switchboard-${Stage}"},
            "DashboardBody": {"Fn::Sub": body},
        },
    }


def _widget(title: str, metrics: list[list[Any]], y: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": 0,
        "y": y,
        "width": 24,
        "height": 6,
        "properties": {
            "title": title,
            "metrics": metrics,
            "period": 300,
            "stat": "Sum",
            "region": "${AWS::Region}",
        },
    }


class ConfigurationError(SystemExit):
    """The stage's settings disagree with each other; nothing was packaged."""


def configuration_problems(environment: dict[str, str]) -> list[str]:
    """What the stage's settings, the routing rules, the campaigns in `campaigns/` and the
    policy files must agree on, said as the fix. The policies name the instance the settings
    or the stack name (devkit/policies.py), so they cannot disagree with CONNECT_INSTANCE_ID."""
    import re

    from chalicelib.bootstrap import load_routing_rules
    from chalicelib.dialer.schema import target_name
    from chalicelib.platform.settings import load_settings, unmapped_queues
    from devkit.policies import stale

    config = load_settings({**STAND_IN, **environment})
    problems = [
        f"QUEUE_IDS has no Connect queue id for {name!r}, a queue of the routing rules"
        for name in unmapped_queues(config, load_routing_rules().queues)
    ]
    for path in sorted((ROOT / "campaigns").glob("*.json")):
        queue = target_name(json.loads(path.read_text()).get("queue") or "")
        if queue and unmapped_queues(config, [queue]):
            problems.append(f"QUEUE_IDS has no Connect queue id for {queue!r} ({path.name})")
    instance = environment.get("CONNECT_INSTANCE_ID")
    if instance is not None and not re.fullmatch(ID_SHAPE, instance):
        problems.append(
            f"CONNECT_INSTANCE_ID {instance!r} is not an instance id: give the instance's id, "
            "or leave it out and the stack's ConnectInstanceArn supplies it"
        )
    return problems + stale()


def package(stage: str, out: Path, bytecode: bool = True) -> Path:
    """Write `out/sam.json` (and the code's zip, with bytecode unless told otherwise) for the
    stage; its path. Settings that disagree stop it with every problem named."""
    from devkit.local_aws import stage_environment

    problems = configuration_problems(stage_environment(stage))
    if problems:
        raise ConfigurationError(f"{stage}: " + "; ".join(problems))
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge-template.json"
    merge.write_text(json.dumps(merge_template(stage), indent=1))
    # Chalice asks for a region to name ARNs; with no account, any will do for the template.
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run(
        [str(chalice), "package", "--stage", stage, "--merge-template", str(merge), str(out)],
        cwd=ROOT, env={**os.environ, "AWS_DEFAULT_REGION": region}, check=True,
    )  # fmt: skip
    if bytecode:
        with_bytecode(out / "deployment.zip")
    return out / "sam.json"


def with_bytecode(archive: Path) -> int:
    """Add every module's compiled bytecode to the code's zip; how many files were added.

    Lambda's code directory is read-only, so without bytecode each cold start compiles every
    module it imports, botocore's included, from source: `import app` for a hook took 829 ms
    from the package and 305 ms with its bytecode (bench/cold_start.py runs the package).
    The interpreter that packages is the one Chalice names the runtime after, so the
    bytecode is for the runtime's Python. The zip's files all carry 1980's date, so
    bytecode checked against a source's time would be judged stale: it is unchecked-hash
    bytecode, right for code that never changes in place."""
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        with zipfile.ZipFile(archive) as packaged:
            packaged.extractall(root)
        before = set(root.rglob("*.pyc"))
        compileall.compile_dir(
            root,
            quiet=2,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        added = sorted(set(root.rglob("*.pyc")) - before)
        with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as packaged:
            for path in added:
                entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), (1980, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                packaged.writestr(entry, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return len(added)


def main() -> int:
    stage = sys.argv[1] if len(sys.argv) > 1 else "dev"
    written = package(stage, BUILD / stage)
    print(f"{written.relative_to(ROOT)}: the {stage} stage, one template")
    return 0


if __name__ == "__main__":
    sys.exit(main())
