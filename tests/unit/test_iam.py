"""What IAM asks of each call (devkit/iam.py): the actions and resources the policy-coverage
check holds every function's policy to."""

from __future__ import annotations

import pytest

from devkit.iam import ACCOUNT, Request, UnmappedCall, allows, missing, requests, unused

TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table"


def asked(service: str, operation: str, **params: object) -> list[str]:
    return [str(r) for r in requests(service, operation, params, "us-east-1")]


def test_a_transaction_asks_for_each_items_own_action_on_its_table() -> None:
    items = [
        {"Put": {"TableName": "qa"}},
        {"Update": {"TableName": "counts"}},
        {"ConditionCheck": {"TableName": "qa"}},
        {"Delete": {"TableName": "leases"}},
    ]
    assert asked("dynamodb", "TransactWriteItems", TransactItems=items) == [
        f"dynamodb:PutItem on {TABLE}/qa",
        f"dynamodb:UpdateItem on {TABLE}/counts",
        f"dynamodb:ConditionCheckItem on {TABLE}/qa",
        f"dynamodb:DeleteItem on {TABLE}/leases",
    ]


def test_a_query_on_an_index_asks_for_the_index_and_a_batch_for_every_table() -> None:
    assert asked("dynamodb", "Query", TableName="callbacks", IndexName="due") == [
        f"dynamodb:Query on {TABLE}/callbacks/index/due"
    ]
    assert asked("dynamodb", "BatchGetItem", RequestItems={"a": {}, "b": {}}) == [
        f"dynamodb:BatchGetItem on {TABLE}/a",
        f"dynamodb:BatchGetItem on {TABLE}/b",
    ]


def test_connect_actions_are_asked_on_the_resource_each_is_authorised_on() -> None:
    instance = f"arn:aws:connect:us-east-1:{ACCOUNT}:instance/i-1"
    assert asked("connect", "SearchContacts", InstanceId="i-1") == [
        f"connect:SearchContacts on {instance}"
    ]
    assert asked("connect", "DescribeContact", InstanceId="i-1", ContactId="c-9") == [
        f"connect:DescribeContact on {instance}/contact/c-9"
    ]
    metrics = asked("connect", "GetCurrentMetricData", InstanceId="i-1",
                    Filters={"Queues": ["q1", "q2"]})  # fmt: skip
    assert metrics == [
        f"connect:GetCurrentMetricData on {instance}/queue/q1",
        f"connect:GetCurrentMetricData on {instance}/queue/q2",
    ]


def test_s3_multipart_is_put_object_and_sqs_is_named_from_its_url() -> None:
    assert asked("s3", "UploadPart", Bucket="b", Key="reports/x.json") == [
        "s3:PutObject on arn:aws:s3:::b/reports/x.json"
    ]
    url = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/dead"
    assert asked("sqs", "SendMessage", QueueUrl=url) == [
        f"sqs:SendMessage on arn:aws:sqs:us-east-1:{ACCOUNT}:dead"
    ]


def test_a_call_with_no_mapping_is_refused_not_waved_through() -> None:
    with pytest.raises(UnmappedCall):
        requests("connect", "StopContact", {"InstanceId": "i"}, "us-east-1")
    with pytest.raises(UnmappedCall):
        requests("kms", "Decrypt", {}, "us-east-1")


def test_a_condition_on_the_event_source_lets_only_that_source_through() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["events:PutEvents"],
                "Resource": ["arn:aws:events:*:*:event-bus/default"],
                "Condition": {"StringEquals": {"events:source": "switchboard.qa"}},
            }
        ]
    }
    bus = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    ours = Request("events:PutEvents", bus, (("events:source", "switchboard.qa"),))
    theirs = Request("events:PutEvents", bus, (("events:source", "aws.connect"),))
    assert allows(policy, ours) and not allows(policy, theirs)
    assert missing(policy, [ours, theirs]) == [theirs]
    assert unused(policy, [theirs]) != [] and unused(policy, [ours]) == []
