"""Drawing flows: every action and transition, labels, error edges, a highlighted path."""

from __future__ import annotations

import re
from pathlib import Path

from flowlang.graph import to_dot, to_mermaid
from flowlang.loader import read_text

ROOT = Path(__file__).resolve().parents[2]
INBOUND = read_text((ROOT / "flows" / "inbound-main.json").read_text()).flow


def edge_count(flow) -> int:
    return sum(
        len([t for t in a.transitions if t.target in flow.actions]) for a in flow.actions.values()
    )


def test_mermaid_has_every_action_and_edge_with_labels() -> None:
    text = to_mermaid(INBOUND)
    assert text.startswith("flowchart TD")
    nodes = re.findall(r'^  (a\d+)\["', text, re.M)
    assert len(nodes) == len(INBOUND.actions)
    edges = re.findall(r"^  a\d+ (?:-->|-\.->)", text, re.M)
    assert len(edges) == edge_count(INBOUND)
    assert "-.->|InputTimeLimitExceeded|" in text  # error edges dashed and named
    assert "-->|= 1|" in text  # conditions labelled
    assert "Thank you for calling Switchboard Bank." in text  # prompts shown


def test_mermaid_escapes_quotes_and_hashes() -> None:
    text = to_mermaid(INBOUND)
    for line in re.findall(r'\["(.*)"\]', text):
        assert '"' not in line


def test_highlighted_path_is_styled() -> None:
    path = ["logging", "greet", "identify"]
    text = to_mermaid(INBOUND, path)
    assert text.count("fill:#ffe8a3") == 3
    assert re.search(r"linkStyle \d+,\d+ stroke", text)


def test_dot_is_balanced_and_complete() -> None:
    text = to_dot(INBOUND, ["logging", "greet"])
    assert text.startswith('digraph "inbound-main" {') and text.rstrip().endswith("}")
    assert len(re.findall(r"^  a\d+ \[label=", text, re.M)) == len(INBOUND.actions)
    assert len(re.findall(r"^  a\d+ -> a\d+", text, re.M)) == edge_count(INBOUND)
    assert "style=dashed" in text and "penwidth=3" in text


def test_the_drawing_in_the_docs_is_current() -> None:
    doc = (ROOT / "docs" / "flows" / "inbound-main.md").read_text()
    assert to_mermaid(INBOUND) in doc, "run: switchboard flows graph flows/inbound-main.json"


def test_every_shipped_flow_is_drawn_in_the_docs() -> None:
    for path in sorted((ROOT / "flows").glob("*.json")):
        flow = read_text(path.read_text()).flow
        doc = (ROOT / "docs" / "flows" / f"{path.stem}.md").read_text()
        assert to_mermaid(flow) in doc, f"run: switchboard flows graph {path}"
