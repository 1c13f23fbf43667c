"""Every shape real flows come in: raw exports, DescribeContactFlow wrappers, modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowlang.loader import LegacyFlowError, read_document, read_text
from flowlang.model import FlowError
from tests.flowparts import SAMPLE_FLOWS

ROOT = Path(__file__).resolve().parents[2]
REAL_FLOWS = SAMPLE_FLOWS
OUR_FLOWS = sorted((ROOT / "flows").glob("*.json"))
EXPECTED_TYPES = {
    "acme_agent_whisper_AUTO.json": "AGENT_WHISPER",
    "acme_contact_flow_module_AUTO.json": "MODULE",
    "acme_customer_queue_AUTO.json": "CUSTOMER_QUEUE",
    "acme_hold_AUTO.json": "AGENT_HOLD",
    "acme_main_AUTO.json": "CONTACT_FLOW",
    "acme_queue_transfer_AUTO.json": "QUEUE_TRANSFER",
    "ErrorModule.json": "MODULE",
    "OutboundCallFlow.json": "CONTACT_FLOW",
    "OutboundCallWhisperer.json": "OUTBOUND_WHISPER",
}


def test_the_real_flows_are_there() -> None:
    assert len(REAL_FLOWS) >= 15, "tests/fixtures/real-flows/ is missing"


@pytest.mark.parametrize("path", REAL_FLOWS + OUR_FLOWS, ids=lambda p: p.name)
def test_every_real_and_shipped_flow_loads(path: Path) -> None:
    document = read_text(path.read_text(), str(path))
    assert document.flow.start_action in document.flow.actions
    assert document.flow.actions
    if path.name in EXPECTED_TYPES:
        assert document.flow_type == EXPECTED_TYPES[path.name]


@pytest.mark.parametrize("path", REAL_FLOWS, ids=lambda p: p.name)
def test_content_round_trips_verbatim_metadata_included(path: Path) -> None:
    raw = json.loads(path.read_text())
    document = read_document(raw, path.name)
    original = json.loads(raw["Content"]) if "Content" in raw else raw
    assert json.loads(document.content_text()) == original
    assert document.content["Metadata"] == original["Metadata"]


def test_wrapper_keeps_its_name_type_and_tags_and_templated_values() -> None:
    path = next(p for p in REAL_FLOWS if p.name == "acme_main_AUTO.json")
    document = read_text(path.read_text(), path.name)
    assert document.shape == "describe-wrapper"
    assert (document.name, document.wrapper["Type"]) == ("acme_main_AUTO", "CONTACT_FLOW")
    assert "Tags" in document.wrapper
    assert "${ACCT_ID}" in document.content_text()


def test_describe_contact_flow_answer_is_unwrapped() -> None:
    inner = {
        "Version": "2019-10-30",
        "StartAction": "end",
        "Actions": [{"Identifier": "end", "Type": "DisconnectParticipant", "Transitions": {}}],
    }
    answer = {"ContactFlow": {"Name": "x", "Type": "CUSTOMER_QUEUE", "Content": json.dumps(inner)}}
    document = read_document(answer)
    assert (document.name, document.flow_type) == ("x", "CUSTOMER_QUEUE")
    module = read_document({"ContactFlowModule": {"Name": "m", "Content": json.dumps(inner)}})
    assert module.flow_type == "MODULE"


def test_modules_are_recognised_by_their_settings() -> None:
    path = next(p for p in REAL_FLOWS if p.name == "GetCustomerResponseModule.json")
    document = read_text(path.read_text(), path.name)
    assert document.flow_type == "MODULE"
    assert document.flow.settings["Transitions"][0]["DisplayName"] == "Success"


def test_friendly_identifiers_are_kept() -> None:
    path = next(p for p in REAL_FLOWS if p.name == "OutboundCallFlow.json")
    assert "Initialize Call" in read_text(path.read_text()).flow.actions


def test_legacy_export_is_recognised_and_refused_clearly() -> None:
    legacy = {"modules": [{"id": "1", "type": "PlayPrompt"}], "start": "1", "version": "1"}
    with pytest.raises(LegacyFlowError, match="legacy"):
        read_document(legacy, "old.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"Name": "x", "Content": 5}', "JSON string"),
        ('{"Name": "x", "Content": "{oops"}', "Content is not valid JSON"),
        ('{"hello": "world"}', "neither"),
    ],
)
def test_unreadable_files_say_why(text: str, message: str) -> None:
    with pytest.raises(FlowError, match=message):
        read_text(text, "bad.json")
