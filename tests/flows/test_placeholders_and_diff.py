"""Placeholders resolve per stage and come back on export; diffs name what changed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from devkit.cli import main
from flowlang.diff import diff_flows
from flowlang.loader import read_text
from flowlang.placeholders import Resources, placeholders_in, resolve, unresolve

ROOT = Path(__file__).resolve().parents[2]
INBOUND = ROOT / "flows" / "inbound-main.json"
STAGE = Resources(
    {
        "lambda": {"route_call": "arn:aws:lambda:r:1:function:switchboard-dev-route_call"},
        "queue": {"General": "arn:aws:connect:r:1:instance/i/queue/q1"},
    }
)


def test_resolve_replaces_known_names_case_insensitively_and_lists_the_rest() -> None:
    document = {
        "a": "{{lambda:route_call}}",
        "b": ["{{queue:general}}", "{{queue:nope}}"],
        "c": {"d": "say {{lambda:route_call}} twice {{lambda:route_call}}"},
    }
    resolved, missing = resolve(document, STAGE)
    assert resolved["a"].endswith("switchboard-dev-route_call")
    assert resolved["b"][0].endswith("/queue/q1")
    assert missing == ["{{queue:nope}}"]
    assert unresolve(resolved, STAGE) == {**document, "b": ["{{queue:General}}", "{{queue:nope}}"]}


def test_our_flow_names_its_resources_by_placeholder_only() -> None:
    found = placeholders_in(json.loads(INBOUND.read_text()))
    assert "{{queue:general}}" in found and "{{lambda:identify_caller}}" in found


def test_diff_names_added_removed_and_changed_actions(tmp_path) -> None:
    old = json.loads(INBOUND.read_text())
    new = json.loads(INBOUND.read_text())
    new["Actions"] = [a for a in new["Actions"] if a["Identifier"] != "goodbye"]
    for action in new["Actions"]:
        if action["Identifier"] == "after-balance":
            action["Transitions"]["Errors"] = [
                {"NextAction": "disconnect", "ErrorType": e}
                for e in ("InputTimeLimitExceeded", "NoMatchingCondition", "NoMatchingError")
            ]
        if action["Identifier"] == "menu-retry":
            action["Parameters"]["InputTimeLimitSeconds"] = "8"
    new["Actions"].append({"Identifier": "extra", "Type": "EndFlowExecution", "Transitions": {}})
    new["Metadata"]["ActionMetadata"]["greet"]["position"] = {"x": 0, "y": 0}  # layout: ignored
    changes = diff_flows(read_text(json.dumps(old)).flow, read_text(json.dumps(new)).flow)
    assert [(c.kind, c.action_id) for c in changes] == [
        ("added", "extra"),
        ("removed", "goodbye"),
        ("changed", "after-balance"),
        ("changed", "menu-retry"),
    ]
    assert 'Parameters.InputTimeLimitSeconds: "5" -> "8"' in str(changes[3])
    (tmp_path / "new.json").write_text(json.dumps(new))
    result = CliRunner().invoke(main, ["flows", "diff", str(INBOUND), str(tmp_path / "new.json")])
    assert result.exit_code == 0 and "- goodbye (MessageParticipant)" in result.output
    same = CliRunner().invoke(main, ["flows", "diff", str(INBOUND), str(INBOUND)])
    assert same.output.strip() == "no changes"


def test_one_definition_of_a_placeholder_for_every_reader() -> None:
    from flowlang.placeholders import first_placeholder_name, placeholder_name

    assert placeholder_name("{{lambda:identify_caller}}", "lambda") == "identify_caller"
    assert placeholder_name("{{queue:general}}", "lambda") is None  # another kind
    assert placeholder_name("x {{queue:general}}") is None  # not the whole value
    assert placeholder_name("{{queues:general}}") is None  # not a kind we resolve
    assert first_placeholder_name("see {{hours:main office}} and {{flow:x}}", "flow") == "x"
    assert first_placeholder_name("arn:aws:connect:...") is None
