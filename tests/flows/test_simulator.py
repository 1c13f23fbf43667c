"""The flow-language interpreter, action by action, on small flows and fake Lambdas."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flowlang.model import FlowError, load_flow
from flowlang.simulator import (
    Caller,
    Outcome,
    Scenario,
    Simulator,
    UnsupportedActionError,
    condition_holds,
)
from tests.flowparts import REAL_FLOWS_DIR, act


def flow(*actions: dict[str, Any], start: str = "") -> Any:
    return load_flow(
        {
            "Version": "2019-10-30",
            "StartAction": start or actions[0]["Identifier"],
            "Actions": list(actions),
        }
    )


END = act("end", "DisconnectParticipant")
SAY_ERROR = act("said-error", "MessageParticipant", {"Text": "error branch"}, "end")


def lambda_block(**params: Any) -> dict[str, Any]:
    return act(
        "hook",
        "InvokeLambdaFunction",
        {"LambdaFunctionARN": "{{lambda:fn}}", "InvocationTimeLimitSeconds": "3", **params},
        "said-ok",
        errors=[("NoMatchingError", "said-error")],
    )


SAY_OK = act("said-ok", "MessageParticipant", {"Text": "answer $.External.answer"}, "end")


def run(document, lambdas=None, caller=None, **kwargs) -> Any:
    return Simulator(document, lambdas or {}, **kwargs).run(caller or Caller("+14155550101"))


def test_unsupported_action_stops_the_run_naming_type_and_id() -> None:
    document = flow(act("voice", "StartVoiceIdStream", nxt="end"), END)
    with pytest.raises(UnsupportedActionError, match=r"'voice'.*'StartVoiceIdStream'"):
        run(document)


def test_lambda_gets_the_exact_connect_event_and_its_answer_is_external() -> None:
    seen: list[dict[str, Any]] = []

    def fn(event: dict[str, Any]) -> dict[str, str]:
        seen.append(event)
        return {"answer": "42"}

    document = flow(
        act("set", "UpdateContactAttributes", {"Attributes": {"tier": "gold"}}, "hook"),
        lambda_block(
            LambdaInvocationAttributes={
                "who": "$.CustomerEndpoint.Address",
                "tier": "$.Attributes.tier",
            }
        ),
        SAY_OK,
        SAY_ERROR,
        END,
    )
    result = run(document, {"fn": fn})
    event = seen[0]
    assert event["Name"] == "ContactFlowEvent"
    assert event["Details"]["Parameters"] == {"who": "+14155550101", "tier": "gold"}
    assert event["Details"]["ContactData"]["Attributes"] == {"tier": "gold"}
    assert event["Details"]["ContactData"]["CustomerEndpoint"]["Address"] == "+14155550101"
    assert result.prompts() == ["answer 42"]
    data = event["Details"]["ContactData"]
    assert set(data) == {
        "Attributes", "Channel", "ContactId", "CustomerEndpoint", "InitialContactId",
        "InitiationMethod", "InstanceARN", "MediaStreams", "PreviousContactId", "Queue",
        "RelatedContactId", "SegmentAttributes", "SystemEndpoint", "Tags",
    }  # fmt: skip
    assert (data["InitiationMethod"], data["RelatedContactId"], data["Tags"]) == (
        "INBOUND",
        None,
        {},
    )


def test_a_contact_placed_by_the_api_carries_its_initiation_method_tags_and_relation() -> None:
    seen: list[dict[str, Any]] = []
    caller = Caller(
        "+14155550101",
        initiation_method="API",
        related_contact_id="11111111-0000-4000-8000-000000000001",
        tags={"campaign": "renewals"},
        segment_attributes={"connect:Subtype": {"ValueString": "connect:Telephony"}},
    )
    run(flow(lambda_block(), SAY_OK, SAY_ERROR, END), {"fn": seen.append}, caller=caller)
    data = seen[0]["Details"]["ContactData"]
    assert data["InitiationMethod"] == "API"
    assert data["RelatedContactId"] == "11111111-0000-4000-8000-000000000001"
    assert data["Tags"] == {"campaign": "renewals"}
    assert data["SegmentAttributes"]["connect:Subtype"] == {"ValueString": "connect:Telephony"}


def test_lambda_failure_is_retried_three_times_then_takes_the_error_branch() -> None:
    calls = []

    def fn(event: dict[str, Any]) -> dict[str, str]:
        calls.append(1)
        raise RuntimeError("boom")

    result = run(flow(lambda_block(), SAY_OK, SAY_ERROR, END), {"fn": fn})
    assert len(calls) == 4
    assert result.prompts() == ["error branch"]


def test_lambda_retry_that_succeeds_takes_the_success_branch() -> None:
    calls = []

    def fn(event: dict[str, Any]) -> dict[str, str]:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("throttled")
        return {"answer": "third time"}

    result = run(flow(lambda_block(), SAY_OK, SAY_ERROR, END), {"fn": fn})
    assert result.prompts() == ["answer third time"]


def test_lambda_slower_than_its_time_limit_takes_the_error_branch() -> None:
    ticks = iter([0.0, 3.5])  # started, finished: 3.5 s against a 3 s limit
    result = run(
        flow(lambda_block(), SAY_OK, SAY_ERROR, END),
        {"fn": lambda e: {"answer": "x"}},
        monotonic=lambda: next(ticks),
    )
    assert result.prompts() == ["error branch"]


@pytest.mark.parametrize("answer", [{"nested": {"a": "b"}}, ["list"], None, {"n": 1}])
def test_lambda_answer_that_is_not_a_string_map_takes_the_error_branch(answer) -> None:
    result = run(flow(lambda_block(), SAY_OK, SAY_ERROR, END), {"fn": lambda e: answer})
    assert result.prompts() == ["error branch"]


def test_unknown_lambda_is_a_flow_error() -> None:
    with pytest.raises(FlowError, match="no Lambda function 'fn'"):
        run(flow(lambda_block(), SAY_OK, SAY_ERROR, END), {})


@pytest.mark.parametrize("arn", ["", "$.Attributes.missing"])
def test_an_empty_lambda_arn_says_so_rather_than_naming_a_function(arn) -> None:
    with pytest.raises(FlowError, match="the function ARN is empty") as error:
        run(flow(lambda_block(LambdaFunctionARN=arn), SAY_OK, SAY_ERROR, END), {})
    assert "no Lambda function" not in str(error.value)


def menu(**params: Any) -> dict[str, Any]:
    return act(
        "menu",
        "GetParticipantInput",
        {"Text": "press 1", "InputTimeLimitSeconds": "5", **params},
        "stored",
        conditions=[("Equals", "1", "one")],
        errors=[("InputTimeLimitExceeded", "silent"), ("NoMatchingCondition", "other")],
    )


BRANCHES = [act(n, "MessageParticipant", {"Text": n}, "end") for n in ("one", "silent", "other")]
STORED = act("stored", "MessageParticipant", {"Text": "got $.StoredCustomerInput"}, "end")


@pytest.mark.parametrize(
    ("inputs", "said"),
    [(("1",), "one"), (("timeout",), "silent"), (("7",), "other"), ((), "silent")],
)
def test_get_input_branches_on_keys_timeout_and_no_match(inputs, said) -> None:
    result = run(flow(menu(), *BRANCHES, STORED, END), caller=Caller("+1", inputs))
    assert result.prompts()[-1] == said


def test_stored_input_is_readable_as_stored_customer_input() -> None:
    result = run(
        flow(menu(StoreInput="True"), *BRANCHES, STORED, END), caller=Caller("+1", ("1234#",))
    )
    assert result.prompts()[-1] == "got 1234"


@pytest.mark.parametrize(
    ("operator", "value", "operand", "holds"),
    [
        ("Equals", "a", "a", True),
        ("NumberGreaterThan", "10", "9", True),
        ("NumberLessThan", "x", "9", False),
        ("TextContains", "hello", "ell", True),
        ("TextStartsWith", "hello", "he", True),
        ("NumberLessOrEqualTo", "3", "3", True),
    ],
)
def test_compare_operators(operator, value, operand, holds) -> None:
    assert condition_holds(operator, value, operand) is holds


def test_attributes_over_32kb_take_the_error_branch() -> None:
    document = flow(
        act(
            "set",
            "UpdateContactAttributes",
            {"Attributes": {"big": "x" * 33_000}},
            "one",
            errors=[("NoMatchingError", "other")],
        ),
        *BRANCHES,
        END,
    )
    assert run(document).prompts() == ["other"]


def test_queue_transfer_and_capacity() -> None:
    document = flow(
        act("queue", "UpdateContactTargetQueue", {"QueueId": "{{queue:billing}}"}, "transfer"),
        act("transfer", "TransferContactToQueue", {}, "end", errors=[("QueueAtCapacity", "other")]),
        *BRANCHES,
        END,
    )
    queued = run(document)
    assert (queued.outcome, queued.queue) == (Outcome.QUEUED, "billing")
    full = run(document, scenario=Scenario(queues_at_capacity=frozenset({"billing"})))
    assert full.prompts() == ["other"] and full.outcome is Outcome.DISCONNECTED


def test_hours_come_from_the_scenario_calendar() -> None:
    document = flow(
        act(
            "hours",
            "CheckHoursOfOperation",
            {"HoursOfOperationId": "main"},
            "",
            conditions=[("Equals", "True", "one"), ("Equals", "False", "other")],
        ),
        *BRANCHES,
        END,
    )
    assert run(document, scenario=Scenario(hours_open={"main": True})).prompts() == ["one"]
    assert run(document, scenario=Scenario(hours_open={"main": False})).prompts() == ["other"]


def test_callback_needs_a_dialable_number() -> None:
    document = flow(
        act(
            "number",
            "UpdateContactCallbackNumber",
            {"CallbackNumber": "$.CustomerEndpoint.Address"},
            "callback",
            errors=[("InvalidCallbackNumber", "other")],
        ),
        act("callback", "CreateCallbackContact", {"QueueId": "{{queue:general}}"}, "one"),
        *BRANCHES,
        END,
    )
    booked = run(document)
    assert (booked.outcome, booked.queue) == (Outcome.CALLBACK, "general")
    assert run(document, caller=Caller(None)).prompts() == ["other"]


def test_a_flow_that_never_ends_is_stopped() -> None:
    document = flow(act("a", "MessageParticipant", {"Text": "again"}, "a"))
    with pytest.raises(FlowError, match="did not finish"):
        run(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"Version": "2018-01-01", "Actions": []}, "Version"),
        ({"Version": "2019-10-30", "StartAction": "x", "Actions": {}}, "Actions must be a list"),
        ({"Version": "2019-10-30", "StartAction": "x", "Actions": []}, "StartAction 'x'"),
        ({"Version": "2019-10-30", "StartAction": "a", "Actions": [END, END]}, "unique"),
    ],
)
def test_broken_documents_are_rejected_clearly(document, message) -> None:
    with pytest.raises(FlowError, match=message):
        load_flow(document)


def test_routing_priority_must_be_static() -> None:
    document = flow(act("p", "UpdateContactRoutingBehavior", {"QueuePriority": "2"}, "end"), END)
    assert run(document).priority == 2
    dynamic = flow(
        act("p", "UpdateContactRoutingBehavior", {"QueuePriority": "$.External.priority"}, "end"),
        END,
    )
    with pytest.raises(FlowError, match="static integer"):
        run(dynamic)


# -- the action types real flows use ----------------------------------------------------------

REAL = REAL_FLOWS_DIR / "outbound-call"


def test_loop_continues_then_is_done_and_starts_over() -> None:
    document = flow(
        act(
            "loop",
            "Loop",
            {"LoopCount": "2"},
            conditions=[("Equals", "ContinueLooping", "again"), ("Equals", "DoneLooping", "done")],
        ),
        act("again", "MessageParticipant", {"Text": "again"}, "loop"),
        act("done", "MessageParticipant", {"Text": "done"}, "end"),
        END,
    )
    assert run(document).prompts() == ["again", "again", "done"]


def test_wait_completes() -> None:
    document = flow(
        act(
            "wait",
            "Wait",
            {"TimeoutSeconds": "30"},
            "one",
            conditions=[("Equals", "WaitCompleted", "one")],
        ),
        *BRANCHES,
        END,
    )
    result = run(document)
    assert result.prompts() == ["one"] and result.events[0].text == "waits 30 s"


def test_metrics_come_from_the_scenario() -> None:
    check = flow(
        act("queue", "UpdateContactTargetQueue", {"QueueId": "{{queue:billing}}"}, "check"),
        act(
            "check",
            "CheckMetricData",
            {"MetricType": "NumberOfContactsInQueue"},
            "one",
            conditions=[("NumberGreaterThan", "5", "other")],
            errors=[("NoMatchingCondition", "one"), ("NoMatchingError", "silent")],
        ),
        *BRANCHES,
        END,
    )
    busy = Scenario(queue_metrics={"billing": {"CONTACTS_IN_QUEUE": 9}})
    quiet = Scenario(queue_metrics={"billing": {"CONTACTS_IN_QUEUE": 1}})
    assert run(check, scenario=busy).prompts() == ["other"]
    assert run(check, scenario=quiet).prompts() == ["one"]
    # Issue 9: no metrics for the queue used to take the error branch as if Connect had
    # failed; the run now stops naming the scenario key.
    with pytest.raises(FlowError, match=r"say it in the scenario as queues\.billing\.metrics"):
        run(check)
    get = flow(
        act("queue", "UpdateContactTargetQueue", {"QueueId": "{{queue:billing}}"}, "get"),
        act("get", "GetMetricData", {}, "say", errors=[("NoMatchingError", "silent")]),
        act("say", "MessageParticipant", {"Text": "$.Metrics.Queue.Size waiting"}, "end"),
        *BRANCHES,
        END,
    )
    assert run(get, scenario=busy).prompts() == ["9 waiting"]


def lex_block(**params: Any) -> dict[str, Any]:
    return act(
        "bot",
        "ConnectParticipantWithLexBot",
        {"Text": "How can I help?", "LexV2Bot": {"AliasArn": "$.Attributes.BOT"}, **params},
        conditions=[("Equals", "Sales", "one")],
        errors=[
            ("NoMatchingCondition", "other"),
            ("InputTimeLimitExceeded", "silent"),
            ("NoMatchingError", "other"),
        ],
    )


@pytest.mark.parametrize(
    ("said", "prompt"),
    [
        ("I want to buy", "one"),
        ("intent:Sales", "one"),
        ("weather?", "other"),
        ("timeout", "silent"),
    ],
)
def test_lex_maps_scripted_utterances_to_intents(said, prompt) -> None:
    scenario = Scenario(lex_intents={"i want to buy": "Sales"})
    result = run(flow(lex_block(), *BRANCHES, END), caller=Caller("+1", (said,)), scenario=scenario)
    assert result.prompts()[-1] == prompt


def test_third_party_transfer() -> None:
    document = flow(
        act(
            "xfer",
            "TransferParticipantToThirdParty",
            {"ThirdPartyPhoneNumber": "+14155550100"},
            "one",
            errors=[("CallFailed", "other")],
        ),
        *BRANCHES,
        END,
    )
    assert run(document).events[-1].text == "transferred to third party"
    assert run(document, scenario=Scenario(third_party_answers=False)).prompts() == ["other"]


def test_iterative_messages_and_flow_attributes() -> None:
    document = flow(
        act("attrs", "UpdateFlowAttributes", {"FlowAttributes": {"who": {"Value": "us"}}}, "play"),
        act(
            "play",
            "MessageParticipantIteratively",
            {"Messages": [{"Text": "hold on, $.FlowAttributes.who"}, {"PromptId": "p-1"}]},
        ),
    )
    assert run(document).prompts() == ["hold on, us", "[audio prompt p-1]"]


def test_transfer_to_flow_and_modules_across_files() -> None:
    module = flow(
        act("m1", "MessageParticipant", {"Text": "in module"}, "m2"),
        act("m2", "EndFlowModuleExecution"),
    )
    module = replace(module, name="greeting-module")
    other = replace(
        flow(act("o1", "MessageParticipant", {"Text": "other flow"}, "end"), END), name="other"
    )
    main = flow(
        act("mod", "InvokeFlowModule", {"FlowModuleId": "{{module:greeting-module}}"}, "after"),
        act("after", "MessageParticipant", {"Text": "back"}, "xfer"),
        act(
            "xfer",
            "TransferToFlow",
            {"ContactFlowId": "arn:aws:connect:r:1:instance/i/contact-flow/other"},
        ),
    )
    result = run(main, scenario=Scenario(flows={"greeting-module": module, "other": other}))
    assert result.prompts() == ["in module", "back", "other flow"]
    assert ("greeting-module", "m1") in result.steps and ("other", "o1") in result.steps
    with pytest.raises(FlowError, match="names no flow"):
        run(main)


def test_the_real_outbound_flow_runs_with_its_modules() -> None:
    from flowlang.loader import read_text

    modules = {
        name: read_text((REAL / f"{name}.json").read_text(), name).flow
        for name in (
            "InitModule",
            "GetCustomerNameModule",
            "GetCustomerResponseModule",
            "ErrorModule",
        )
    }
    main = read_text((REAL / "OutboundCallFlow.json").read_text()).flow
    lambda_arn = "arn:aws:lambda:us-east-1:111122223333:function:"
    attributes = {
        "INIT_MODULE_ID": "InitModule",
        "GET_CUST_NAME_MODULE_ID": "GetCustomerNameModule",
        "CUST_RESPONSE_MODULE_ID": "GetCustomerResponseModule",
        "ERROR_HANDLING_MODULE_ID": "ErrorModule",
        "UPDATE_LAMBDA_ARN": lambda_arn + "update",
        "TRIGGER_RECORDING_LAMBDA_ARN": lambda_arn + "rec",
    }
    scenario = Scenario(flows=modules, lambda_responses={"update": {"status": "ok"}, "rec": {}})
    result = Simulator(main, {}, scenario).run(
        Caller("+14155550101", ("timeout",), attributes=attributes)
    )
    flows_visited = {name for name, _ in result.steps}
    assert {"InitFlowModule", "getCustNameFlowModule", "Outbound Call Flow"} <= flows_visited
    assert result.outcome is Outcome.DISCONNECTED


@pytest.mark.parametrize(
    "type_",
    [
        "UpdateContactData",
        "UpdateContactEventHooks",
        "UpdateContactMediaStreamingBehavior",
        "UpdateContactTextToSpeechVoice",
        "UpdateContactRecordingBehavior",
        "UpdateContactRecordingAndAnalyticsBehavior",
        "UpdateFlowLoggingBehavior",
    ],
)
def test_settings_actions_pass_through_to_their_next_action(type_) -> None:
    document = flow(act("x", type_, {"Anything": "1"}, "one"), *BRANCHES, END)
    result = run(document)
    assert result.prompts() == ["one"] and result.path[0] == "x"
