"""Integration fixtures: moto with the stack from infra/template.yaml, sample data, and the
Chalice test client, with Connect behind a botocore Stubber."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from devkit.local_aws import ROOT, local_aws

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
CONTACT_LENS_BUCKET = "switchboard-dev-connect-instance"  # the dev stage's, as in config.json


@pytest.fixture(scope="package")
def aws() -> Iterator[None]:
    """One fake AWS for every integration test (each test empties the tables it uses); made
    once, it saves a second per module, and it is gone before the unit tests start theirs."""
    with local_aws():
        yield


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test that runs threads against moto uses this: each AWS request is atomic, as
    each DynamoDB request is.

    moto evaluates a condition and then writes with no lock between the two, so two threads
    can both pass the same condition, which DynamoDB never allows. With this fixture a red
    concurrency test is a bug in our code (which still interleaves freely between requests),
    never moto.
    """
    from botocore.client import BaseClient

    lock = threading.Lock()
    original = BaseClient._make_api_call

    def atomic(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", atomic)


@pytest.fixture(scope="session")
def iam_suite() -> Any:
    """IAM as AWS would apply it, for the whole session: what each function used is kept for
    the check that no policy grants more (test_policies.py)."""
    from devkit.iam import Enforcer
    from devkit.policies import policy_file

    @cache
    def policy_of(function: str) -> Any:
        return json.loads(policy_file("dev", function).read_text())

    return Enforcer(policy_of=policy_of)


@pytest.fixture(autouse=True)
def iam(iam_suite: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Every AWS call a Lambda function makes through the Chalice test client is checked
    against that function's own policy, and refused with AccessDeniedException when the
    policy does not allow it; a refusal fails the test even if the handler swallowed it."""
    from botocore.client import BaseClient
    from chalice.test import TestHTTPClient, TestLambdaClient

    from chalicelib import composition
    from devkit.iam import CURRENT_FUNCTION, cold_start

    make_api_call, invoke, request = (
        BaseClient._make_api_call, TestLambdaClient.invoke, TestHTTPClient.request
    )  # fmt: skip

    def checked(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        iam_suite.check(self, operation, params)
        return make_api_call(self, operation, params)

    last: list[str] = []

    def as_function(name: str, call: Any) -> Any:
        if last != [name]:  # another function: in AWS, another process
            cold_start(composition.served())
            last[:] = [name]
        token = CURRENT_FUNCTION.set(name)
        try:
            return call()
        finally:
            CURRENT_FUNCTION.reset(token)

    monkeypatch.setattr(BaseClient, "_make_api_call", checked)
    monkeypatch.setattr(
        TestLambdaClient, "invoke",
        lambda self, name, payload=None: as_function(name, lambda: invoke(self, name, payload)),
    )  # fmt: skip
    monkeypatch.setattr(
        TestHTTPClient, "request",
        lambda self, *args, **kwargs: as_function(
            "api_handler", lambda: request(self, *args, **kwargs)
        ),
    )  # fmt: skip
    before = len(iam_suite.refused)
    yield iam_suite
    refused = iam_suite.refused[before:]
    assert not refused, "refused by IAM:\n" + "\n".join(refused)


@pytest.fixture
def tables(aws: None) -> Iterator[None]:
    """Empty tables with the sample data, for every test."""
    from devkit.local_aws import empty_tables
    from devkit.seed import seed

    empty_tables()
    seed(NOW, pin_cost=2**4)
    yield


@pytest.fixture
def connect(aws: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("connect", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture
def clock():
    from chalicelib.platform.clock import FixedClock

    return FixedClock(NOW)


@pytest.fixture
def client(tables: None, connect, clock) -> Iterator[Any]:
    from chalice.test import Client

    from app import app
    from chalicelib import composition
    from chalicelib.ivr import handlers as ivr_handlers
    from chalicelib.ivr.capability import build_service as build_ivr_service

    connect_client, _ = connect
    ivr_handlers.served.override(build_ivr_service(clock=clock, connect=connect_client))
    try:
        with Client(app, stage_name="dev", project_dir=str(ROOT)) as test_client:
            yield test_client
    finally:
        composition.reset()


@pytest.fixture
def callbacks(client: Any, connect: tuple[Any, Stubber], clock: Any) -> Any:
    """The test client with the callback capability on moto and the stubbed Connect."""
    from chalicelib.callbacks import handlers as callbacks_handlers
    from chalicelib.callbacks.capability import build_service as build_callback_service

    connect_client, _ = connect
    callbacks_handlers.served.override(build_callback_service(clock=clock, connect=connect_client))
    return client


@pytest.fixture
def qa(callbacks: Any, connect: Any, clock: Any) -> Any:
    """The test client with QA on moto, the rubrics put, the instance's bucket there and the
    alerts EventBridge sends caught in a queue."""
    from chalicelib.qa import handlers as qa_handlers
    from chalicelib.qa.capability import build_service
    from chalicelib.qa.store import DynamoRubrics

    connect_client, _ = connect
    qa_handlers.served.override(build_service(clock=clock, connect=connect_client))
    rubrics = DynamoRubrics()
    for name, queues in (("bank-service", ["*", "billing"]), ("collections", ["care"])):
        document = json.loads((ROOT / "rubrics" / f"{name}.json").read_text())
        rubrics.put(document, queues, NOW)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=CONTACT_LENS_BUCKET)
    _catch_alerts()
    return callbacks


def _catch_alerts() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="caught-alerts")["QueueUrl"]
    drained("caught-alerts")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="caught-alerts", EventPattern=json.dumps({"source": ["switchboard.qa"]}))
    events.put_targets(Rule="caught-alerts", Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])


def drained(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return found
        for message in got:
            reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
            found.append({"body": message["Body"], "reason": reason})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def metrics_response(**queues: tuple[int, int, int]) -> dict[str, Any]:
    """GetCurrentMetricData's answer: queue id -> (in queue, available, staffed)."""
    results = []
    for queue_id, (waiting, available, staffed) in queues.items():
        values = {
            "CONTACTS_IN_QUEUE": waiting,
            "AGENTS_AVAILABLE": available,
            "AGENTS_STAFFED": staffed,
            "AGENTS_ONLINE": staffed,
            "OLDEST_CONTACT_AGE": 0,
        }
        results.append(
            {
                "Dimensions": {"Queue": {"Id": queue_id, "Arn": f"arn:queue/{queue_id}"}},
                "Collections": [
                    {"Metric": {"Name": k, "Unit": "COUNT"}, "Value": float(v)}
                    for k, v in values.items()
                ],
            }
        )
    return {"MetricResults": results, "DataSnapshotTime": NOW}
