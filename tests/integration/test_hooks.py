"""Each hook through `chalice.test.Client`, on moto tables created from infra/template.yaml,
with Connect's metrics API behind a botocore Stubber (which validates every request)."""

from __future__ import annotations

import base64
import io
import json
import threading
from dataclasses import replace
from typing import Any

import pytest
from botocore.stub import ANY

from chalicelib.ivr import handlers as ivr_handlers
from chalicelib.ivr.capability import build_service as build_ivr_service
from chalicelib.platform import hooks as hook_module
from chalicelib.platform.observability import logger
from devkit.events import contact_event
from tests.integration.conftest import metrics_response

IDS = {
    "billing": "dev-billing-queue-id",
    "general": "dev-general-queue-id",
    "vip": "dev-vip-queue-id",
    "technical": "dev-technical-queue-id",
}
SAFE_DEFAULT_KEYS = {"result", "reason", "hook", "queue", "decision"}


def invoke(client: Any, hook: str, event: Any) -> dict[str, str]:
    return client.lambda_.invoke(hook, event).payload


def expect_metrics(stubber, *queues: str, response=None) -> None:
    expected = {
        "InstanceId": "00000000-0000-4000-8000-00000000dev0",
        "Filters": {"Queues": [IDS[q] for q in queues], "Channels": ["VOICE"]},
        "Groupings": ["QUEUE"],
        "CurrentMetrics": ANY,
    }
    stubber.add_response("get_current_metric_data", response or metrics_response(), expected)


# -- identify_caller --------------------------------------------------------------------------


def test_identify_known_vip_caller(client) -> None:
    answer = invoke(client, "identify_caller", contact_event("+14155550101"))
    assert answer["customer_id"] == "C-1001"
    assert answer["tier"] == "vip"
    assert answer["assigned_agent"] == "agent-maria"


def test_identify_elderly_caller_with_predicted_reason(client) -> None:
    answer = invoke(client, "identify_caller", contact_event("+14155550103"))
    assert answer["predicted_reason"] == "payment"
    assert answer["last_agent"] == "agent-lee"
    assert invoke(client, "identify_caller", contact_event("+14155550102"))["elderly"] == "true"


def test_identify_unknown_and_withheld_numbers(client) -> None:
    assert (
        invoke(client, "identify_caller", contact_event("+12125550199"))["caller_type"] == "unknown"
    )
    assert invoke(client, "identify_caller", contact_event(None))["caller_type"] == "withheld"


def test_repeat_caller_is_found_through_the_journey_index(client, clock) -> None:
    from datetime import timedelta

    first = contact_event(
        "+14155550103",
        contact_id="aaaa0000-0000-4000-8000-000000000001",
        step="intent",
        value="payment",
    )
    invoke(client, "record_journey", first)
    clock.set(clock.now() + timedelta(hours=2))
    second = contact_event("+14155550103", contact_id="bbbb0000-0000-4000-8000-000000000002")
    answer = invoke(client, "identify_caller", second)
    assert (answer["repeat_caller"], answer["last_intent"]) == ("true", "payment")


# -- route_call with Connect metrics ----------------------------------------------------------


def test_route_uses_live_load_and_overflows_a_saturated_queue(client, connect) -> None:
    _, stubber = connect
    expect_metrics(
        stubber,
        "billing",
        "general",
        response=metrics_response(**{IDS["billing"]: (10, 0, 3), IDS["general"]: (1, 2, 6)}),
    )
    answer = invoke(client, "route_call", contact_event(menu_choice="1"))
    stubber.assert_no_pending_responses()
    assert (answer["queue"], answer["overflow_from"], answer["load_status"]) == (
        "general",
        "billing",
        "live",
    )
    assert answer["queue_arn"].endswith("/queue/dev-general-queue-id")


def test_route_offers_a_callback_when_the_wait_is_long(client, connect) -> None:
    _, stubber = connect
    expect_metrics(
        stubber,
        "technical",
        "general",
        response=metrics_response(**{IDS["technical"]: (9, 0, 2), IDS["general"]: (40, 0, 2)}),
    )
    answer = invoke(client, "route_call", contact_event(menu_choice="2"))
    assert (answer["queue"], answer["offer_callback"]) == ("technical", "true")
    assert int(answer["estimated_wait_seconds"]) > 300


@pytest.mark.parametrize(
    ("code", "status", "load_status"),
    [
        ("ThrottlingException", 429, "unavailable:throttled"),
        ("TooManyRequestsException", 429, "unavailable:throttled"),
        ("InternalServiceException", 500, "unavailable:error"),
        ("AccessDeniedException", 403, "unavailable:error"),
    ],
)
def test_route_without_metrics_when_connect_fails(
    client, connect, code, status, load_status
) -> None:
    _, stubber = connect
    stubber.add_client_error("get_current_metric_data", code, http_status_code=status)
    answer = invoke(client, "route_call", contact_event(menu_choice="1"))
    assert (answer["result"], answer["queue"], answer["load_status"]) == (
        "ok",
        "billing",
        load_status,
    )
    assert answer["offer_callback"] == "false"


@pytest.fixture
def short_budget(monkeypatch):
    config = replace(hook_module.settings(), hook_budget_seconds=0.6)
    monkeypatch.setattr(hook_module, "settings", lambda: config)


def test_route_decides_without_a_slow_connect_inside_the_budget(
    client, connect, short_budget
) -> None:
    connect_client, stubber = connect
    release = threading.Event()
    # A stall before the stubbed answer, as a slow network would be (returns None: no response).
    connect_client.meta.events.register_first(
        "before-parameter-build.connect.GetCurrentMetricData", lambda **_: release.wait(5) and None
    )
    expect_metrics(stubber, "billing", "general")
    try:
        answer = invoke(client, "route_call", contact_event(menu_choice="1"))
    finally:
        release.set()
    assert (answer["result"], answer["queue"], answer["load_status"]) == (
        "ok",
        "billing",
        "unavailable:timeout",
    )


def test_route_after_hours_needs_no_metrics(client, connect, clock) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 29, 17, 0, tzinfo=UTC))  # Sunday noon in New York
    answer = invoke(client, "route_call", contact_event(menu_choice="1"))
    assert (answer["decision"], answer["after_hours"]) == ("closed", "true")
    assert "Saturdays" in answer["closed_message"]


# -- verify_pin and account_lookup ------------------------------------------------------------


def pin_event(pin: str, attempt: str, contact_id: str = "c0de0000-0000-4000-8000-000000000001"):
    return contact_event(
        "+14155550104", contact_id=contact_id, customer_id="C-1004", pin=pin, attempt=attempt
    )


@pytest.mark.parametrize("attempt", ["²", "٣", "1²", "", "x"])
def test_the_correct_pin_is_accepted_whatever_the_flow_sends_as_attempt(client, attempt) -> None:
    answer = invoke(client, "verify_pin", pin_event("2468", attempt))
    assert (answer["result"], answer["pin_result"], answer["next_attempt"]) == ("ok", "ok", "")


@pytest.mark.parametrize(
    "where", ["attempt", "parameter", "attribute", "key"], ids=lambda where: where
)
def test_a_lone_surrogate_anywhere_in_the_event_still_takes_the_correct_pin(client, where) -> None:
    """JSON may escape half a surrogate pair ("\\ud800") alone; no UTF-8 writer takes it, so it
    is read as U+FFFD rather than failing the write that records the attempt."""
    event = pin_event("2468", "1\ud800" if where == "attempt" else "1")
    data = event["Details"]["ContactData"]
    if where == "parameter":
        event["Details"]["Parameters"]["note"] = "\udc80 pressed"
    elif where == "attribute":
        data["Attributes"] = {"journey": "menu=3\ud83d"}
    elif where == "key":
        event["Details"]["Parameters"]["\udfff"] = "x"
    answer = invoke(client, "verify_pin", event)
    assert (answer["result"], answer["pin_result"]) == ("ok", "ok"), answer


@pytest.mark.parametrize(("pin", "result"), [("²⁴⁶⁸", "wrong"), ("٢٤٦٨", "wrong"), ("2468", "ok")])
def test_only_ascii_keypad_digits_make_a_pin(client, pin, result) -> None:
    assert invoke(client, "verify_pin", pin_event(pin, "1"))["pin_result"] == result


def test_pin_lockout_is_stored_and_survives_new_contacts(client) -> None:
    results = [
        invoke(client, "verify_pin", pin_event(p, str(n)))["pin_result"]
        for n, p in enumerate(["1111", "2222", "3333"], start=1)
    ]
    assert results == ["wrong", "wrong", "locked"]
    next_call = pin_event("2468", "1", contact_id="c0de0000-0000-4000-8000-000000000002")
    assert invoke(client, "verify_pin", next_call)["pin_result"] == "locked"


def test_retried_pin_attempt_counts_once_in_the_table(client) -> None:
    from chalicelib.ivr.store import DynamoPinGuards

    for _ in range(4):
        assert invoke(client, "verify_pin", pin_event("1111", "1"))["attempts_left"] == "2"
    assert len(DynamoPinGuards().load("C-1004").failures) == 1


def test_verified_caller_hears_their_balance_and_others_do_not(client) -> None:
    lookup = contact_event(
        "+14155550104", contact_id="c0de0000-0000-4000-8000-000000000001", customer_id="C-1004"
    )
    assert invoke(client, "account_lookup", lookup)["result"] == "not_verified"
    assert invoke(client, "verify_pin", pin_event("2468", "1"))["pin_result"] == "ok"
    answer = invoke(client, "account_lookup", lookup)
    assert (answer["result"], answer["balance"]) == ("ok", "888.00")


def test_no_pin_in_any_response(client) -> None:
    answers = [invoke(client, "verify_pin", pin_event(p, "1")) for p in ("2468", "9753")]
    assert "2468" not in json.dumps(answers) and "9753" not in json.dumps(answers)


# -- record_journey ---------------------------------------------------------------------------


def test_journey_retried_by_connect_is_stored_once(client) -> None:
    from chalicelib.ivr.store import JourneyRecord

    event = contact_event(step="menu", value="1")
    answers = [invoke(client, "record_journey", event) for _ in range(4)]
    assert {a["journey_steps"] for a in answers} == {"1"}
    record = JourneyRecord.get("5f3c1a2e-0000-4000-8000-000000000001")
    assert len(record.steps) == 1
    assert "4155550101" not in json.dumps(record.attribute_values, default=str)


# -- failures answer the safe default ---------------------------------------------------------


class _Broken:
    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("table unavailable for +14155550101")

        return fail


class _Slow:
    def __getattr__(self, name: str) -> Any:
        def wait(*args: Any, **kwargs: Any) -> Any:
            threading.Event().wait(2)
            raise RuntimeError("too late")

        return wait


@pytest.mark.parametrize(
    "hook", ["identify_caller", "verify_pin", "account_lookup", "record_journey"]
)
def test_internal_failure_answers_the_safe_default(client, clock, hook) -> None:
    service = replace(
        build_ivr_service(clock=clock),
        customers=_Broken(),
        journeys=_Broken(),
        pins=_Broken(),
    )
    ivr_handlers.served.override(service)
    answer = invoke(client, hook, contact_event(customer_id="C-1001", pin="4321", step="menu"))
    assert answer["result"] == "error"
    assert answer["reason"] == "internal_error"
    assert answer["hook"] == hook


def test_a_hook_that_runs_out_of_budget_answers_in_time(client, clock, short_budget) -> None:
    ivr_handlers.served.override(
        replace(build_ivr_service(clock=clock), customers=_Slow(), journeys=_Slow()),
    )
    answer = invoke(client, "identify_caller", contact_event())
    assert (answer["result"], answer["reason"], answer["queue"]) == ("error", "timeout", "general")


# -- bad input of every kind ------------------------------------------------------------------


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    event = contact_event()
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


def _with(path: tuple[str, ...], value: Any, **params: Any) -> dict[str, Any]:
    event = contact_event(**params)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


DATA = ("Details", "ContactData")
MALFORMED: list[tuple[str, Any]] = [
    ("empty object", {}),
    ("null event", None),
    ("list event", [1, 2]),
    ("string event", "ContactFlowEvent"),
    ("missing Details", _without(("Details",))),
    ("null Details", _with(("Details",), None)),
    ("missing ContactData", _without(("Details", "ContactData"))),
    ("missing ContactId", _without((*DATA, "ContactId"))),
    ("null ContactId", _with((*DATA, "ContactId"), None)),
    ("numeric ContactId", _with((*DATA, "ContactId"), 12345)),
    ("oversize ContactId", _with((*DATA, "ContactId"), "c" * 5000)),
    ("null CustomerEndpoint", _with((*DATA, "CustomerEndpoint"), None)),
    ("CustomerEndpoint not an object", _with((*DATA, "CustomerEndpoint"), "+14155550101")),
    ("null Address", _with((*DATA, "CustomerEndpoint"), {"Address": None})),
    ("non-E.164 number", _with((*DATA, "CustomerEndpoint"), {"Address": "0800 FLOWERS"})),
    ("national number", _with((*DATA, "CustomerEndpoint"), {"Address": "4155550101"})),
    ("unicode number", _with((*DATA, "CustomerEndpoint"), {"Address": "+١٤١٥٥٥٥٠١٠١"})),
    (
        "email endpoint",
        _with(
            (*DATA, "CustomerEndpoint"), {"Address": "caller@example.com", "Type": "EMAIL_ADDRESS"}
        ),
    ),
    ("unknown channel", _with((*DATA, "Channel"), "HOLOGRAM")),
    ("task channel", _with((*DATA, "Channel"), "TASK")),
    ("queue transfer", _with((*DATA, "InitiationMethod"), "QUEUE_TRANSFER")),
    ("null Attributes", _with((*DATA, "Attributes"), None)),
    ("Attributes as a list", _with((*DATA, "Attributes"), ["a"])),
    ("oversize attribute", _with((*DATA, "Attributes"), {"notes": "x" * 40_000})),
    ("nested attribute", _with((*DATA, "Attributes"), {"deep": {"er": "value"}})),
    ("null Parameters", _with(("Details", "Parameters"), None)),
    ("Parameters as a string", _with(("Details", "Parameters"), "menu_choice=1")),
    ("timeout as DTMF", contact_event(menu_choice="Timeout", pin="Timeout", step="menu")),
    ("junk DTMF", contact_event(menu_choice="#*9#", pin="*#", step="menu", value="##")),
    (
        "unicode parameters",
        contact_event(intent="pagó 💳", value="¿dónde está mi pago?", step="said", pin="४३२१"),
    ),
    ("oversize parameter", contact_event(intent="x" * 100_000, value="y" * 100_000, step="said")),
    ("numeric parameters", contact_event(menu_choice=1, pin=4321, step="menu")),
    (
        "unicode digits",
        contact_event(
            pin="²²²²", attempt="²", priority="²", choice="²", queue="billing", number="+1²¹²"
        ),
    ),
    (
        "callback junk",
        contact_event(
            queue="nowhere", callback_id="../../etc", slot="yesterday", journey="x" * 5000
        ),
    ),
    (
        "callback attributes junk",
        _with(
            (*DATA, "Attributes"), {"callback_id": "cb\n1", "callback_attempt": "-1"}, choice="1"
        ),
    ),
    (
        "wrong Name and lowercase channel",
        {**_with((*DATA, "Channel"), "Voice"), "Name": "ContactFlowExecution"},
    ),
]
IVR_HOOKS = ["identify_caller", "route_call", "verify_pin", "account_lookup", "record_journey"]
CALLBACK_HOOKS = ["request_callback", "callback_status", "cancel_callback", "callback_answered"]


@pytest.mark.parametrize("hook", IVR_HOOKS + CALLBACK_HOOKS)
def test_malformed_events_get_an_answer_never_an_exception(callbacks, connect, hook) -> None:
    """Every malformed event in MALFORMED, one after another through the same hook (one
    app per hook: the events are independent, and building the app per event was a third of
    the suite's time). Connect's metrics API throttles throughout."""
    _, stubber = connect
    for label, event in MALFORMED:
        for _ in range(2):
            stubber.add_client_error(
                "get_current_metric_data", "ThrottlingException", http_status_code=429
            )
        answer = invoke(callbacks, hook, event)
        assert isinstance(answer, dict) and answer, label
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in answer.items()), label
        assert answer["result"] in {"ok", "error", "not_verified", "not_found", "invalid"}, label
        if answer["result"] in {"error", "invalid"}:
            assert answer["reason"], label
        if answer["result"] == "error" and hook in IVR_HOOKS:
            assert answer["queue"] == "general", label  # the safe default routes to a human
        assert len(json.dumps(answer).encode()) < 32 * 1024, label


# -- logs never hold a raw number or PIN ------------------------------------------------------


def test_logs_hold_no_raw_phone_number_or_pin(client, clock) -> None:
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)
    try:
        invoke(client, "identify_caller", contact_event("+14155550104"))
        invoke(client, "verify_pin", pin_event("2468", "1"))
        invoke(client, "verify_pin", pin_event("1357", "2"))
        invoke(client, "record_journey", contact_event("+14155550104", step="x" * 99))
        invoke(client, "identify_caller", _with((*DATA, "Attributes"), {"n": "z" * 5000}))
        ivr_handlers.served.override(
            replace(build_ivr_service(clock=clock), customers=_Broken(), pins=_Broken()),
        )
        invoke(client, "identify_caller", contact_event("+14155550104"))
        invoke(client, "verify_pin", pin_event("2468", "3"))
    finally:
        handler.setStream(previous)
    logs = stream.getvalue()
    assert "hook failed" in logs and "5f3c1a2e" in logs  # the failure is logged, with its contact
    for secret in ("4155550104", "14155550104", "4155550101", "2468", "1357"):
        assert secret not in logs


def test_the_caller_key_secret_is_never_logged(client, clock) -> None:
    """Through every path that touches it: lookups, writes, a rotation, an unreadable and a
    malformed parameter, at DEBUG."""
    import boto3

    from chalicelib.platform.settings import settings
    from devkit.caller_key import rotate

    ssm = boto3.client("ssm", region_name="us-east-1")
    name = settings().caller_key_parameter
    rotate(ssm, name)
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    secrets = [*json.loads(value)["previous"], json.loads(value)["current"]]
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)
    try:
        ivr_handlers.served.override(build_ivr_service(clock=clock))
        invoke(client, "record_journey", contact_event("+14155550104", step="menu", value="1"))
        answer = invoke(client, "identify_caller", contact_event("+14155550104", contact_id="c-2"))
        assert (answer["history_status"], answer["repeat_caller"]) == ("checked", "true")
        ssm.put_parameter(
            Name=name, Value="not json " + secrets[0], Type="SecureString", Overwrite=True
        )
        ivr_handlers.served.override(build_ivr_service(clock=clock))
        answer = invoke(client, "identify_caller", contact_event("+14155550104", contact_id="c-3"))
        assert answer["history_status"] == "unavailable" and answer["customer_found"] == "true"
        ssm.delete_parameter(Name=name)
        ivr_handlers.served.override(build_ivr_service(clock=clock))
        answer = invoke(client, "identify_caller", contact_event("+14155550104", contact_id="c-4"))
        assert answer["history_status"] == "unavailable"
    finally:
        handler.setStream(previous)
        rotate(ssm, name)
    logs = stream.getvalue()
    assert logs.count("caller key unavailable") == 2 and "ParameterNotFound" in logs
    for secret in secrets:
        assert secret not in logs
        assert base64.b64decode(secret).hex() not in logs


def test_the_app_leaves_our_logger_to_powertools() -> None:
    """Chalice configures the logger named after the app, which is ours: an unredacted
    handler and level ERROR, whenever stdout is not the stream Powertools saw (tests, the
    demo). The app must leave logging to Powertools."""
    import os
    import subprocess
    import sys

    from devkit.local_aws import ROOT

    probe = (
        "import io, sys, logging\n"
        "import chalicelib.platform.observability\n"
        "sys.stdout = io.StringIO()\n"
        "import app\n"
        "ours = logging.getLogger('switchboard')\n"
        "sys.__stdout__.write(f'{ours.getEffectiveLevel()} {len(ours.handlers)}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    level, handlers = map(int, done.stdout.split())
    assert level <= 30 and handlers == 1, done.stdout
