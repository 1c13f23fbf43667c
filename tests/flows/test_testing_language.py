"""The testing-language runner: events, instructions, mocks, assertions, test control."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from flowlang.model import FlowError, load_flow
from flowlang.simulator import Caller, Outcome, Scenario, Simulator
from flowlang.testing import TestRunner, load_test_case
from tests.flowparts import act

ROOT = Path(__file__).resolve().parents[2]


def say(identifier: str, text: str, nxt: str = "end") -> dict[str, Any]:
    return act(identifier, "MessageParticipant", {"Text": text}, nxt)


END = act("end", "DisconnectParticipant")
FLOW = load_flow(
    {
        "Version": "2019-10-30",
        "StartAction": "hello",
        "Actions": [
            say("hello", "Welcome to the test line.", "hook"),
            act(
                "hook",
                "InvokeLambdaFunction",
                {"LambdaFunctionARN": "{{lambda:lookup}}", "InvocationTimeLimitSeconds": "3"},
                "menu",
                errors=[("NoMatchingError", "broken")],
            ),
            act(
                "menu",
                "GetParticipantInput",
                {"Text": "Hello $.External.name, press 1 or 2."},
                conditions=[("1", "hours"), ("2", "bot")],
                errors=[("InputTimeLimitExceeded", "silent"), ("NoMatchingCondition", "silent")],
            ),
            act(
                "hours",
                "CheckHoursOfOperation",
                {"HoursOfOperationId": "{{hours:main}}"},
                conditions=[("True", "queue"), ("False", "closed")],
                errors=[("NoMatchingError", "broken")],
            ),
            act("queue", "UpdateContactTargetQueue", {"QueueId": "{{queue:sales}}"}, "transfer"),
            act(
                "transfer",
                "TransferContactToQueue",
                {},
                "end",
                errors=[("QueueAtCapacity", "full"), ("NoMatchingError", "broken")],
            ),
            act(
                "bot",
                "ConnectParticipantWithLexBot",
                {"Text": "What do you need?", "LexV2Bot": {"AliasArn": "{{lex:helper}}"}},
                conditions=[("Sales", "queue")],
                errors=[("NoMatchingCondition", "silent"), ("NoMatchingError", "broken")],
            ),
            say("closed", "We are closed."),
            say("silent", "Goodbye."),
            say("full", "We are full."),
            say("broken", "Something broke."),
            END,
        ],
    },
    "test-flow",
)


def lookup_hook(event: dict[str, Any]) -> dict[str, str]:
    return {"name": "Ann"}


def observation(
    identifier: str,
    event: dict[str, Any],
    *actions: dict[str, Any],
    nxt: list[str] | None = None,
    times: int | None = None,
) -> dict[str, Any]:
    chained = [
        dict(
            a,
            Identifier=f"{identifier}-{n}",
            Transitions={"NextAction": f"{identifier}-{n + 1}" if n + 1 < len(actions) else ""},
        )
        for n, a in enumerate(actions)
    ]
    usage: dict[str, Any] = {"Type": "EXACTLY"}
    if times:
        usage["Times"] = times
    found = {"Identifier": identifier, "Event": event, "Actions": chained, "Usage": usage}
    if nxt is not None:
        found["Transitions"] = {"NextObservations": nxt}
    return found


def heard(text: str, criteria: str = "Inclusion") -> dict[str, Any]:
    return {
        "Type": "MessageReceived",
        "Actor": "System",
        "Properties": {"Text": text},
        "MatchingCriteria": criteria,
    }


def started(action_type: str, **parameters: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"ActionType": action_type}
    if parameters:
        properties["ActionParameters"] = parameters
    return {"Type": "FlowActionStarted", "Actor": "System", "Properties": properties}


INITIATED = {"Type": "TestInitiated", "Actor": "System", "Properties": {}}
COMPLETED = {"Type": "TestCompleted", "Actor": "System", "Properties": {}}


def dtmf(value: str) -> dict[str, Any]:
    return {
        "Type": "SendInstruction",
        "Parameters": {
            "ActionType": "SendInstruction",
            "Actor": "Customer",
            "Instruction": {"Type": "DtmfInput", "Properties": {"Value": value}},
        },
    }


def utterance(text: str) -> dict[str, Any]:
    return {
        "Type": "SendInstruction",
        "Parameters": {
            "ActionType": "SendInstruction",
            "Actor": "Customer",
            "Instruction": {
                "Type": "TextUtterance",
                "Properties": {"Text": text, "LanguageCode": "en-US"},
            },
        },
    }


def expect(namespace: str, operand: str, operator: str = "Equals") -> dict[str, Any]:
    return {
        "Type": "Assert",
        "Parameters": {"Namespace": namespace, "Operator": operator, "Operand": operand},
    }


def override(action_type: str, strategy: dict[str, Any], **parameters: Any) -> dict[str, Any]:
    return {
        "Type": "OverrideSystemBehavior",
        "Parameters": {
            "ActionType": "OverrideSystemBehavior",
            "Behavior": {
                "Type": "FlowAction",
                "Properties": {
                    "ActionType": action_type,
                    "ActionParameters": parameters,
                    "Strategy": strategy,
                },
            },
        },
    }


def mock_result(**result: Any) -> dict[str, Any]:
    return {
        "Type": "MockResponse",
        "Response": {"Type": "ExecutionResult", "ExecutionResult": result},
    }


def mock_error(value: str) -> dict[str, Any]:
    return {"Type": "MockResponse", "Response": {"Type": "Error", "Error": {"Value": value}}}


def control(command: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "TestControl", "Parameters": {"ActionType": "TestControl", "Command": command}}


def run_case(*observations: dict[str, Any], hours_open: bool = True, **scenario: Any):
    document = {
        "Name": "case",
        "EntryPoint": {
            "Type": "VOICE_CALL",
            "VoiceCallEntryPointParameters": {
                "SourcePhoneNumber": "+14155550101",
                "FlowId": "{{flow:test-flow}}",
            },
        },
        "Content": json.dumps({"Version": "2025-06-21", "Observations": list(observations)}),
    }
    test = load_test_case(document, "case.json")
    runner = TestRunner(test)
    simulator = Simulator(
        FLOW,
        {"lookup": lookup_hook},
        Scenario(hours_open={"{{hours:main}}": hours_open}, **scenario),
    )
    result = simulator.run(Caller(test.caller), runner)
    return runner.report(result.path), result


def test_a_passing_case_with_dtmf_and_assertions() -> None:
    report, result = run_case(
        observation("start", INITIATED),
        observation("welcome", heard("welcome to the test line", "Similarity")),
        observation("menu", heard("press 1 or 2"), dtmf("1"), expect("$.External.name", "Ann")),
        observation("queued", started("TransferContactToQueue"), expect("$.Queue.Name", "sales")),
        observation("done", COMPLETED),
    )
    assert report.passed, report
    assert result.outcome is Outcome.QUEUED
    assert all(r.status == "passed" for r in report.results.values())


def test_a_failed_assertion_fails_the_case_and_says_why() -> None:
    report, _ = run_case(
        observation("menu", heard("press 1"), dtmf("1")),
        observation("queued", started("TransferContactToQueue"), expect("$.Queue.Name", "support")),
    )
    assert not report.passed
    assert report.results["queued"].failures == [
        "queued-0: $.Queue.Name is 'sales', expected Equals 'support'"
    ]


def test_an_expected_event_that_never_comes_fails_the_case() -> None:
    report, _ = run_case(
        observation("menu", heard("press 1"), dtmf("1")),
        observation("never", heard("this prompt does not exist")),
    )
    assert not report.passed and report.waiting_for == ["never"]


def test_unmatched_prompts_are_ignored_and_order_matters() -> None:
    report, _ = run_case(observation("queued", started("TransferContactToQueue")))
    assert not report.passed  # silence at the menu: the call never reaches a queue
    report, _ = run_case(
        observation("menu", heard("press 1"), dtmf("1")), observation("welcome", heard("Welcome"))
    )
    assert report.waiting_for == ["welcome"]  # the welcome came before the menu


def test_flow_action_parameters_are_matched_by_placeholder_or_name() -> None:
    report, _ = run_case(
        observation("hook", started("InvokeLambdaFunction", LambdaFunctionARN="{{lambda:lookup}}"))
    )
    assert report.passed
    report, _ = run_case(
        observation(
            "hook",
            started(
                "InvokeLambdaFunction",
                LambdaFunctionARN="arn:aws:lambda:us-east-1:1:function:lookup",
            ),
        )
    )
    assert report.passed
    report, _ = run_case(
        observation("hook", started("InvokeLambdaFunction", LambdaFunctionARN="{{lambda:other}}"))
    )
    assert not report.passed


def test_lambda_mocks_answer_or_fail_instead_of_the_function() -> None:
    report, _ = run_case(
        observation(
            "start",
            INITIATED,
            override(
                "InvokeLambdaFunction",
                mock_result(LoadedData='{"name": "Bea"}'),
                LambdaFunctionARN="{{lambda:lookup}}",
            ),
        ),
        observation("menu", heard("Hello Bea")),
    )
    assert report.passed
    report, _ = run_case(
        observation(
            "start", INITIATED, override("InvokeLambdaFunction", mock_error("TimeLimitExceeded"))
        ),
        observation("broken", heard("Something broke")),
    )
    assert report.passed


def test_hours_lex_and_queue_mocks() -> None:
    closed = override("CheckHoursOfOperation", mock_result(Value="OutOfHours"))
    report, _ = run_case(
        observation("start", INITIATED, closed),
        observation("menu", heard("press 1"), dtmf("1")),
        observation("closed", heard("We are closed")),
    )
    assert report.passed
    lex = override(
        "ConnectParticipantWithLexBot", mock_result(LoadedData='{"IntentName": "Sales"}')
    )
    report, _ = run_case(
        observation("start", INITIATED, lex),
        observation("menu", heard("press 1"), dtmf("2")),
        observation("bot", heard("What do you need"), utterance("anything")),
        observation("queued", started("TransferContactToQueue")),
    )
    assert report.passed
    full = override("TransferContactToQueue", mock_error("QueueAtCapacity"))
    report, _ = run_case(
        observation("start", INITIATED, full),
        observation("menu", heard("press 1"), dtmf("1")),
        observation("full", heard("We are full")),
    )
    assert report.passed


def test_utterances_use_the_scenario_bot() -> None:
    report, _ = run_case(
        observation("menu", heard("press 1"), dtmf("2")),
        observation("bot", heard("What do you need"), utterance("I want to buy")),
        observation("queued", started("TransferContactToQueue")),
        lex_intents={"i want to buy": "Sales"},
    )
    assert report.passed


def test_end_test_stops_the_call_and_log_data_is_kept() -> None:
    report, result = run_case(
        observation(
            "menu",
            heard("press 1"),
            control({"Type": "LogData", "Properties": {"Expressions": {"who": "$.External.name"}}}),
            control({"Type": "EndTest"}),
        )
    )
    assert report.passed and report.logs == [{"who": "Ann"}]
    assert "hours" not in result.path


def test_caller_hanging_up() -> None:
    hang_up = {
        "Type": "SendInstruction",
        "Parameters": {
            "ActionType": "SendInstruction",
            "Actor": "Customer",
            "Instruction": {"Type": "Disconnect"},
        },
    }
    report, result = run_case(
        observation("menu", heard("press 1"), hang_up), observation("done", COMPLETED)
    )
    assert report.passed and result.outcome is Outcome.DISCONNECTED


def test_next_observations_choose_what_may_come_next() -> None:
    report, _ = run_case(
        observation("menu", heard("press 1"), dtmf("1"), nxt=["closed", "queued"]),
        observation("never", heard("not a prompt")),
        observation("closed", heard("We are closed")),
        observation("queued", started("TransferContactToQueue"), nxt=[]),
    )
    assert report.passed
    assert report.results["never"].status == "not reached"


def test_usage_exactly_times_waits_for_every_occurrence() -> None:
    report, _ = run_case(
        observation(
            "any-prompt", {"Type": "MessageReceived", "Actor": "System", "Properties": {}}, times=5
        )
    )
    # Three prompts are played (welcome, menu, goodbye after the silent caller): not five.
    assert report.waiting_for == ["any-prompt"]
    assert report.results["any-prompt"].matched == 3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "JSON object"),
        ({"Content": {"Version": "2020-01-01", "Observations": []}}, "Version"),
        ({"Content": {"Version": "2025-06-21", "Observations": []}}, "at least one"),
        ({"Content": {"Version": "2025-06-21", "Observations": [{"Identifier": "x"}]}}, "Event"),
    ],
)
def test_malformed_test_cases_are_refused(document, message) -> None:
    with pytest.raises(FlowError, match=message):
        load_test_case(document, "bad.json")


def test_every_shipped_flow_has_test_cases_that_pass_with_enough_coverage() -> None:
    from devkit.flowtests import load_tests, run_tests, summary, thresholds

    tests = load_tests([ROOT / "flows" / "tests"])
    reports, coverage = run_tests(tests, ROOT / "flows")
    lines, ok = summary(reports, coverage, thresholds())
    assert ok, "\n".join(lines)
    shipped = {p.stem for p in (ROOT / "flows").glob("*.json")}
    assert {c.flow for c in coverage} >= shipped


def test_a_misspelt_key_is_refused_not_run_as_a_test_that_does_nothing() -> None:
    document = {
        "Name": "typo",
        "EntryPoint": {"VoiceCallEntryPointParameters": {"FlowId": "main", "Source": "+1"}},
        "Content": {
            "Version": "2025-06-21",
            "Observations": [
                {"Identifier": "start", "Event": {"Type": "TestInitiated"}, "Acions": []},
                {"Event": {"Type": "TestCompleted"}, "Usage": {"Type": "EXACTLY", "Times": 0}},
            ],
        },
    }
    with pytest.raises(FlowError) as error:
        load_test_case(document, "typo.json")
    assert str(error.value) == (
        "typo.json: EntryPoint.VoiceCallEntryPointParameters: unknown keys Source"
    )
    document["EntryPoint"] = {"VoiceCallEntryPointParameters": {"FlowId": "main"}}
    with pytest.raises(FlowError) as error:
        load_test_case(document, "typo.json")
    assert str(error.value) == (
        "typo.json: Content.Observations[0]: unknown keys Acions; "
        "Content.Observations[1].Usage.Times must be at least 1"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"Content": "{not json"}, "typo.json: Content is not valid JSON"),
        ({"Content": 7}, "Content must be a JSON object or a string holding one"),
        (
            {
                "Content": {"Version": "2025-06-21", "Observations": [{"Event": {"Type": "X"}}]},
                "InitializationData": "[1]",
            },
            "InitializationData must hold an object of attributes",
        ),
    ],
)
def test_content_and_initial_data_may_be_json_text_and_bad_text_is_named(document, message):
    with pytest.raises(FlowError, match=re.escape(message)):
        load_test_case(document, "typo.json")
