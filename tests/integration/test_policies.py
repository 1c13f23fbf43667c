"""Least privilege, proved: one policy per function, every AWS call allowed, nothing unused.

Every AWS call a function makes through the Chalice test client, anywhere in the suite, is
checked against that function's own policy as it is made (the `iam` fixture), and refused
with AccessDeniedException when the policy does not allow it. The last tests of the session
then hold each policy to what its function did (a grant no call used fails it), and every
AWS call site of chalicelib/ the suite reached (each boto3 client call and PynamoDB model
operation, found by the frame that made it) to having been reached through a function, so
that none escapes the first check.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devkit import policies
from devkit.iam import missing, unused
from devkit.local_aws import CHALICE_CONFIG
from devkit.policies import invocations, policy_file, runtime_needs
from tests.integration.test_callback_handlers import CALLER, hook

# Actions with no resource-level permissions, the only ones a policy may grant on "*".
NO_RESOURCE_LEVEL = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Our AWS call sites that no Lambda function runs, with who does: every other call site the
# suite reaches must be reached through a function, so that its policy is checked.
RUN_OUTSIDE_LAMBDA = {
    "chalicelib/dialer/store.py (DynamoRegistry.load)": "switchboard compliance load-registry",
    "chalicelib/qa/store.py (DynamoRubrics.put)": "switchboard qa rubric put",
    "chalicelib/qa/store.py (DynamoReasonCounts.add)": "the demo and the tests, seeding counts",
}


def _policy(stage: str, function: str) -> dict[str, Any]:
    return dict(json.loads(policy_file(stage, function).read_text()))


def test_every_function_has_its_own_policy_file_written_from_the_spec() -> None:
    config = json.loads(CHALICE_CONFIG.read_text())
    for stage, settings in config["stages"].items():
        assert "iam_policy_file" not in settings, "no policy shared by every function"
        assert not settings["autogen_policy"]
        files = {f: c.get("iam_policy_file") for f, c in settings["lambda_functions"].items()}
        assert files == {f: f"policies/{stage}/{f}.json" for f in invocations()}, stage
    assert policies.stale() == []


def test_resource_star_only_where_the_action_has_no_resource_level_permissions() -> None:
    for function in invocations():
        for statement in _policy("dev", function)["Statement"]:
            if "*" in statement["Resource"]:
                assert set(statement["Action"]) <= NO_RESOURCE_LEVEL, (function, statement)


def test_what_lambda_itself_does_with_each_role_is_allowed() -> None:
    for function in invocations():
        assert missing(_policy("dev", function), runtime_needs("dev", function)) == []


def test_a_call_site_without_its_permission_is_refused_where_it_is_made(
    callbacks: Any, iam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """request_callback's policy without dynamodb:PutItem: the hook answers with its fallback
    (as it would in AWS), and the refusal names the action, the table and the call site."""
    real = iam.policy_of
    statements = [
        s for s in real("request_callback")["Statement"] if s["Action"] != ["dynamodb:PutItem"]
    ]
    narrowed = {"Version": "2012-10-17", "Statement": statements}
    monkeypatch.setattr(
        iam, "policy_of", lambda f: narrowed if f == "request_callback" else real(f)
    )
    before = len(iam.refused)

    answer = hook(callbacks, "request_callback", _contact_event())

    refused = iam.refused[before:]
    del iam.refused[before:]  # provoked on purpose: not a failure of this test
    assert answer["result"] != "queued"
    assert refused, "the call was not refused"
    assert "request_callback may not: dynamodb:PutItem on " in refused[0]
    assert "table/switchboard-dev-callbacks" in refused[0]
    assert "chalicelib/callbacks/store.py" in refused[0]


def test_a_refused_call_raises_access_denied_as_aws_does(iam: Any) -> None:
    import boto3

    from devkit.iam import CURRENT_FUNCTION

    table = boto3.client("dynamodb", region_name="us-east-1")
    before = len(iam.refused)
    token = CURRENT_FUNCTION.set("route_call")  # route_call reads no table
    try:
        with pytest.raises(ClientError) as raised:
            table.get_item(TableName="switchboard-dev-customers", Key={"pk": {"S": "x"}})
    finally:
        CURRENT_FUNCTION.reset(token)
        del iam.refused[before:]
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_permission_no_call_uses_is_reported(callbacks: Any, iam: Any) -> None:
    """callback_status with one grant more than it uses: the grant is named."""
    hook(callbacks, "callback_status", _contact_event())
    extra = {
        "Sid": "NeverUsed",
        "Effect": "Allow",
        "Action": ["dynamodb:DeleteItem"],
        "Resource": ["arn:aws:dynamodb:*:*:table/switchboard-dev-callbacks"],
    }
    real = _policy("dev", "callback_status")
    widened = {**real, "Statement": [*real["Statement"], extra]}
    used = [*iam.used["callback_status"], *runtime_needs("dev", "callback_status")]
    reported = [str(g) for g in unused(widened, used) if g.sid == "NeverUsed"]
    assert reported == [
        "dynamodb:DeleteItem on arn:aws:dynamodb:*:*:table/switchboard-dev-callbacks (NeverUsed)"
    ]


@pytest.mark.after_all
def test_no_policy_grants_what_its_function_never_used(request: Any, iam_suite: Any) -> None:
    if not request.config.whole_suite:
        pytest.skip("judges what the whole suite did: run it all (make test)")
    assert iam_suite.refused == [], "calls were refused: see the tests that made them"
    never = sorted(set(invocations()) - set(iam_suite.used))
    assert never == [], f"no test invokes {never} through the Chalice test client"
    left = {
        function: [str(g) for g in unused(_policy("dev", function), used)]
        for function in invocations()
        for used in [[*iam_suite.used.get(function, ()), *runtime_needs("dev", function)]]
    }
    assert {f: grants for f, grants in left.items() if grants} == {}


@pytest.mark.after_all
def test_every_aws_call_site_is_reached_through_a_function(request: Any, iam_suite: Any) -> None:
    """A call site the tests only reach by calling a store directly would have its
    permission checked nowhere: drive it through the function that uses it, or say here who
    runs it outside Lambda."""
    from devkit.iam import OUTSIDE

    if not request.config.whole_suite:
        pytest.skip("judges what the whole suite did: run it all (make test)")
    through_functions = set().union(*(s for f, s in iam_suite.sites.items() if f))
    directly = iam_suite.sites.get("", set()) - {OUTSIDE}
    assert sorted(directly - through_functions - set(RUN_OUTSIDE_LAMBDA)) == []
    assert set(RUN_OUTSIDE_LAMBDA) <= directly - through_functions, "a stale entry"


def test_the_prod_policies_name_the_stack_parameters_not_an_instance() -> None:
    """prod's Connect instance and bucket come from the stack (`make package`): no prod
    policy names an instance or an instance bucket of its own, only the parameters."""
    ours = ("arn:aws:s3:::switchboard-prod-lists-*/", "arn:aws:s3:::${ContactLensBucket}/")
    for function in invocations():
        for statement in _policy("prod", function)["Statement"]:
            for resource in statement["Resource"]:
                assert not resource.startswith("arn:aws:connect:"), (function, resource)
                if resource.startswith("arn:aws:s3:"):
                    assert resource.startswith(ours), (function, resource)
    dial = policy_file("prod", "dial_campaigns").read_text()
    assert "${ConnectInstanceArn}/contact/*" in dial and "switchboard-prod-dialer" in dial
    assert "${ContactLensBucket}/" in policy_file("prod", "qa_events").read_text()


def _contact_event() -> Any:
    from devkit.events import contact_event

    return contact_event(CALLER, queue="billing")
