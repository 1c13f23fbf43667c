"""Shared platform pieces: settings, phone numbers, log redaction, the hook contract."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.platform.hooks import (
    MAX_VALUE_CHARS,
    MalformedEventError,
    connect_hook,
    parse_contact_event,
    render_response,
)
from chalicelib.platform.observability import _scrub
from chalicelib.platform.phone import (
    CallerKeyError,
    CallerKeys,
    NumberKind,
    mask,
    normalise,
    parse_caller_keys,
)
from chalicelib.platform.settings import SettingsError, load_settings, table_variable
from devkit.local_aws import stage_environment


def test_settings_load_from_the_dev_stage() -> None:
    config = load_settings(stage_environment("dev"))
    assert config.table("customers") == "switchboard-dev-customers"
    assert config.hook_budget_seconds == 2.5
    assert config.queue_ids["general"]
    assert config.flow_ids_parameter == "/switchboard/dev/flow-ids" and config.contact_limit is None
    assert (config.table("qa"), config.qa_events_queue) == (
        "switchboard-dev-qa",
        "switchboard-dev-qa-events",
    )
    assert config.contact_lens_bucket == "switchboard-dev-connect-instance"
    assert config.qa_sample_rate == 0.05 and config.qa_grace.total_seconds() == 600


@pytest.mark.parametrize("table", ["customers", "qa", "pin-guards"])
def test_a_table_the_stage_does_not_name_fails_naming_its_variable(table: str) -> None:
    config = load_settings({**stage_environment("dev"), table_variable(table): " "})
    with pytest.raises(SettingsError, match=table_variable(table)):
        config.table(table)
    with pytest.raises(SettingsError, match=table_variable(table)):
        config.require_tables(["callbacks", table])


def test_an_instance_contact_limit_is_calls_per_span() -> None:
    from datetime import timedelta

    for raw, limit in (("5/7d", (5, timedelta(days=7))), ("3/24h", (3, timedelta(hours=24)))):
        assert (
            load_settings({**stage_environment("dev"), "CONTACT_LIMIT": raw}).contact_limit == limit
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CONNECT_INSTANCE_ID": " "}, "CONNECT_INSTANCE_ID"),
        ({"HOOK_BUDGET_MS": "fast"}, "HOOK_BUDGET_MS"),
        ({"HOOK_BUDGET_MS": "9000"}, "between 100 and 7500"),
        ({"QUEUE_IDS": "{not json"}, "QUEUE_IDS"),
        ({"QUEUE_IDS": '{"general": 3}'}, "QUEUE_IDS"),
        ({"FLOW_IDS_PARAMETER": "flow-ids"}, "FLOW_IDS_PARAMETER"),
        ({"CONTACT_LIMIT": "5"}, "CONTACT_LIMIT"),
        ({"CONTACT_LIMIT": "0/7d"}, "CONTACT_LIMIT"),
        ({"CONTACT_LIMIT": "5/7w"}, "CONTACT_LIMIT"),
        ({"CONTACT_LIMIT": "5/31d"}, "at most 30 days"),
        ({"QA_SAMPLE_RATE": "often"}, "QA_SAMPLE_RATE"),
        ({"QA_SAMPLE_RATE": "1.5"}, "from 0 to 1"),
        ({"QA_GRACE_MINUTES": "0"}, "QA_GRACE_MINUTES"),
        ({"QA_GRACE_MINUTES": "ten"}, "QA_GRACE_MINUTES"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_variable(change, message) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({**stage_environment("dev"), **change})


@pytest.mark.parametrize(
    ("raw", "kind", "e164"),
    [
        ("+14155550101", NumberKind.VALID, "+14155550101"),
        ("(415) 555-0101", NumberKind.VALID, "+14155550101"),
        ("+44 20 7183 8750", NumberKind.VALID, "+442071838750"),
        (None, NumberKind.WITHHELD, ""),
        ("Anonymous", NumberKind.WITHHELD, ""),
        ("+1415", NumberKind.INVALID, ""),
        ("+" + "9" * 100, NumberKind.INVALID, ""),
        (14155550101, NumberKind.INVALID, ""),
    ],
)
def test_numbers_normalise_to_e164(raw, kind, e164) -> None:
    number = normalise(raw)
    assert (number.kind, number.e164) == (kind, e164)


def test_masked_numbers_keep_only_the_country_digit_and_last_two() -> None:
    assert mask("+14155550101") == "+1********01"
    assert "4155550" not in mask("+14155550101")


SECRET = b"a-test-secret-that-is-32-bytes!!"


def test_a_caller_key_is_an_hmac_only_the_secret_can_recompute() -> None:
    keys = CallerKeys((SECRET,))
    expected = hmac.new(SECRET, b"+14155550101", hashlib.sha256).hexdigest()[:32]
    assert keys.current("+14155550101") == expected
    assert keys.current("+14155550101") != keys.current("+14155550102")
    unsalted = hashlib.sha256(b"switchboard-caller:+14155550101").hexdigest()[:32]
    assert keys.current("+14155550101") != unsalted  # the old, reversible key
    assert CallerKeys((b"another-secret-of-32-bytes-long!",)).current("+14155550101") != expected
    rotated = CallerKeys((b"another-secret-of-32-bytes-long!", SECRET))
    assert rotated.every("+14155550101")[1] == expected


def test_caller_keys_never_show_or_echo_the_secret() -> None:
    encoded = base64.b64encode(SECRET).decode()
    keys = parse_caller_keys(json.dumps({"current": encoded, "previous": []}))
    assert keys.secrets == (SECRET,)
    assert encoded not in repr(keys) and str(SECRET) not in repr(keys)
    for bad in [encoded, json.dumps({"current": encoded + "!"}), json.dumps({"now": encoded})]:
        with pytest.raises(CallerKeyError) as caught:
            parse_caller_keys(bad)
        assert encoded not in str(caught.value) and caught.value.__cause__ is None
    with pytest.raises(CallerKeyError, match="at least 32 bytes"):
        CallerKeys((b"short",))
    with pytest.raises(CallerKeyError, match="no current key"):
        CallerKeys(())


def test_log_scrubber_masks_numbers_and_pins_but_keeps_contact_ids() -> None:
    contact_id = "a1b2c3d4-1234-5678-9012-123456789012"
    log = _scrub(
        {
            "message": "caller +14155550101 said 4155550101",
            "pin": "4321",
            "contact_id": contact_id,
            "nested": [{"ani": "+442071838750"}],
        }
    )
    text = json.dumps(log)
    assert "4155550101" not in text and "4321" not in text and "2071838750" not in text
    assert contact_id in text


@pytest.mark.parametrize(
    "written",
    [
        "212-555-0142",
        "(212) 555-0142",
        "+1-212-555-0142",
        "12125550142x",
        "+1 (212) 555 0142 ext. 5",
        "212.555.0142",
        "tel:+1-212-555-0142",
        "+44 20 7183 8750",
        "caller=2125550142;",
        "1 212 555 0142",
    ],
)
def test_log_scrubber_masks_a_number_however_it_is_written(written) -> None:
    text = json.dumps(_scrub({"message": f"dialling {written} now", "extra": [written]}))
    digits = "".join(ch for ch in written if ch.isdigit())
    assert digits[-7:-2] not in text, text
    assert "[number .." in text


# The zero of every script's decimal digits Python knows (Unicode category Nd), ASCII aside.
ZEROS = sorted({chr(c - int(chr(c))) for c in range(0x110000) if chr(c).isdecimal()} - {"0"})


@given(st.sampled_from(ZEROS), st.sampled_from(["{}", "+1 {}", "({}) 555-{}"]))
def test_a_number_in_any_scripts_digits_is_masked(zero, shape) -> None:
    """Full-width (０), Arabic-Indic (٠), Devanagari (०), ... digits passed through the mask."""
    digits = "2125550142"
    written = "".join(chr(ord(zero) + int(d)) for d in digits)
    if shape.count("{}") == 2:
        written = shape.format(written[:3], written[6:])
        digits = digits[:3] + digits[6:]
    else:
        written = shape.format(written)
    text = json.dumps(_scrub({"message": f"dialling {written} now"}), ensure_ascii=False)
    native = "".join(chr(ord(zero) + int(d)) for d in digits)
    assert native[-7:-2] not in text and digits[-7:-2] not in text, text
    assert "[number .." in text


@pytest.mark.parametrize(
    "kept",
    [
        "a1b2c3d4-1234-5678-9012-123456789012",
        "2026-11-24T15:00:00.000Z",
        "version 1.34.0",
        "attempt 3 of 3, 12 ms",
    ],
)
def test_log_scrubber_keeps_ids_times_and_small_numbers(kept) -> None:
    assert _scrub({"message": kept}) == {"message": kept}


@given(st.uuids())
def test_a_contact_id_reaches_the_log_whole_whatever_digits_it_holds(contact_id) -> None:
    """A random id may hold a run of digits (`...-1b40b9941078`); masked, it would be lost to
    the one query that follows a contact by its correlation id."""
    text = str(contact_id)
    assert _scrub({"correlation_id": text, "message": f"contact {text} ended"}) == {
        "correlation_id": text,
        "message": f"contact {text} ended",
    }


def test_a_number_beside_an_id_is_still_masked() -> None:
    scrubbed = _scrub({"message": "35d2b675-1283-43f3-9f22-1b40b9941078 rang 212-555-0142"})
    assert scrubbed == {"message": "35d2b675-1283-43f3-9f22-1b40b9941078 rang [number ..42]"}


def event(**contact_data) -> dict:
    data = {
        "ContactId": "c-1",
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "CustomerEndpoint": {"Address": "+14155550101", "Type": "TELEPHONE_NUMBER"},
        "Attributes": {},
        **contact_data,
    }
    return {"Name": "ContactFlowEvent", "Details": {"ContactData": data, "Parameters": {}}}


def test_newer_enum_values_are_read_raw_not_rejected() -> None:
    contact = parse_contact_event(
        event(
            Channel="EMAIL",
            InitiationMethod="QUEUE_TRANSFER",
            CustomerEndpoint={"Address": "x@y", "Type": "EMAIL_ADDRESS"},
        )
    )
    assert (contact.channel, contact.initiation_method) == ("EMAIL", "QUEUE_TRANSFER")


def test_oversize_values_are_truncated_and_reported() -> None:
    raw = event(Attributes={"note": "x" * 5000})
    contact = parse_contact_event(raw)
    assert len(contact.attributes["note"]) == MAX_VALUE_CHARS
    assert contact.truncated == ("Attributes.note",)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "text",
        {"Details": None},
        {"Details": {"ContactData": []}},
        event(ContactId=None),
        event(ContactId="has spaces and ; semicolons"),
        event(Attributes="not-a-map"),
    ],
)
def test_unusable_events_raise_a_clear_error(bad) -> None:
    with pytest.raises(MalformedEventError):
        parse_contact_event(bad)


@pytest.mark.parametrize(
    "bad", [{"nested": {"a": "b"}}, {"bad key": "v"}, {"k": None}, {"big": "x" * 40_000}]
)
def test_responses_that_connect_would_reject_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        render_response(bad)


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
        st.one_of(st.text(max_size=200), st.integers(), st.booleans()),
        max_size=50,
    )
)
def test_rendered_responses_are_flat_string_maps_under_32kb(values) -> None:
    response = render_response(values)
    assert all(isinstance(v, str) for v in response.values())
    assert len(json.dumps(response).encode()) < 32 * 1024


# -- the whole wrapper, on any input ----------------------------------------------------------

EVENTS = Path(__file__).resolve().parent.parent / "events"


def test_documented_event_with_newer_keys_parses() -> None:
    contact = parse_contact_event(
        json.loads((EVENTS / "connect-contact-flow-event.json").read_text())
    )
    assert contact.parameters == {"menu_choice": "1"}
    assert contact.attributes == {"tier": "vip"}
    assert contact.instance_arn.startswith("arn:aws:connect:")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
events = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "Details": st.fixed_dictionaries(
                {
                    "ContactData": st.dictionaries(
                        st.sampled_from(
                            [
                                "ContactId",
                                "InitialContactId",
                                "Channel",
                                "CustomerEndpoint",
                                "Attributes",
                                "InstanceARN",
                                "InitiationMethod",
                            ]
                        ),
                        json_values,
                    ),
                    "Parameters": json_values,
                }
            )
        }
    ),
)
echo_hook = connect_hook("echo", {"queue": "general"})(
    lambda contact, deadline: {"result": "ok", **contact.parameters}
)


@given(events)
def test_any_event_gets_a_flat_string_map_under_32kb(event) -> None:
    answer = echo_hook(event, None)
    assert answer["result"] in {"ok", "error"}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in answer.items())
    assert len(json.dumps(answer).encode()) < 32 * 1024


def _start_app(changes: dict[str, str | None], function: str = "") -> Any:
    """What Lambda does at init, in a fresh interpreter: `import app` with the dev stage's
    environment changed (None removes a variable), as `function` if named."""
    import os
    import subprocess
    import sys

    from devkit.local_aws import ROOT, stage_environment

    environment = {**os.environ, **stage_environment("dev")}
    for name, value in changes.items():
        environment.pop(name, None)
        if value is not None:
            environment[name] = value
    if function:
        environment["AWS_LAMBDA_FUNCTION_NAME"] = f"switchboard-dev-{function}"
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONNECT_INSTANCE_ID", None),
        ("CUSTOMERS_TABLE", ""),
        ("HOOK_BUDGET_MS", "fast"),
        ("QUEUE_IDS", "[1, 2]"),
        ("CALLER_KEY_PARAMETER", "caller-key"),
        # Every queue but "care": the routing rules send callers there.
        (
            "QUEUE_IDS",
            '{"general":"g","billing":"b","technical":"t","vip":"v","spanish":"s","night":"n"}',
        ),
    ],
)
def test_a_lambda_with_a_bad_setting_fails_to_start_naming_it(variable, value) -> None:
    """What Lambda does at init: import app. It must fail there, not answer callers."""
    started = _start_app({variable: value})
    assert started.returncode != 0
    assert "SettingsError" in started.stderr and variable in started.stderr.splitlines()[-1]
    if variable == "QUEUE_IDS" and value and value.startswith("{"):
        assert "care" in started.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("function", "starts"), [("identify_caller", True), ("dial_campaigns", False)]
)
def test_a_lambda_checks_at_start_the_tables_of_what_it_runs(function: str, starts: bool) -> None:
    """The stage names no dialer table: the IVR's hook (whose capability declares none of
    it) starts, the dialer's Lambda fails at init naming the variable."""
    started = _start_app({table_variable("dialer"): None}, function)
    assert (started.returncode == 0) is starts, started.stderr
    if not starts:
        assert "DIALER_TABLE" in started.stderr.splitlines()[-1]


def test_offline_metrics_are_not_recorded_so_nothing_leaks_onto_stdout(capsys) -> None:
    from chalicelib.platform.observability import count, metrics

    metrics.clear_metrics()
    for _ in range(150):  # Powertools prints a metric at its 100th value, even when disabled
        count("HookAnswered")
    assert capsys.readouterr().out == ""
    assert not metrics.metric_set


def test_metrics_are_recorded_when_enabled(monkeypatch) -> None:
    from chalicelib.platform.observability import count, metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    try:
        count("CallbacksDialled", 3)
        assert metrics.metric_set["CallbacksDialled"]["Value"] == [3.0]
    finally:
        metrics.clear_metrics()


@pytest.mark.parametrize(
    ("arn", "who"),
    [
        ("arn:aws:iam::111122223333:user/rita", "rita"),
        ("arn:aws:iam::111122223333:user/qa/rita", "qa/rita"),
        ("arn:aws:sts::111122223333:assumed-role/qa-reviewer/rita", "qa-reviewer/rita"),
    ],
)
def test_the_caller_is_the_iam_principal_api_gateway_verified(arn: str, who: str) -> None:
    from chalicelib.platform.http import caller

    assert caller({"identity": {"userArn": arn}}) == who


@pytest.mark.parametrize(
    "context",
    [None, {}, {"identity": {"sourceIp": "127.0.0.1"}}, {"identity": {"userArn": "rita"}},
     {"identity": {"userArn": "arn:aws:iam::111122223333:root"}}, {"identity": "rita"}],
)  # fmt: skip
def test_a_request_without_a_verified_caller_names_nobody(context) -> None:
    from chalicelib.platform.http import NoCallerError, caller

    with pytest.raises(NoCallerError):
        caller(context)
