"""`make package STAGE=prod`: one template for the whole stage, lint-clean, with no AWS
account: the data stack, every function, Connect's permission on every hook, a dead-letter
queue on every asynchronous invocation, the contact-record mapping bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devkit.package import DEAD_LETTERS, package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # bytecode=False: the template is what is checked here; with_bytecode has its own test
    written = package("prod", tmp_path_factory.mktemp("prod"), bytecode=False)
    linted = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(written)],
        capture_output=True, text=True, env=dict(os.environ),
    )  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr
    return json.loads(written.read_text())


def _of_type(template: dict, kind: str) -> dict:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def test_the_package_holds_the_data_stack_and_every_function(template) -> None:
    from app import app

    functions = _of_type(template, "AWS::Serverless::Function")
    assert len(functions) == len(app.pure_lambda_functions) + len(app.event_sources) + 1  # API
    assert len(_of_type(template, "AWS::DynamoDB::Table")) == 9
    assert template["Parameters"]["Stage"]["Default"] == "prod"
    tables = {t["Properties"]["TableName"]["Fn::Sub"] for t in
              _of_type(template, "AWS::DynamoDB::Table").values()}  # fmt: skip
    assert "switchboard-${Stage}-qa" in tables


def test_connect_may_invoke_every_hook_and_only_from_the_stages_instance(template) -> None:
    from chalice.utils import to_cfn_resource_name

    from chalicelib.capabilities import CAPABILITIES

    hooks = {hook for capability in CAPABILITIES for hook in capability.outputs}
    permissions = {
        p["Properties"]["FunctionName"]["Ref"]: p["Properties"]
        for p in _of_type(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "connect.amazonaws.com"
    }
    assert set(permissions) == {to_cfn_resource_name(h) for h in hooks}
    assert all(p["SourceArn"] == {"Ref": "ConnectInstanceArn"} for p in permissions.values())


def test_every_asynchronous_invocation_ends_in_a_dead_letter_queue(template) -> None:
    functions = _of_type(template, "AWS::Serverless::Function")
    asynchronous = {
        name for name, f in functions.items()
        if any(e["Type"] in ("Schedule", "CloudWatchEvent")
               for e in f["Properties"].get("Events", {}).values())
    }  # fmt: skip
    assert {"DialCampaigns", "DispatchCallbacks", "QaReconcile", "QaWarnings",
            "ContactListUploaded", "OutboundContactEvents"} <= asynchronous  # fmt: skip
    for name in asynchronous:
        queue = functions[name]["Properties"]["DeadLetterQueue"]
        assert queue == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]}}
    records = functions["QaContactRecords"]["Properties"]["Events"]
    mapping = records["QaContactRecordsKinesisEventSource"]["Properties"]
    assert mapping["BisectBatchOnFunctionError"] is True and mapping["MaximumRetryAttempts"] > 0
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["QaEventsDeadLetterQueue", "Arn"]
    }


def test_each_function_runs_as_its_own_role_with_its_own_policy(template) -> None:
    """One role per function, its policy the function's file with the stack's instance and
    bucket in it: prod's settings name neither."""
    from devkit.policies import invocations, policy

    functions = _of_type(template, "AWS::Serverless::Function")
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}
    assert len(roles) == len(functions) == len(invocations())
    for logical, function in functions.items():
        name = function["Properties"]["FunctionName"]
        short = (
            "api_handler" if name == "switchboard-prod" else name.removeprefix("switchboard-prod-")
        )
        role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        (document,) = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        assert _unsubstituted(document) == policy("prod", short), short
        output = template["Outputs"][f"{logical}Arn"]
        assert output["Description"] == short  # how `switchboard flows deploy` finds it
    dial = json.dumps(template["Resources"]["DialCampaignsRole"])
    assert '{"Fn::Sub": "${ConnectInstanceArn}/contact/*"}' in dial
    assert "switchboard-prod-async-dead-letters" in dial
    environment = functions["DialCampaigns"]["Properties"]["Environment"]["Variables"]
    assert environment["CONNECT_INSTANCE_ID"] == {
        "Fn::Select": [1, {"Fn::Split": ["instance/", {"Ref": "ConnectInstanceArn"}]}]
    }


def _unsubstituted(value: Any) -> Any:
    """The policy as written in .chalice/policies/, each `Fn::Sub` back to its text."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            return value["Fn::Sub"]
        return {key: _unsubstituted(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_unsubstituted(inner) for inner in value]
    return value


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings: lower case, punctuation dropped, spaces to dashes."""
    import re

    headings = re.findall(r"^#{1,6} (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_alarm_has_a_runbook_entry_and_a_place_on_the_dashboard(template) -> None:
    import re

    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 6
    anchors = _anchors((ROOT / "docs" / "ops.md").read_text())
    dashboard = json.dumps(template["Resources"]["Dashboard"])
    for name, alarm in alarms.items():
        properties = alarm["Properties"]
        found = re.search(r"docs/ops\.md#([a-z0-9-]+)", properties["AlarmDescription"])
        assert found and found.group(1) in anchors, (name, properties["AlarmDescription"])
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert properties["MetricName"] in dashboard, name


def test_settings_that_disagree_stop_the_package_naming_each_problem() -> None:
    from devkit.local_aws import stage_environment
    from devkit.package import configuration_problems

    environment = stage_environment("prod")
    assert configuration_problems(environment) == []
    queues = json.loads(environment["QUEUE_IDS"])
    del queues["care"], queues["sales"]
    broken = {**environment, "QUEUE_IDS": json.dumps(queues),
              "CONNECT_INSTANCE_ID": "REPLACE-WITH-PROD-CONNECT-INSTANCE-ID"}  # fmt: skip
    problems = configuration_problems(broken)
    assert "QUEUE_IDS has no Connect queue id for 'care', a queue of the routing rules" in problems
    assert "QUEUE_IDS has no Connect queue id for 'sales' (card-upgrade.json)" in problems
    assert any(
        "'REPLACE-WITH-PROD-CONNECT-INSTANCE-ID' is not an instance id" in p for p in problems
    )


def test_a_stage_that_names_its_instance_accepts_no_other_instances_arn() -> None:
    import re

    from devkit.package import merge_template

    pattern = merge_template("dev")["Parameters"]["ConnectInstanceArn"]["AllowedPattern"]
    ours = "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-4000-8000-00000000dev0"
    other = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555"
    assert re.match(pattern, ours) and not re.match(pattern, other)


def test_every_alarm_watches_a_metric_the_code_emits() -> None:
    """An alarm on a metric nothing emits would never ring."""
    from devkit.package import WATCHED

    source = "".join(path.read_text() for path in (ROOT / "chalicelib").rglob("*.py"))
    for watch in WATCHED.values():
        assert f'"{watch.metric}"' in source, watch.metric


def test_the_dev_stage_packages_too() -> None:
    """dev names its instance and bucket: the package takes them from its settings."""
    from devkit.local_aws import stage_environment
    from devkit.package import configuration_problems, merge_template

    assert configuration_problems(stage_environment("dev")) == []
    parameters = merge_template("dev")["Parameters"]
    assert parameters["ContactLensBucket"]["Default"] == "switchboard-dev-connect-instance"
