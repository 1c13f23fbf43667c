"""Deploy and export against Amazon Connect's API under botocore Stubber, which validates every
request against the real API model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from devkit.catalogue import hook_catalogue
from devkit.deploy import Deployer, DeployError, deployed_lambdas
from flowlang.placeholders import Resources, resolve
from tests.flowparts import REAL_FLOWS_DIR

ROOT = Path(__file__).resolve().parents[2]
INSTANCE = "00000000-0000-4000-8000-00000000dev0"
ARN = f"arn:aws:connect:us-east-1:111122223333:instance/{INSTANCE}"
QUEUES = ["general", "billing", "technical", "vip", "care", "spanish", "night"]
LAMBDAS = {
    name: f"arn:aws:lambda:us-east-1:111122223333:function:switchboard-dev-{name}"
    for name in (
        "identify_caller",
        "route_call",
        "verify_pin",
        "account_lookup",
        "record_journey",
        "request_callback",
        "callback_status",
        "cancel_callback",
        "callback_answered",
    )
}
FLOW_ID = "11111111-2222-4333-8444-555555555555"
FLOW_ARN = f"{ARN}/contact-flow/{FLOW_ID}"


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "flows" / "inbound-main.json", tmp_path / "inbound-main.json")
    return tmp_path


@pytest.fixture
def connect():
    client = boto3.client(
        "connect", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_listing(
    stubber: Stubber, flows: list[dict[str, Any]], queues: list[str] = QUEUES, paged: bool = False
) -> None:
    summaries = [{"Id": f"q-{q}", "Arn": f"{ARN}/queue/q-{q}", "Name": q} for q in queues]
    if paged:
        stubber.add_response(
            "list_queues",
            {"QueueSummaryList": summaries[:3], "NextToken": "t"},
            {"InstanceId": INSTANCE, "QueueTypes": ["STANDARD"]},
        )
        stubber.add_response(
            "list_queues",
            {"QueueSummaryList": summaries[3:]},
            {"InstanceId": INSTANCE, "QueueTypes": ["STANDARD"], "NextToken": "t"},
        )
    else:
        stubber.add_response(
            "list_queues",
            {"QueueSummaryList": summaries},
            {"InstanceId": INSTANCE, "QueueTypes": ["STANDARD"]},
        )
    stubber.add_response(
        "list_hours_of_operations", {"HoursOfOperationSummaryList": []}, {"InstanceId": INSTANCE}
    )
    stubber.add_response("list_prompts", {"PromptSummaryList": []}, {"InstanceId": INSTANCE})
    stubber.add_response(
        "list_contact_flows", {"ContactFlowSummaryList": flows}, {"InstanceId": INSTANCE}
    )
    stubber.add_response(
        "list_contact_flow_modules", {"ContactFlowModulesSummaryList": []}, {"InstanceId": INSTANCE}
    )


def resources() -> Resources:
    return Resources(
        {
            "lambda": LAMBDAS,
            "queue": {q: f"{ARN}/queue/q-{q}" for q in QUEUES},
            "flow": {"inbound-main": FLOW_ARN},
        }
    )


def resolved_inbound() -> dict[str, Any]:
    content, missing = resolve(
        json.loads((ROOT / "flows" / "inbound-main.json").read_text()), resources()
    )
    assert not missing
    return content


class Parameters:
    """SSM's put_parameter, kept: where the deploy leaves the flows' ids."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def put_parameter(self, Name: str, Value: str, Type: str, Overwrite: bool) -> None:
        assert Type == "String" and Overwrite
        self.values[Name] = Value


PARAMETERS = Parameters()


def deployer(client, flows_dir: Path) -> Deployer:
    return Deployer(client, "dev", flows_dir, hook_catalogue("dev"), LAMBDAS, ssm=PARAMETERS)


EXISTING = [
    {"Id": FLOW_ID, "Arn": FLOW_ARN, "Name": "inbound-main", "ContactFlowType": "CONTACT_FLOW"}
]


def expect_describe(stubber: Stubber, content: dict[str, Any]) -> None:
    stubber.add_response(
        "describe_contact_flow",
        {
            "ContactFlow": {
                "Arn": FLOW_ARN,
                "Id": FLOW_ID,
                "Name": "inbound-main",
                "Type": "CONTACT_FLOW",
                "Content": json.dumps(content),
            }
        },
        {"InstanceId": INSTANCE, "ContactFlowId": FLOW_ID},
    )


def test_first_deploy_creates_the_flow_and_associates_our_lambdas(connect, flows_dir) -> None:
    client, stubber = connect
    expect_listing(stubber, [], paged=True)
    stubber.add_response(
        "list_lambda_functions",
        {"LambdaFunctions": [LAMBDAS["route_call"]]},
        {"InstanceId": INSTANCE},
    )
    created, _ = resolve(
        json.loads((flows_dir / "inbound-main.json").read_text()),
        Resources({"lambda": LAMBDAS, "queue": {q: f"{ARN}/queue/q-{q}" for q in QUEUES}}),
    )
    stubber.add_response(
        "create_contact_flow",
        {"ContactFlowId": FLOW_ID, "ContactFlowArn": FLOW_ARN},
        {
            "InstanceId": INSTANCE,
            "Name": "inbound-main",
            "Type": "CONTACT_FLOW",
            "Content": json.dumps(created, separators=(",", ":")),
        },
    )
    for arn in sorted(set(LAMBDAS.values()) - {LAMBDAS["route_call"]}):
        stubber.add_response(
            "associate_lambda_function", {}, {"InstanceId": INSTANCE, "FunctionArn": arn}
        )
    plan = deployer(client, flows_dir).apply()
    assert plan.creates == ["inbound-main"] and len(plan.associations) == len(LAMBDAS) - 1
    # The functions read the flows' ids from where the deploy wrote them, never from settings.
    assert json.loads(PARAMETERS.values["/switchboard/dev/flow-ids"]) == {"inbound-main": FLOW_ID}
    assert plan.lines()[-1] == "flow ids written to /switchboard/dev/flow-ids"
    assert "{{" not in json.dumps(created)  # every placeholder resolved
    assert (
        "arn:aws:lambda:us-east-1:111122223333:function:switchboard-dev-route_call"
        in json.dumps(created)
    )


def test_deploying_what_is_already_there_changes_nothing(connect, flows_dir) -> None:
    client, stubber = connect
    expect_listing(stubber, EXISTING)
    expect_describe(stubber, resolved_inbound())
    stubber.add_response(
        "list_lambda_functions",
        {"LambdaFunctions": list(LAMBDAS.values())},
        {"InstanceId": INSTANCE},
    )
    plan = deployer(client, flows_dir).apply()  # any write would fail: none is stubbed
    assert plan.unchanged == ["inbound-main"]
    # The ids are written again (the same): a parameter someone deleted comes back.
    assert plan.lines() == [
        "unchanged inbound-main",
        "flow ids written to /switchboard/dev/flow-ids",
    ]


def test_a_changed_flow_is_updated_and_the_dry_run_shows_the_diff(connect, flows_dir) -> None:
    client, stubber = connect
    live = resolved_inbound()
    for action in live["Actions"]:
        if action["Identifier"] == "greet":
            action["Parameters"]["Text"] = "An old greeting."
    expect_listing(stubber, EXISTING)
    expect_describe(stubber, live)
    stubber.add_response(
        "list_lambda_functions",
        {"LambdaFunctions": list(LAMBDAS.values())},
        {"InstanceId": INSTANCE},
    )
    plan, _, _ = deployer(client, flows_dir).plan()
    assert plan.updates == ["inbound-main"]
    text = "\n".join(plan.lines())
    assert "greet (MessageParticipant)" in text and '"An old greeting." -> "Thank you' in text
    expect_listing(stubber, EXISTING)
    expect_describe(stubber, live)
    stubber.add_response(
        "list_lambda_functions",
        {"LambdaFunctions": list(LAMBDAS.values())},
        {"InstanceId": INSTANCE},
    )
    stubber.add_response(
        "update_contact_flow_content",
        {},
        {"InstanceId": INSTANCE, "ContactFlowId": FLOW_ID, "Content": ANY},
    )
    deployer(client, flows_dir).apply()


def test_unresolved_placeholders_refuse_the_deploy(connect, flows_dir) -> None:
    client, stubber = connect
    expect_listing(stubber, [], queues=["billing", "vip"])
    with pytest.raises(DeployError) as refused:
        deployer(client, flows_dir).plan()
    assert "unresolved placeholder {{queue:general}}" in str(refused.value)


def test_missing_lambda_record_refuses_the_deploy(connect, flows_dir) -> None:
    client, stubber = connect
    expect_listing(stubber, [])
    with pytest.raises(DeployError, match=r"\{\{lambda:identify_caller\}\}"):
        Deployer(client, "dev", flows_dir, hook_catalogue("dev"), {}).plan()


def test_a_flow_with_validation_errors_is_refused_before_any_call(connect, flows_dir) -> None:
    client, _ = connect
    broken = json.loads((flows_dir / "inbound-main.json").read_text())
    broken["Actions"][0]["Transitions"]["NextAction"] = "nowhere"
    (flows_dir / "inbound-main.json").write_text(json.dumps(broken))
    with pytest.raises(DeployError, match="dangling-transition"):
        deployer(client, flows_dir).plan()


def test_export_then_deploy_to_the_same_stage_is_a_no_op(connect, flows_dir, tmp_path) -> None:
    client, stubber = connect
    live = resolved_inbound()
    expect_listing(stubber, EXISTING)
    expect_describe(stubber, live)
    out = tmp_path / "exported"
    out.mkdir()
    [path] = deployer(client, flows_dir).export(["inbound-main"], out)
    exported = json.loads(path.read_text())
    assert exported == json.loads((ROOT / "flows" / "inbound-main.json").read_text())
    expect_listing(stubber, EXISTING)
    expect_describe(stubber, live)
    stubber.add_response(
        "list_lambda_functions",
        {"LambdaFunctions": list(LAMBDAS.values())},
        {"InstanceId": INSTANCE},
    )
    assert deployer(client, out).apply().unchanged == ["inbound-main"]


PROD_ROUTE = "arn:aws:lambda:eu-west-1:1:function:switchboard-prod-route_call"


def test_lambda_arns_come_from_chalices_deployed_record(tmp_path) -> None:
    (tmp_path / "deployed").mkdir()
    (tmp_path / "deployed" / "prod.json").write_text(
        json.dumps(
            {
                "schema_version": "2.0",
                "resources": [
                    {
                        "name": "route_call",
                        "resource_type": "lambda_function",
                        "lambda_arn": PROD_ROUTE,
                    },
                    {
                        "name": "api_handler_role",
                        "resource_type": "iam_role",
                        "role_arn": "arn:aws:iam::1:role/x",
                    },
                ],
            }
        )
    )
    assert deployed_lambdas("prod", tmp_path) == {"route_call": PROD_ROUTE}
    assert deployed_lambdas("dev", tmp_path) == {}


def test_modules_are_created_before_the_flows_that_use_them(connect, tmp_path) -> None:
    client, stubber = connect
    real = REAL_FLOWS_DIR / "outbound-call"
    shutil.copy(real / "ErrorModule.json", tmp_path / "error-module.json")
    shutil.copy(ROOT / "flows" / "inbound-main.json", tmp_path / "inbound-main.json")
    expect_listing(stubber, [])
    stubber.add_response(
        "list_lambda_functions",
        {"LambdaFunctions": list(LAMBDAS.values())},
        {"InstanceId": INSTANCE},
    )
    stubber.add_response(
        "create_contact_flow_module",
        {"Id": "m-1", "Arn": f"{ARN}/flow-module/m-1"},
        {"InstanceId": INSTANCE, "Name": "error-module", "Content": ANY},
    )
    stubber.add_response(
        "create_contact_flow",
        {"ContactFlowId": FLOW_ID, "ContactFlowArn": FLOW_ARN},
        {"InstanceId": INSTANCE, "Name": "inbound-main", "Type": "CONTACT_FLOW", "Content": ANY},
    )
    assert deployer(client, tmp_path).apply().creates == ["error-module", "inbound-main"]


def test_a_packaged_stage_is_found_from_its_stacks_outputs(aws) -> None:
    """prod names neither its instance nor keeps Chalice's deploy record: `flows deploy`
    reads both from the outputs of the stack `make package` made, as the CLI reads the
    settings the stack supplies."""
    from devkit.deploy import deployed_environment, stage_settings

    function = "arn:aws:lambda:us-east-1:123456789012:function:switchboard-prod-identify_caller"
    outputs = {
        "IdentifyCallerArn": {"Description": "identify_caller", "Value": function},
        "ConnectInstanceIdSetting": {"Description": "CONNECT_INSTANCE_ID", "Value": INSTANCE},
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": outputs,
    }
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="switchboard-prod", TemplateBody=json.dumps(template))
    try:
        assert stage_settings("prod") == ("switchboard", INSTANCE)
        assert deployed_lambdas("prod", ROOT / "no-record") == {"identify_caller": function}
        assert deployed_environment("prod")["CONNECT_INSTANCE_ID"] == INSTANCE
    finally:
        cloudformation.delete_stack(StackName="switchboard-prod")
