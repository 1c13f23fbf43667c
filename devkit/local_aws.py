"""An embedded local AWS: moto, with our tables created from `infra/template.yaml`.

Used by the tests, the demo and the benchmarks, so the template itself is exercised. The
environment comes from `.chalice/config.json` (the `dev` stage), exactly what Chalice would
give the Lambda.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
REGION = "us-east-1"


def stage_environment(stage: str = "dev") -> dict[str, str]:
    config = json.loads(CHALICE_CONFIG.read_text())
    return dict(config["stages"][stage]["environment_variables"])


def use_local_environment(stage: str = "dev") -> None:
    """Point boto3 and Powertools at a fake, offline AWS. Call before importing `app`."""
    # Offline, metrics are disabled, and Powertools warns on every empty flush.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.update(stage_environment(stage))
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
        }
    )


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Sub, !Ref, ...) as plain data."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tag)  # type: ignore[no-untyped-call]


def _apply_ttl(stage: str) -> None:
    # moto's CloudFormation ignores TimeToLiveSpecification; apply it from the same template.
    import boto3

    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for resource in template["Resources"].values():
        ttl = resource["Properties"].get("TimeToLiveSpecification")
        if resource["Type"] == "AWS::DynamoDB::Table" and ttl:
            name = resource["Properties"]["TableName"].replace("${Stage}", stage)
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def create_stack(stage: str = "dev") -> None:
    """Create every resource in `infra/template.yaml` in the active moto mock."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName=f"switchboard-{stage}",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}],
    )
    status = cloudformation.describe_stacks(StackName=f"switchboard-{stage}")["Stacks"][0]
    if status["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"infra/template.yaml did not create: {status}")
    _apply_ttl(stage)
    _create_caller_key(stage)
    _publish_flow_ids(stage)


def _create_caller_key(stage: str) -> None:
    # SecureString parameters cannot come from CloudFormation; ops run the same command.
    import boto3

    from devkit.caller_key import rotate

    rotate(
        boto3.client("ssm", region_name=REGION), stage_environment(stage)["CALLER_KEY_PARAMETER"]
    )


# The flows' ids in the local stage, as `switchboard flows deploy` would have written them.
LOCAL_FLOW_IDS = {
    "outbound-callback": "00000000-0000-4000-8000-0000000cbf10",
    "outbound-sales": "00000000-0000-4000-8000-00000005a1e5",
    "outbound-survey": "00000000-0000-4000-8000-00000005e7e1",
}


def _publish_flow_ids(stage: str) -> None:
    import boto3

    from devkit.flow_ids import publish_flow_ids

    parameter = stage_environment(stage)["FLOW_IDS_PARAMETER"]
    publish_flow_ids(boto3.client("ssm", region_name=REGION), parameter, LOCAL_FLOW_IDS)


def empty_tables() -> None:
    """Empty every table of the active mock.

    moto keeps a table's items in one dict, and its indexes are read from those items: clearing
    the dict is what deleting every item does, without a scan and a write per item (the suite
    does this before every integration test). If moto ever keeps them otherwise, every item is
    deleted through the API instead."""
    try:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        tables = list(dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables.values())
    except (ImportError, KeyError, AttributeError):
        tables = []
    if tables and all(isinstance(getattr(t, "items", None), dict) for t in tables):
        for table in tables:
            table.items.clear()
        return
    _delete_every_item()


def _delete_every_item() -> None:
    """Delete every item of every table in the active mock, every page of each scan."""
    import boto3

    for table in boto3.resource("dynamodb", region_name=REGION).tables.all():
        keys = [k["AttributeName"] for k in table.key_schema]
        names = {f"#k{i}": key for i, key in enumerate(keys)}
        scan: dict[str, Any] = {
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
        }
        with table.batch_writer() as batch:
            while True:
                page = table.scan(**scan)
                for item in page["Items"]:
                    batch.delete_item(Key={k: item[k] for k in keys})
                if "LastEvaluatedKey" not in page:
                    break
                scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextmanager
def local_aws(stage: str = "dev") -> Iterator[None]:
    """moto for the whole block, with the stack from the template already created."""
    from moto import mock_aws

    use_local_environment(stage)
    with mock_aws():
        create_stack(stage)
        yield
