"""Read a flow file in any of the shapes real flows come in.

- a raw flow-language export (`Version` 2019-10-30, `StartAction`, `Actions`, `Metadata`);
- a `DescribeContactFlow`/`DescribeContactFlowModule` answer, or the same fields at the top
  level (`Name`, `Type`, `Content` holding the flow as a JSON *string*);
- flow modules (`Settings`, `EndFlowModuleExecution`);
- a legacy pre-2019 export (`modules`, `start`), recognised and refused with a clear message.

Templated values (`${Q:name:Q}`, `{{queue:general}}`) are kept as they are, and so is the
document itself, `Metadata` included, for a faithful round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowlang.model import Flow, FlowError, load_flow

# The console writes the flow type in Metadata in camelCase.
_METADATA_TYPES = {
    "contactFlow": "CONTACT_FLOW",
    "customerQueue": "CUSTOMER_QUEUE",
    "customerHold": "CUSTOMER_HOLD",
    "customerWhisper": "CUSTOMER_WHISPER",
    "agentHold": "AGENT_HOLD",
    "agentWhisper": "AGENT_WHISPER",
    "outboundWhisper": "OUTBOUND_WHISPER",
    "agentTransfer": "AGENT_TRANSFER",
    "queueTransfer": "QUEUE_TRANSFER",
    "contactFlowModule": "MODULE",
}


class LegacyFlowError(FlowError):
    """A pre-2019 console export: not flow language, cannot be read as one."""


@dataclass(frozen=True)
class FlowDocument:
    source: str
    shape: str  # "flow-language" or "describe-wrapper"
    flow: Flow
    content: Mapping[str, Any]  # the flow-language document, verbatim
    wrapper: Mapping[str, Any] = field(default_factory=dict)  # Name, Type, Tags... without Content

    @property
    def name(self) -> str:
        return self.flow.name

    @property
    def flow_type(self) -> str:
        return self.flow.flow_type

    def content_text(self) -> str:
        """The flow as Connect's `Content` string."""
        return json.dumps(self.content, separators=(",", ":"), ensure_ascii=False)


def _unwrap(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    for key, kind in (("ContactFlow", ""), ("ContactFlowModule", "MODULE")):
        if isinstance(raw.get(key), dict):
            return raw[key], kind
    return raw, ""


def _content(value: Any, source: str) -> Mapping[str, Any]:
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise FlowError(f"{source}: Content must be the flow as a JSON string")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise FlowError(f"{source}: Content is not valid JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise FlowError(f"{source}: Content must hold a JSON object")
    return parsed


def _flow_type(declared: str, content: Mapping[str, Any]) -> str:
    if declared:
        return declared.upper()
    if content.get("Settings"):
        return "MODULE"
    metadata = content.get("Metadata")
    metadata_type = metadata.get("type") if isinstance(metadata, dict) else None
    return _METADATA_TYPES.get(str(metadata_type), "")


def _metadata_name(content: Mapping[str, Any]) -> str:
    metadata = content.get("Metadata")
    return str(metadata.get("name") or "") if isinstance(metadata, dict) else ""


def _parts(
    raw: dict[str, Any], source: str, flow_type: str
) -> tuple[str, Mapping[str, Any], dict[str, Any], str, str]:
    """Shape, flow-language content, wrapper fields, declared type and name."""
    outer, implied_type = _unwrap(raw)
    if "Content" in outer:
        wrapper = {k: v for k, v in outer.items() if k != "Content"}
        declared = flow_type or str(outer.get("Type") or implied_type)
        name = str(outer.get("Name") or source)
        return "describe-wrapper", _content(outer["Content"], source), wrapper, declared, name
    if "Version" in outer or "Actions" in outer:
        return "flow-language", outer, {}, flow_type, _metadata_name(outer) or source
    raise FlowError(f"{source}: neither a flow-language document nor a Content wrapper")


def read_document(raw: Any, source: str = "<flow>", flow_type: str = "") -> FlowDocument:
    """Recognise the shape, unwrap it and load the flow."""
    if not isinstance(raw, dict):
        raise FlowError(f"{source}: a flow file must hold a JSON object")
    if "modules" in raw and "start" in raw:
        raise LegacyFlowError(
            f"{source}: a legacy (pre-2019) console export with 'modules' and 'start'; "
            "re-export it from Connect in flow-language form (DescribeContactFlow Content)"
        )
    shape, content, wrapper, declared, name = _parts(raw, source, flow_type)
    try:
        flow = load_flow(content, name, _flow_type(declared, content))
    except FlowError as error:
        raise FlowError(f"{source}: {error}") from error
    return FlowDocument(source, shape, flow, content, wrapper)


def read_text(text: str, source: str = "<flow>", flow_type: str = "") -> FlowDocument:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise FlowError(f"{source}: not valid JSON: {error}") from error
    return read_document(raw, source, flow_type)
