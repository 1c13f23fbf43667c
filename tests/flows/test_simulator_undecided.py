"""Issue 9: the simulator never reports a wrong path as a normal ending. What only the
scenario can decide stops the run naming the action and the scenario key; what the scenario
or a test's mock decided is marked; Connect's own behaviour for metrics, agent queues, stored
input and interrupted queue prompts is modelled. Each flow here is shaped like a real one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chalicelib.platform.hours import parse_hours
from devkit.cli import main
from flowlang.loader import read_document
from flowlang.model import Flow, load_flow
from flowlang.simulator import Caller, Outcome, Scenario, Simulator, UndecidedError
from tests.flowparts import act

END = act("end", "DisconnectParticipant")


def flow(*actions: dict[str, Any], flow_type: str = "CONTACT_FLOW") -> Flow:
    document = {
        "Version": "2019-10-30",
        "StartAction": actions[0]["Identifier"],
        "Actions": list(actions),
    }
    return load_flow(document, "test", flow_type)


def say(identifier: str, text: str, nxt: str = "end") -> dict[str, Any]:
    return act(
        identifier, "MessageParticipant", {"Text": text}, nxt, errors=(("NoMatchingError", nxt),)
    )


def run(document: Flow, inputs: tuple[str, ...] = (), **scenario: Any):
    return Simulator(document, {}, Scenario(**scenario)).run(Caller("+14155550101", inputs))


# -- CheckMetricData with Connect's metric names -------------------------------------------


def staffed_check(metric: str = "NumberOfAgentsStaffed") -> Flow:
    """As the console writes "Check staffing": agents staffed > 0, else after-hours."""
    return flow(
        act(
            "queue",
            "UpdateContactTargetQueue",
            {"QueueId": "arn:aws:connect:us-east-1:1:instance/i/queue/q-sales"},
            "check",
            errors=(("NoMatchingError", "end"),),
        ),
        act(
            "check",
            "CheckMetricData",
            {"MetricType": metric},
            "nobody",
            conditions=(("NumberGreaterThan", "0", "staffed"),),
            errors=(("NoMatchingError", "failed"),),
        ),
        say("staffed", "connecting you"),
        say("nobody", "nobody is here"),
        say("failed", "something went wrong"),
        END,
    )


@pytest.mark.parametrize(
    ("metrics", "heard"),
    [
        ({"NumberOfAgentsStaffed": 3}, "connecting you"),
        ({"AGENTS_STAFFED": 0}, "nobody is here"),  # the API's name works too
    ],
)
def test_connects_metric_names_are_read_from_the_scenario(metrics, heard) -> None:
    result = run(staffed_check(), queue_ids={"Sales": "q-sales"}, queue_metrics={"Sales": metrics})
    assert result.prompts() == [heard]


def test_a_metric_the_scenario_does_not_give_stops_the_run_naming_the_key() -> None:
    with pytest.raises(UndecidedError) as stop:
        run(
            staffed_check("NumberOfAgentsOnline"),
            queue_ids={"Sales": "q-sales"},
            queue_metrics={"Sales": {"AGENTS_STAFFED": 3}},
        )
    assert stop.value.key == "queues.Sales.metrics.NumberOfAgentsOnline"
    assert "action 'check' (CheckMetricData)" in str(stop.value)
    with pytest.raises(UndecidedError, match=r"as queues\.q-sales\.metrics$"):
        run(staffed_check())  # the queue is not in the scenario at all


# -- hours the scenario does not describe ---------------------------------------------------


def hours_check() -> Flow:
    return flow(
        act(
            "hours",
            "CheckHoursOfOperation",
            {"HoursOfOperationId": "arn:aws:connect:us-east-1:1:instance/i/operating-hours/h-main"},
            conditions=(("True", "open"), ("False", "closed")),
            errors=(("NoMatchingError", "failed"),),
        ),
        say("open", "we are open"),
        say("closed", "we are closed"),
        say("failed", "error"),
        END,
    )


def test_hours_the_scenario_does_not_describe_stop_the_run() -> None:
    with pytest.raises(UndecidedError) as stop:
        run(hours_check())
    assert stop.value.key == "hours.h-main"
    calendar = parse_hours("h-main", {"timezone": "UTC", "weekly": {"tue": ["09:00-17:00"]}}, [])
    from datetime import UTC, datetime

    tuesday_noon = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert run(hours_check(), hours_open={"h-main": calendar}, now=tuesday_noon).prompts() == [
        "we are open"
    ]


# -- agent queues ---------------------------------------------------------------------------


def test_a_target_queue_set_by_agent_is_the_agents_queue_not_an_error() -> None:
    document = flow(
        act(
            "agent",
            "UpdateContactTargetQueue",
            {"AgentId": "$.Attributes.assignedAgent"},
            "transfer",
            errors=(("NoMatchingError", "failed"),),
        ),
        act(
            "transfer",
            "TransferContactToQueue",
            {},
            "",
            errors=(("QueueAtCapacity", "failed"), ("NoMatchingError", "failed")),
        ),
        say("failed", "error"),
        END,
    )
    caller = Caller(
        "+14155550101",
        attributes={"assignedAgent": "arn:aws:connect:us-east-1:1:instance/i/agent/a-42"},
    )
    result = Simulator(document, {}).run(caller)
    assert (result.outcome, result.queue, result.prompts()) == (Outcome.QUEUED, "agent a-42", [])


# -- store customer input: a timeout is a value, not an error ---------------------------------


def test_a_stored_input_timeout_goes_down_the_success_branch_holding_timeout() -> None:
    document = flow(
        act(
            "account",
            "GetParticipantInput",
            {
                "Text": "Enter your account number",
                "StoreInput": "True",
                "InputTimeLimitSeconds": "5",
                "InputValidation": {"CustomValidation": {"MaximumLength": "8"}},
            },
            "got",
            errors=(("NoMatchingError", "failed"),),
        ),
        say("got", "you entered $.StoredCustomerInput"),
        say("failed", "error"),
        END,
    )
    assert run(document, ("timeout",)).prompts() == [
        "Enter your account number",
        "you entered Timeout",
    ]


# -- a customer queue flow: interrupted prompts, until an agent answers --------------------


def interruptible_queue_flow() -> Flow:
    """Shaped like Connect's sample interruptible queue flow: loop the hold message, every 30 s
    check how many wait, tell the caller, loop again."""
    return flow(
        act(
            "loop",
            "MessageParticipantIteratively",
            {
                "Messages": [
                    {"Text": "All our agents are busy."},
                    {"PromptId": "arn:aws:connect:us-east-1:1:instance/i/prompt/music"},
                ],
                "InterruptFrequencySeconds": "30",
            },
            "",
            conditions=(("MessagesInterrupted", "metrics"),),
            errors=(("NoMatchingError", "end"),),
        ),
        act("metrics", "GetMetricData", {}, "position", errors=(("NoMatchingError", "loop"),)),
        say("position", "$.Metrics.Queue.Size callers are ahead of you", "loop"),
        END,
        flow_type="CUSTOMER_QUEUE",
    )


def test_interrupts_come_every_interval_until_an_agent_answers() -> None:
    result = Simulator(
        interruptible_queue_flow(),
        {},
        Scenario(
            agent_answers_after_seconds=95,
            queue="Sales",
            queue_metrics={"Sales": {"CONTACTS_IN_QUEUE": 4}},
        ),
    ).run(Caller("+14155550101"))
    # Interrupted at 30, 60 and 90 s; the agent answers at 95 s, during the fourth round.
    assert [e.text for e in result.events if e.kind == "wait"] == [
        "interrupted after 30 s",
        "interrupted after 60 s",
        "interrupted after 90 s",
    ]
    assert result.prompts().count("4 callers are ahead of you") == 3
    assert result.outcome is Outcome.ANSWERED


def test_queue_prompts_with_no_answer_time_or_no_queue_stop_the_run() -> None:
    with pytest.raises(UndecidedError, match="agent_answers_after_seconds"):
        run(interruptible_queue_flow(), queue="Sales", queue_metrics={"Sales": {}})
    with pytest.raises(UndecidedError, match=r"say it in the scenario as queue$"):
        run(interruptible_queue_flow(), agent_answers_after_seconds=95)


# -- marked: branches the scenario or a mock decided ----------------------------------------


def test_a_branch_the_scenario_decided_is_marked_in_the_result_and_in_simulate_json(
    tmp_path: Path,
) -> None:
    document = {
        "Version": "2019-10-30",
        "StartAction": "queue",
        "Metadata": {"name": "capacity"},
        "Actions": [
            act(
                "queue",
                "UpdateContactTargetQueue",
                {"QueueId": "{{queue:billing}}"},
                "transfer",
                errors=(("NoMatchingError", "end"),),
            ),
            act(
                "transfer",
                "TransferContactToQueue",
                {},
                "",
                errors=(("QueueAtCapacity", "full"), ("NoMatchingError", "end")),
            ),
            say("full", "we are very busy"),
            END,
        ],
    }
    result = Simulator(
        read_document(document).flow, {}, Scenario(queues_at_capacity=frozenset({"billing"}))
    ).run(Caller("+1"))
    assert [(e.action_id, e.text) for e in result.events if e.kind == "scenario"] == [
        ("transfer", "billing is at capacity")
    ]

    (tmp_path / "capacity.json").write_text(json.dumps(document))
    scenario = tmp_path / "busy.scenario.json"
    scenario.write_text(json.dumps({"queues": {"billing": {"at_capacity": True}}}))
    simulated = CliRunner().invoke(
        main,
        [
            "flows",
            "simulate",
            str(tmp_path / "capacity.json"),
            "--scenario",
            str(scenario),
            "--json",
        ],
    )
    assert simulated.exit_code == 0, simulated.output
    assert json.loads(simulated.stdout)["decided_by_scenario"] == [
        {"action": "transfer", "why": "billing is at capacity"}
    ]


# -- $.Queue.Name for a queue the project does not know -------------------------------------


def test_a_scenario_names_a_queue_the_flow_refers_to_by_arn(tmp_path: Path) -> None:
    document = flow(
        act(
            "queue",
            "UpdateContactTargetQueue",
            {"QueueId": "arn:aws:connect:us-east-1:1:instance/i/queue/7d2a"},
            "say",
            errors=(("NoMatchingError", "end"),),
        ),
        say("say", "you are waiting for $.Queue.Name"),
        END,
    )
    assert run(document).prompts() == ["you are waiting for 7d2a"]  # all it can know
    assert run(document, queue_ids={"Mortgages": "7d2a"}).prompts() == [
        "you are waiting for Mortgages"
    ]
