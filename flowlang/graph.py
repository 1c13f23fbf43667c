"""Draw a flow: Mermaid (renders on GitHub and in the README) and Graphviz DOT.

Nodes show the action type and its prompt, comparison or target; edges are labelled with the
condition or error that takes them, error edges dashed. Pass a simulated call's path to
highlight it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from flowlang.model import Action, Flow, spoken

_LABEL_CHARS = 48
_PROMPT_KEYS = (
    "Text",
    "SSML",
    "ComparisonValue",
    "LambdaFunctionARN",
    "QueueId",
    "ContactFlowId",
    "FlowModuleId",
    "HoursOfOperationId",
    "QueuePriority",
)


def _summary(action: Action) -> str:
    for key in _PROMPT_KEYS:
        value = action.parameters.get(key)
        if value:
            text = spoken(str(value))
            return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"
    attributes = action.parameters.get("Attributes")
    if isinstance(attributes, dict):
        return ", ".join(sorted(attributes))[:_LABEL_CHARS]
    return ""


def _ids(flow: Flow) -> dict[str, str]:
    return {identifier: f"a{n}" for n, identifier in enumerate(flow.actions)}


def _path_edges(path: Sequence[str]) -> set[tuple[str, str]]:
    return set(pairwise(path))


def _mermaid_text(text: str) -> str:
    flat = " ".join(text.split())
    return flat.replace("#", "#35;").replace('"', "#quot;")


def to_mermaid(flow: Flow, path: Sequence[str] = ()) -> str:
    ids = _ids(flow)
    lines = ["flowchart TD", f'  start(("start")) --> {ids.get(flow.start_action, "missing")}']
    for identifier, action in flow.actions.items():
        label = f"{action.type}<br/>{identifier}"
        summary = _summary(action)
        if summary:
            label += f"<br/><i>{summary}</i>"
        lines.append(f'  {ids[identifier]}["{_mermaid_text(label)}"]')
    links: list[str] = []
    highlighted: list[int] = []
    walked = _path_edges(path)
    for identifier, action in flow.actions.items():
        for way in action.transitions:
            if way.target not in ids:
                continue
            arrow = "-.->" if way.kind == "error" else "-->"
            text = f"|{_mermaid_text(way.label)}|" if way.label else ""
            if (identifier, way.target) in walked:
                walked.discard((identifier, way.target))  # one edge per step, the first listed
                highlighted.append(len(links))
            links.append(f"  {ids[identifier]} {arrow}{text} {ids[way.target]}")
    lines += links
    for identifier in dict.fromkeys(path):
        if identifier in ids:
            lines.append(f"  style {ids[identifier]} fill:#ffe8a3,stroke:#c77700")
    if highlighted:
        lines.append(
            f"  linkStyle {','.join(map(str, highlighted))} stroke:#c77700,stroke-width:3px"
        )
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(flow: Flow, path: Sequence[str] = ()) -> str:
    ids = _ids(flow)
    on_path = set(path)
    walked = _path_edges(path)
    lines = [
        f'digraph "{_dot_text(flow.name or "flow")}" {{',
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f8", fontsize=10];',
        '  start [shape=circle, label="start"];',
        f"  start -> {ids.get(flow.start_action, 'missing')};",
    ]
    for identifier, action in flow.actions.items():
        label = f"{action.type}\\n{_dot_text(identifier)}"
        summary = _summary(action)
        if summary:
            label += f"\\n{_dot_text(summary)}"
        fill = ', fillcolor="#ffe8a3"' if identifier in on_path else ""
        lines.append(f'  {ids[identifier]} [label="{label}"{fill}];')
    for identifier, action in flow.actions.items():
        for way in action.transitions:
            if way.target not in ids:
                continue
            style = ["style=dashed", "color=gray40"] if way.kind == "error" else []
            if way.label:
                style.append(f'label="{_dot_text(way.label)}"')
            if (identifier, way.target) in walked:
                walked.discard((identifier, way.target))
                style += ["color=orange3", "penwidth=3"]
            attributes = f" [{', '.join(style)}]" if style else ""
            lines.append(f"  {ids[identifier]} -> {ids[way.target]}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"
