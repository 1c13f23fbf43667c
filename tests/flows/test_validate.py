"""Each validation rule: a flow that breaks it and one that does not. Then the real flows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowlang.loader import read_document, read_text
from flowlang.validate import Hook, HookCatalogue, Severity, validate, validate_set
from tests.flowparts import SAMPLE_FLOWS, act

ROOT = Path(__file__).resolve().parents[2]
REAL_FLOWS = SAMPLE_FLOWS
HOOKS = HookCatalogue(
    {
        "identify_caller": Hook(8, frozenset({"result", "tier"})),
        "slow_hook": Hook(3, None),
    }
)


END = act("end", "DisconnectParticipant")


def say(identifier: str, nxt: str = "end", text: str = "hello") -> dict[str, Any]:
    return act(
        identifier, "MessageParticipant", {"Text": text}, nxt, errors=(("NoMatchingError", nxt),)
    )


def lam(
    identifier: str, arn: str = "{{lambda:identify_caller}}", limit: Any = "3", nxt: str = "end"
) -> dict[str, Any]:
    params = {"LambdaFunctionARN": arn}
    if limit is not None:
        params["InvocationTimeLimitSeconds"] = limit
    return act(
        identifier, "InvokeLambdaFunction", params, nxt, errors=(("NoMatchingError", "end"),)
    )


def findings(*actions: dict[str, Any], start: str = "", flow_type: str = "CONTACT_FLOW"):
    document = {
        "Version": "2019-10-30",
        "StartAction": start or actions[0]["Identifier"],
        "Actions": list(actions),
    }
    return validate(read_document(document, "test.json", flow_type), HOOKS)


def rules(found) -> set[str]:
    return {f.rule for f in found}


def test_a_clean_flow_has_no_findings() -> None:
    assert (
        findings(say("hi", "who"), lam("who", nxt="bye"), say("bye", text="$.External.tier"), END)
        == []
    )


CASES = [
    ("unknown-action-type", (act("x", "InvokeExternalResource", nxt="end"), END), (say("x"), END)),
    ("dangling-transition", (say("x", nxt="nowhere"), END), (say("x"), END)),
    ("unreachable", (say("x"), say("orphan"), END), (say("x", "y"), say("y"), END)),
    (
        "unrouted-error",
        (act("x", "MessageParticipant", {"Text": "hi"}, "end"), END),
        (say("x"), END),
    ),
    (
        "compare-default",
        (
            act("x", "Compare", {"ComparisonValue": "$.Attributes.a"}, conditions=(("1", "end"),)),
            END,
        ),
        (
            act(
                "x",
                "Compare",
                {"ComparisonValue": "$.Attributes.a"},
                conditions=(("1", "end"),),
                errors=(("NoMatchingCondition", "end"),),
            ),
            END,
        ),
    ),
    (
        "input-timeout",
        (
            act(
                "x",
                "GetParticipantInput",
                {"Text": "press 1"},
                conditions=(("1", "end"),),
                errors=(("NoMatchingCondition", "end"), ("NoMatchingError", "end")),
            ),
            END,
        ),
        (
            act(
                "x",
                "GetParticipantInput",
                {"Text": "press 1"},
                conditions=(("1", "end"),),
                errors=(
                    ("InputTimeLimitExceeded", "end"),
                    ("NoMatchingCondition", "end"),
                    ("NoMatchingError", "end"),
                ),
            ),
            END,
        ),
    ),
    ("lambda-timeout", (lam("x", limit=None), END), (lam("x", limit="8"), END)),
    ("lambda-timeout", (lam("x", limit="9"), END), (lam("x", limit="1"), END)),
    ("lambda-timeout", (lam("x", limit="soon"), END), (lam("x", limit=3), END)),
    (
        "lambda-timeout",
        (lam("x", "{{lambda:slow_hook}}", "4"), END),
        (lam("x", "{{lambda:slow_hook}}", "3"), END),
    ),
    (
        "unknown-function",
        (lam("x", "{{lambda:nobody}}"), END),
        (lam("x", "{{lambda:identify_caller}}"), END),
    ),
    (
        "unknown-function",
        (lam("x", "arn:aws:lambda:us-east-1:111122223333:function:switchboard-dev-nobody"), END),
        (lam("x", "arn:aws:lambda:us-east-1:111122223333:function:someone-elses"), END),
    ),
    ("unresolved-reference", (lam("x", ""), END), (lam("x", "$.Attributes.fn"), END)),
    (
        "unresolved-reference",
        (
            act(
                "x",
                "UpdateContactTargetQueue",
                {"QueueId": "{{queue:}}"},
                "end",
                errors=(("NoMatchingError", "end"),),
            ),
            END,
        ),
        (
            act(
                "x",
                "UpdateContactTargetQueue",
                {"QueueId": "{{queue:billing}}"},
                "end",
                errors=(("NoMatchingError", "end"),),
            ),
            END,
        ),
    ),
    (
        "unresolved-reference",
        (
            act(
                "x",
                "TransferToFlow",
                {"ContactFlowId": "the billing flow"},
                "end",
                errors=(("NoMatchingError", "end"),),
            ),
            END,
        ),
        (
            act(
                "x",
                "TransferToFlow",
                {"ContactFlowId": "${F:billing:F}"},
                "end",
                errors=(("NoMatchingError", "end"),),
            ),
            END,
        ),
    ),
    (
        # Issue 9: alone, a flow's callers are unknown; reading $.External before its own
        # Lambdas is a warning naming that assumption (it was an error, 286 of them false).
        "external-from-caller",
        (say("x", text="$.External.tier"), END),
        (lam("l", nxt="x"), say("x", text="$.External.tier"), END),
    ),
    (
        "external-unset",
        (lam("l", nxt="x"), say("x", text="$.External.mood"), END),
        (lam("l", "{{lambda:slow_hook}}", nxt="x"), say("x", text="$.External.mood"), END),
    ),
    (
        "attribute-size",
        (
            act(
                "x",
                "UpdateContactAttributes",
                {"Attributes": {f"k{n}": f"$.External.v{n}" for n in range(40)}},
                "end",
                errors=(("NoMatchingError", "end"),),
            ),
            END,
        ),
        (
            act(
                "x",
                "UpdateContactAttributes",
                {"Attributes": {f"k{n}": "short" for n in range(40)}},
                "end",
                errors=(("NoMatchingError", "end"),),
            ),
            END,
        ),
    ),
    ("identifier", (say("x" * 51), END), (say("x" * 50), END)),
    ("identifier", (say("a:b"), END), (say("a b-c_d#1"), END)),
    ("identifier", (say("__proto__"), END), (say("proto"), END)),
    # The reference's own list (issue 9 checked it): "prototype" is not reserved.
    ("identifier", (say("propertyIsEnumerable"), END), (say("prototype"), END)),
    (
        "endless-loop",
        (say("a", "b"), say("b", "a"), END),
        (
            say("a", "b"),
            act(
                "b",
                "GetParticipantInput",
                {"Text": "again?"},
                conditions=(("1", "a"),),
                errors=(
                    ("InputTimeLimitExceeded", "end"),
                    ("NoMatchingCondition", "end"),
                    ("NoMatchingError", "end"),
                ),
            ),
            END,
        ),
    ),
]


@pytest.mark.parametrize(
    ("rule", "broken", "fixed"), CASES, ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)]
)
def test_rule_fires_on_the_broken_flow_and_not_on_the_fixed_one(rule, broken, fixed) -> None:
    found = findings(*broken)
    assert rule in rules(found), [str(f) for f in found]
    offending = next(f for f in found if f.rule == rule)
    assert offending.source == "test.json"
    assert rule not in rules(findings(*fixed))


def test_findings_name_the_action_type_and_field() -> None:
    finding = next(f for f in findings(lam("hook-1", limit="9"), END) if f.rule == "lambda-timeout")
    assert (finding.action_id, finding.action_type) == ("hook-1", "InvokeLambdaFunction")
    assert finding.field == "Parameters.InvocationTimeLimitSeconds"
    assert finding.severity is Severity.ERROR
    assert "hook-1 (InvokeLambdaFunction)" in str(finding)


def test_too_many_actions() -> None:
    chain = [say(f"s{n}", f"s{n + 1}") for n in range(250)] + [say("s250"), END]
    assert "too-many-actions" in rules(findings(*chain))
    assert "too-many-actions" not in rules(findings(*chain[3:], start="s3"))


@pytest.mark.parametrize(
    ("action", "flow_type"),
    [
        (
            act(
                "x",
                "TransferContactToQueue",
                nxt="end",
                errors=(("QueueAtCapacity", "end"), ("NoMatchingError", "end")),
            ),
            "AGENT_WHISPER",
        ),
        (
            act(
                "x",
                "UpdateContactCallbackNumber",
                {"CallbackNumber": "$.CustomerEndpoint.Address"},
                "end",
                errors=(("InvalidCallbackNumber", "end"), ("CallbackNumberNotDialable", "end")),
            ),
            "CUSTOMER_HOLD",
        ),
        (act("x", "UpdateContactRoutingBehavior", {"QueuePriority": "1"}, "end"), "QUEUE_TRANSFER"),
    ],
)
def test_action_not_allowed_in_the_flow_type(action, flow_type) -> None:
    assert "not-allowed-in-flow-type" in rules(findings(action, END, flow_type=flow_type))
    assert "not-allowed-in-flow-type" not in rules(findings(action, END, flow_type="CONTACT_FLOW"))


def test_external_after_a_lambda_error_branch_is_unset() -> None:
    found = findings(
        act(
            "l",
            "InvokeLambdaFunction",
            {"LambdaFunctionARN": "{{lambda:identify_caller}}", "InvocationTimeLimitSeconds": "3"},
            "ok",
            errors=(("NoMatchingError", "x"),),
        ),
        say("ok", "x"),
        say("x", text="$.External.tier"),
        END,
    )
    # Issue 9: on the error branch $.External still holds what it held before the Lambda,
    # which for a flow validated alone is its unknown caller's: a warning, not an error.
    assert "external-from-caller" in rules(found) and "external-unset" not in rules(found)


# -- the real flows: what it reports, and why (also written down in docs/flow-designers.md) ---

EXPECTED_ON_REAL_FLOWS = {
    # Whisper flows whose single prompt routes no error: a failed prompt ends the whisper
    # silently. Connect accepts it; routing every error is the best practice we check.
    ("acme_agent_whisper_AUTO.json", "unrouted-error"),
    ("acme_customer_whisper_AUTO.json", "unrouted-error"),
    ("OutboundCallWhisperer.json", "unrouted-error"),
}


def test_real_flows_report_only_the_documented_findings() -> None:
    reported = set()
    for path in REAL_FLOWS:
        for finding in validate(read_text(path.read_text(), path.name), HOOKS):
            reported.add((finding.source, finding.rule))
            assert finding.severity is Severity.WARNING, str(finding)
    assert reported == EXPECTED_ON_REAL_FLOWS


def test_our_flows_are_clean_against_the_real_app() -> None:
    from devkit.catalogue import hook_catalogue

    for path in sorted((ROOT / "flows").glob("*.json")):
        assert validate(read_text(path.read_text(), path.name), hook_catalogue()) == []


@pytest.mark.parametrize("queue", ["{{queeu:general}}", "{{queue:}}", "{{queue:gen|eral}}"])
def test_a_placeholder_deploy_could_not_resolve_is_an_error(queue) -> None:
    transfer = act(
        "q",
        "UpdateContactTargetQueue",
        {"QueueId": queue},
        "end",
        errors=(("NoMatchingError", "end"),),
    )
    found = [f for f in findings(transfer, END) if f.rule == "unresolved-reference"]
    assert found and "unresolvable placeholder" in found[0].message
    good = act(
        "q", "UpdateContactTargetQueue", {"QueueId": "{{queue:general}}"}, "end",
        errors=(("NoMatchingError", "end"),),
    )  # fmt: skip
    assert "unresolved-reference" not in rules(findings(good, END))


# -- flows validated together: $.External across Transfer to flow and modules -------------


def flow(name: str, *actions: dict[str, Any], flow_type: str = "CONTACT_FLOW"):
    document = {
        "Version": "2019-10-30",
        "StartAction": actions[0]["Identifier"],
        "Metadata": {"name": name},
        "Actions": list(actions),
    }
    return read_document(document, f"{name}.json", flow_type)


def transfer(identifier: str, target: str) -> dict[str, Any]:
    return act(
        identifier,
        "TransferToFlow",
        {"ContactFlowId": target},
        errors=(("NoMatchingError", "end"),),
    )


CALLEE = flow("callee", say("x", text="$.External.tier"), END)


@pytest.mark.parametrize(
    "reference",
    [
        "{{flow:callee}}",
        "arn:aws:connect:us-east-1:111122223333:instance/i-1/contact-flow/callee",
        "${F:callee:F}",
    ],
)
def test_a_transfer_carries_the_callers_last_lambda_answer(reference) -> None:
    caller = flow("main", lam("l", nxt="t"), transfer("t", reference), END)
    assert validate_set([caller, CALLEE], HOOKS) == []


def test_a_key_the_callers_last_lambda_never_answers_is_an_error_in_the_callee() -> None:
    caller = flow(
        "main",
        lam("l", "{{lambda:identify_caller}}", nxt="t"),
        transfer("t", "{{flow:callee}}"),
        END,
    )
    callee = flow("callee", say("x", text="$.External.mood"), END)
    found = validate_set([caller, callee], HOOKS)
    assert [(f.source, f.rule, f.severity) for f in found] == [
        ("callee.json", "external-unset", Severity.ERROR)
    ]
    assert "identify_caller" in found[0].message


def test_a_flow_alone_or_entered_before_any_lambda_gets_a_warning_naming_the_assumption() -> None:
    alone = validate_set([CALLEE], HOOKS)
    assert [(f.rule, f.severity) for f in alone] == [("external-from-caller", Severity.WARNING)]
    assert "validate this flow together with the flows that transfer to it" in alone[0].message
    caller = flow("main", transfer("t", "{{flow:callee}}"), END)  # no Lambda before
    assert rules(validate_set([caller, CALLEE], HOOKS)) == {"external-from-caller"}


def test_a_module_sees_the_external_attributes_of_the_flow_that_invokes_it() -> None:
    module = flow(
        "mod",
        say("x", text="$.External.tier"),
        act("end", "EndFlowModuleExecution"),
        flow_type="MODULE",
    )
    invoke = act(
        "m",
        "InvokeFlowModule",
        {"FlowModuleId": "{{module:mod}}"},
        "end",
        errors=(("NoMatchingError", "end"),),
    )
    caller = flow("main", lam("l", nxt="m"), invoke, END)
    assert validate_set([caller, module], HOOKS) == []


def test_the_cli_validates_the_files_it_is_given_as_one_set(tmp_path) -> None:
    import json as json_

    from click.testing import CliRunner

    from devkit.cli import main

    caller = {
        "Version": "2019-10-30",
        "StartAction": "l",
        "Metadata": {"name": "main"},
        "Actions": [lam("l", nxt="t"), transfer("t", "{{flow:callee}}"), END],
    }
    (tmp_path / "main.json").write_text(json_.dumps(caller))
    (tmp_path / "callee.json").write_text(json_.dumps(CALLEE.content))
    together = CliRunner().invoke(main, ["flows", "validate", str(tmp_path)])
    assert "2 files, 0 errors, 0 warnings" in together.output  # identify_caller answers tier
    alone = CliRunner().invoke(main, ["flows", "validate", str(tmp_path / "callee.json")])
    assert "1 files, 0 errors, 1 warnings" in alone.output


# -- rules tuned on real exports (issue 9) --------------------------------------------------


def get_input(store: str | None, errors: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    params: dict[str, Any] = {"Text": "Enter your account number", "InputTimeLimitSeconds": "5"}
    if store is not None:
        params["StoreInput"] = store
        params["InputValidation"] = {"CustomValidation": {"MaximumLength": "8"}}
    return act("x", "GetParticipantInput", params, "end", errors=errors)


def test_stored_input_has_no_timeout_branch_to_route() -> None:
    """With StoreInput a timeout goes down the success branch holding `Timeout`."""
    assert findings(get_input("True", (("NoMatchingError", "end"),)), END) == []


def test_a_missing_timeout_branch_without_stored_input_is_a_warning_not_an_error() -> None:
    found = findings(get_input(None, (("NoMatchingError", "end"),)), END)
    assert [(f.rule, f.severity) for f in found] == [("input-timeout", Severity.WARNING)]
    assert "a silent caller takes NoMatchingError" in found[0].message
    routed = (("InputTimeLimitExceeded", "end"), ("NoMatchingError", "end"))
    assert findings(get_input(None, routed), END) == []


@pytest.mark.parametrize(
    "action_type", ["CreateContact", "StartOutboundEmailContact", "AuthenticateParticipant"]
)
def test_an_action_type_we_do_not_know_is_a_warning_never_an_error(action_type) -> None:
    found = findings(act("x", action_type, {"Whatever": "value"}, "end"), END)
    assert [(f.rule, f.severity) for f in found] == [("unknown-action-type", Severity.WARNING)]
    assert "not checked" in found[0].message


def test_empty_values_that_are_never_right_empty_are_errors_wherever_they_sit() -> None:
    email = act(
        "x",
        "StartOutboundEmailContact",
        {
            "FromEmailAddress": {"EmailAddress": "", "DisplayName": "Support"},
            "DestinationEmailAddress": {"EmailAddress": "$.CustomerEndpoint.Address"},
        },
        "end",
    )
    found = findings(email, END)
    empty = [(f.field, f.message) for f in found if f.rule == "empty-parameter"]
    assert empty == [("Parameters.FromEmailAddress.EmailAddress", "is empty")]
    filled = act(
        "x", "StartOutboundEmailContact", {"FromEmailAddress": {"EmailAddress": "a@b.c"}}, "end"
    )
    assert "empty-parameter" not in rules(findings(filled, END))


def test_an_empty_lambda_arn_and_timeout_say_they_are_empty() -> None:
    found = findings(lam("x", arn="", limit=""), END)
    said = {(f.rule, f.field, f.message) for f in found}
    assert said == {
        ("unresolved-reference", "Parameters.LambdaFunctionARN", "the function ARN is empty"),
        ("empty-parameter", "Parameters.InvocationTimeLimitSeconds", "is empty"),
    }


def check_metric(metric: str, *conditions: tuple[str, ...]) -> dict[str, Any]:
    return act(
        "x",
        "CheckMetricData",
        {"MetricType": metric, "QueueId": "$.Queue.ARN"},
        "end",
        conditions=conditions,
        errors=(("NoMatchingError", "end"), ("NoMatchingCondition", "end")),
    )


def test_check_metric_data_knows_connects_metric_names_and_their_conditions() -> None:
    staffed = check_metric("NumberOfAgentsStaffed", ("NumberGreaterThan", "0", "end"))
    assert findings(staffed, END) == []
    in_queue = check_metric("NumberOfContactsInQueue", ("NumberLessThan", "10", "end"))
    assert findings(in_queue, END) == []
    invented = findings(check_metric("AgentsStaffed", ("NumberGreaterThan", "0", "end")), END)
    assert [f.rule for f in invented] == ["metric-type"]
    assert "NumberOfAgentsStaffed" in invented[0].message  # says what the names are
    compared = findings(check_metric("NumberOfAgentsOnline", ("Equals", "3", "end")), END)
    assert [f.message for f in compared] == [
        "NumberOfAgentsOnline allows only the condition NumberGreaterThan 0, not Equals 3"
    ]
