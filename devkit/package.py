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

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from devkit.local_aws import ROOT, TEMPLATE

BUILD = ROOT / "build"
RUNBOOK = "docs/ops.md#"
NAMESPACE = "Switchboard"  # Powertools metrics: namespace and `service` dimension as configured
SERVICE = "switchboard"
HOOK_P99_MS = 2000  # of the hook's 2.5 s budget; Connect gives a hook 8 s at most

# Alarm -> (its runbook anchor, our metric counted per 5 minutes, at least this many).
COUNTED = {
    "HookFallbacks": ("hook-fallbacks", "HookFallback", 1),
    "QaContactsUnscored": ("qa-contacts-unscored", "QaContactsUnscored", 1),
    "QaEarlyWarnings": ("qa-early-warnings", "QaEarlyWarnings", 1),
    "ContactEventsWithoutOwner": ("contact-events-without-owner", "ContactEventsWithoutOwner", 1),
    "ConnectThrottling": ("throttling-from-connect", "ConnectThrottled", 10),
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
    from chalice.app import CloudWatchEventConfig, KinesisEventConfig, ScheduledEventConfig

    from app import app
    from chalicelib.capabilities import CAPABILITIES

    hooks = sorted({hook for c in CAPABILITIES for hook in c.outputs})
    asynchronous = sorted(
        source.name
        for source in app.event_sources
        if isinstance(source, ScheduledEventConfig | CloudWatchEventConfig)
    )
    kinesis = sorted(s.name for s in app.event_sources if isinstance(s, KinesisEventConfig))
    return hooks, asynchronous, kinesis


def _logical(name: str) -> str:
    from chalice.utils import to_cfn_resource_name

    return str(to_cfn_resource_name(name))


def merge_template(stage: str = "dev") -> dict[str, Any]:
    """The data stack plus what belongs beside the functions (merged into Chalice's)."""
    from devkit.local_aws import stage_environment

    for variable, value in stage_environment(stage).items():
        os.environ.setdefault(variable, value)  # the app is read as the stage will run it
    template = _long_form(TEMPLATE)
    parameters = template["Parameters"]
    parameters["Stage"]["Default"] = stage
    parameters["ContactLensBucket"]["Default"] = stage_environment(stage)["CONTACT_LENS_BUCKET"]
    hooks, asynchronous, kinesis = _functions()
    parameters["ConnectInstanceArn"] = {
        "Type": "String",
        "AllowedPattern": r"^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance/[0-9a-f-]{36}$",
        "Description": "The Connect instance allowed to invoke the hooks.",
    }
    resources = template["Resources"]
    resources[DEAD_LETTERS] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": {"Fn::Sub": "switchboard-${Stage}-async-dead-letters"},
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
    for name in asynchronous:
        resources[_logical(name)] = {
            "Properties": {
                "DeadLetterQueue": {
                    "Type": "SQS",
                    "TargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]},
                }
            }
        }
    for name in kinesis:
        source = f"{_logical(name)}KinesisEventSource"
        resources[_logical(name)] = {
            "Properties": {
                "Events": {
                    source: {
                        "Properties": {
                            "MaximumRetryAttempts": KINESIS_RETRIES,
                            "BisectBatchOnFunctionError": True,
                            "DestinationConfig": {
                                "OnFailure": {
                                    "Destination": {
                                        "Fn::GetAtt": ["QaEventsDeadLetterQueue", "Arn"]
                                    }
                                }
                            },
                        }
                    }
                }
            }
        }
    return template


def _alarm(anchor: str, description: str, metric: dict[str, Any], threshold: float) -> Any:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"{description} Runbook: {RUNBOOK}{anchor}",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 1,
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
    for name, (anchor, metric, least) in COUNTED.items():
        resources[f"{name}Alarm"] = _alarm(
            anchor,
            f"{metric} counted {least} or more in 5 minutes.",
            {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": ours,
             "Statistic": "Sum"},
            least,
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
    counted = [[NAMESPACE, metric, "service", SERVICE] for _, metric, _ in COUNTED.values()]
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


def configuration_problems(environment: dict[str, str], policy: str) -> list[str]:
    """What the stage's settings, its policy, the routing rules and the campaigns in
    `campaigns/` must agree on, said as the fix."""
    from chalicelib.bootstrap import load_routing_rules
    from chalicelib.dialer.schema import target_name
    from chalicelib.platform.settings import load_settings, unmapped_queues

    config = load_settings(environment)
    problems = [
        f"QUEUE_IDS has no Connect queue id for {name!r}, a queue of the routing rules"
        for name in unmapped_queues(config, load_routing_rules().queues)
    ]
    for path in sorted((ROOT / "campaigns").glob("*.json")):
        queue = target_name(json.loads(path.read_text()).get("queue") or "")
        if queue and unmapped_queues(config, [queue]):
            problems.append(f"QUEUE_IDS has no Connect queue id for {queue!r} ({path.name})")
    instance = f"instance/{config.connect_instance_id}"
    if instance not in policy:
        problems.append(
            f"the stage's policy names no {instance}: CONNECT_INSTANCE_ID and the policy's "
            "Connect resources must be the same instance"
        )
    return problems


def package(stage: str, out: Path) -> Path:
    """Write `out/sam.json` (and the code's zip) for the stage; its path. Settings that
    disagree stop it with every problem named."""
    from devkit.local_aws import CHALICE_CONFIG, stage_environment

    config = json.loads(CHALICE_CONFIG.read_text())["stages"][stage]
    policy = (ROOT / ".chalice" / config["iam_policy_file"]).read_text()
    problems = configuration_problems(dict(stage_environment(stage)), policy)
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
    return out / "sam.json"


def main() -> int:
    stage = sys.argv[1] if len(sys.argv) > 1 else "dev"
    written = package(stage, BUILD / stage)
    print(f"{written.relative_to(ROOT)}: the {stage} stage, one template")
    return 0


if __name__ == "__main__":
    sys.exit(main())
