"""infra/template.yaml, the Chalice stages and the IAM policies agree with each other."""

from __future__ import annotations

import json

import boto3
import yaml

from chalicelib.composition import tables as tables_used_by
from chalicelib.platform.settings import table_variable
from devkit.local_aws import CHALICE_CONFIG, ROOT, TEMPLATE, _CfnLoader

TEMPLATE_DOC = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
TABLES = {
    name: resource["Properties"]
    for name, resource in TEMPLATE_DOC["Resources"].items()
    if resource["Type"] == "AWS::DynamoDB::Table"
}
CONFIG = json.loads(CHALICE_CONFIG.read_text())


def test_the_stack_creates_every_table_with_its_keys_and_indexes(aws) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    for properties in TABLES.values():
        name = properties["TableName"].replace("${Stage}", "dev")
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == properties["KeySchema"]
        indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
        assert indexes == {i["IndexName"] for i in properties.get("GlobalSecondaryIndexes", [])}


def test_every_ttl_attribute_our_models_write_is_the_one_its_table_expires_on() -> None:
    """A TTLAttribute the template does not name is never purged: records pile up for ever."""
    import importlib
    import pkgutil

    from pynamodb.attributes import TTLAttribute

    import chalicelib
    from chalicelib.platform.tables import Table

    for package in pkgutil.iter_modules(chalicelib.__path__):  # every capability's store
        if package.ispkg and importlib.util.find_spec(f"chalicelib.{package.name}.store"):
            importlib.import_module(f"chalicelib.{package.name}.store")
    by_name = {p["TableName"].replace("${Stage}", "dev"): p for p in TABLES.values()}
    models, todo = [], list(Table.__subclasses__())
    while todo:
        model = todo.pop()
        models.append(model)
        todo.extend(model.__subclasses__())
    assert {m.__module__.split(".")[1] for m in models} >= {"ivr", "callbacks", "dialer", "qa",
                                                             "outbound"}  # fmt: skip
    checked = 0
    for model in models:
        for attribute in model.get_attributes().values():
            if isinstance(attribute, TTLAttribute):
                spec = by_name[model.Meta.table_name].get("TimeToLiveSpecification", {})
                assert spec == {"AttributeName": attribute.attr_name, "Enabled": True}, model
                checked += 1
    assert checked >= 3  # journeys, callbacks, allowances


def test_every_table_is_encrypted_recoverable_and_retained() -> None:
    for name, properties in TABLES.items():
        assert properties["SSESpecification"]["SSEEnabled"] is True, name
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], name
        assert TEMPLATE_DOC["Resources"][name]["DeletionPolicy"] == "Retain", name


def test_every_stage_names_every_table_the_template_creates() -> None:
    for stage, settings in CONFIG["stages"].items():
        environment = settings["environment_variables"]
        names = {environment[table_variable(table)] for table in tables_used_by("")}
        expected = {p["TableName"].replace("${Stage}", stage) for p in TABLES.values()}
        assert names == expected, stage
        assert settings["autogen_policy"] is False


def test_policies_name_their_resources() -> None:
    """Together, a stage's per-function policies name every table the template creates and
    the caller key by the stage's names (test_policies.py holds each to its function)."""
    for stage, settings in CONFIG["stages"].items():
        text = _policies(stage)
        for properties in TABLES.values():
            assert properties["TableName"].replace("${Stage}", stage) in text
        key = settings["environment_variables"]["CALLER_KEY_PARAMETER"]
        assert f'"arn:aws:ssm:*:*:parameter{key}"' in text


def _policies(stage: str) -> str:
    from devkit.policies import invocations, policy_file

    return "".join(policy_file(stage, function).read_text() for function in invocations())


def test_every_deployed_lambda_starts_in_app_py_with_its_middleware() -> None:
    """What `chalice deploy` gives Lambda as each handler, and what Lambda then imports in a
    fresh interpreter: app.py (settings checked), and a handler wrapped in Powertools."""
    import os
    import subprocess
    import sys

    from chalice.cli.factory import CLIFactory
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder

    config = CLIFactory(str(ROOT), environ=dict(os.environ)).create_config_obj("dev")
    graph = ApplicationGraphBuilder().build(config, "dev")
    handlers = sorted(
        resource.handler
        for resource in DependencyBuilder().build_dependencies(graph)
        if isinstance(resource, models.LambdaFunction) and resource.handler != "app.app"
    )
    assert len(handlers) == 20 and all(h.startswith("app.") for h in handlers), handlers
    probe = (
        "import importlib, sys\n"
        "for handler in sys.argv[1:]:\n"
        "    module, name = handler.rsplit('.', 1)\n"
        "    function = getattr(importlib.import_module(module), name)\n"
        "    print(handler, len(list(function.middleware_handlers)))\n"
    )
    started = subprocess.run(
        [sys.executable, "-c", probe, *handlers], cwd=ROOT, env=dict(os.environ),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert started.stdout.split() == [part for h in handlers for part in (h, "3")]


def test_every_queue_and_rule_has_a_dead_letter_queue_and_the_policies_name_them() -> None:
    """QA's asynchronous paths: each rule's target and each queue end in a dead-letter queue
    (five receives, as AWS recommends at least), and each stage's policy names the stage's
    queue, dead-letter queue, stream and Contact Lens bucket, not a wildcard."""
    resources = TEMPLATE_DOC["Resources"]
    rules = [r for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 3
    for rule in rules:
        for target in rule["Properties"]["Targets"]:
            # The loader reads `!GetAtt X.Arn` as the plain text "X.Arn".
            assert target["DeadLetterConfig"]["Arn"] == "QaEventsDeadLetterQueue.Arn", rule
    queues = {n: r for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    for name, queue in queues.items():
        if "DeadLetter" not in name:
            assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] >= 5, name
    for stage, settings in CONFIG["stages"].items():
        environment = settings["environment_variables"]
        policy = _policies(stage)
        for name in (
            environment["QA_EVENTS_QUEUE"],
            f"switchboard-{stage}-qa-dead-letters",
            environment["CONTACT_RECORDS_STREAM"],
            environment.get("CONTACT_LENS_BUCKET", "${ContactLensBucket}"),  # prod: the stack's
        ):
            assert name in policy, (stage, name)
