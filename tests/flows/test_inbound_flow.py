"""The shipped flow, run end to end: the demo's calls as assertions on path and final queue."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from devkit.calls import DAWN, MORNING
from devkit.harness import INBOUND_FLOW, ScriptedCall, Switchboard, local_switchboard

DOCUMENT = json.loads(INBOUND_FLOW.read_text())


@pytest.fixture(scope="module")
def switchboard() -> Iterator[Switchboard]:
    with local_switchboard(pin_cost=2**4, seeded_at=DAWN) as running:
        # The morning is one story (the repeat caller needs the first call), so play it once.
        running.results = [running.play(call) for call, _ in MORNING]  # type: ignore[attr-defined]
        yield running


@pytest.mark.parametrize("index", range(len(MORNING)), ids=[c.title for c, _ in MORNING])
def test_each_scripted_call_ends_where_expected(switchboard, index) -> None:
    call, expected = MORNING[index]
    result = switchboard.results[index]
    assert result.outcome is not None and result.outcome.value == expected.outcome
    assert result.queue == expected.queue
    missing = [step for step in expected.passes if step not in result.path]
    assert not missing, f"{call.title}: path {result.path} misses {missing}"


def hook_answer(result, hook: str) -> dict[str, str]:
    return dict(next(e.detail for e in result.hook_calls() if e.text == hook))


def test_green_channel_caller_never_hears_the_menu(switchboard) -> None:
    result = switchboard.results[1]
    assert "main-menu" not in result.path
    assert hook_answer(result, "route_call")["priority"] == "1"
    assert result.priority == 1  # applied with "Change routing priority"


def test_predicted_reason_is_offered_first_and_repeat_caller_recognised(switchboard) -> None:
    first, again = switchboard.results[2], switchboard.results[3]
    assert "payment" in first.prompts()[1]
    assert hook_answer(first, "identify_caller")["repeat_caller"] == "false"
    assert hook_answer(again, "identify_caller")["repeat_caller"] == "true"


def test_wrong_pin_three_times_locks_and_hands_over(switchboard) -> None:
    result = switchboard.results[6]
    answers = [e.detail["pin_result"] for e in result.hook_calls() if e.text == "verify_pin"]
    assert answers == ["wrong", "wrong", "locked"]
    assert "account-lookup" not in result.path


def test_silence_at_the_pin_prompt_is_an_agent_not_a_wrong_pin(switchboard) -> None:
    """With Store customer input, Connect sends silence down the success branch as the value
    `Timeout` (issue 9). The flow must not hand that to verify_pin: three silences would
    lock the customer's PIN for 15 minutes."""
    call = ScriptedCall(
        "Silent at the PIN prompt", "+14155550104", MORNING[6][0].at, ("3", "timeout")
    )
    result = switchboard.play(call)
    assert [e.text for e in result.hook_calls()].count("verify_pin") == 0
    assert "pin-entered" in result.path and "choice-account" in result.path
    assert (result.outcome.value, result.queue) == ("queued", "billing")


def test_silent_caller_is_asked_if_still_there_then_gets_a_human(switchboard) -> None:
    result = switchboard.results[9]
    assert result.prompts()[2].startswith("Are you still there?")
    assert result.attributes["menu_choice"] == "0"


def test_agent_sees_the_journey_and_route_as_contact_attributes(switchboard) -> None:
    attributes = switchboard.results[0].attributes
    assert attributes["journey"] == "called=known > menu=1"
    assert (attributes["queue"], attributes["priority"]) == ("vip", "1")


def test_throttled_metrics_still_route_and_say_so(switchboard) -> None:
    assert switchboard.results[10].attributes["load_status"] == "unavailable:throttled"


# -- the document itself ----------------------------------------------------------------------


def test_every_transition_points_at_an_action() -> None:
    ids = {action["Identifier"] for action in DOCUMENT["Actions"]}
    assert DOCUMENT["StartAction"] in ids
    for action in DOCUMENT["Actions"]:
        transitions = action["Transitions"]
        targets = [transitions.get("NextAction")] if transitions.get("NextAction") else []
        targets += [c["NextAction"] for c in transitions.get("Conditions", [])]
        targets += [e["NextAction"] for e in transitions.get("Errors", [])]
        assert set(targets) <= ids, action["Identifier"]


def test_lambda_blocks_name_registered_hooks_within_connects_limits() -> None:
    from app import app

    registered = {function.name for function in app.pure_lambda_functions}
    for action in DOCUMENT["Actions"]:
        if action["Type"] != "InvokeLambdaFunction":
            continue
        params = action["Parameters"]
        name = re.fullmatch(r"\{\{lambda:(\w+)\}\}", params["LambdaFunctionARN"])
        assert name and name.group(1) in registered, action["Identifier"]
        assert 2.5 < float(params["InvocationTimeLimitSeconds"]) <= 8
        assert params["ResponseValidation"]["ResponseType"] == "STRING_MAP"


def test_no_account_ids_or_real_arns_are_hard_coded() -> None:
    text = INBOUND_FLOW.read_text()
    assert not re.search(r"\b\d{12}\b", text)
    assert "arn:aws" not in text


def test_hooks_answer_only_the_keys_they_declare_to_the_validator(switchboard) -> None:
    from chalicelib.capabilities import CAPABILITIES

    declared = {hook: keys for c in CAPABILITIES for hook, keys in c.outputs.items()}
    for result in switchboard.results:
        for call in result.hook_calls():
            assert set(call.detail) <= declared[call.text], call.text
