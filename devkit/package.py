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
  QA dead-letter queue as its on-failure destination (Chalice cannot set them; ADR 0010).
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


def package(stage: str, out: Path) -> Path:
    """Write `out/sam.json` (and the code's zip) for the stage; its path."""
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
