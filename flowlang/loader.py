"""Read a flow file in any of the shapes real flows come in.

- a raw flow-language export (`Version` 2019-10-30, `StartAction`, `Actions`, `Metadata`);
- a `DescribeContactFlow`/`DescribeContactFlowModule` answer, or the same fields at the top
  level (`Name`, `Type`, `Content` holding the flow as a JSON *string*);
- flow modules (`Settings`, `EndFlowModuleExecution`);
- a legacy pre-2019 export (`modules`, `start`), recognised and refused with a clear message.

Every command reads flows through `read_file` (one file) and `flow_files` (files and
folders), so a file is accepted, or refused in the same words, whichever command reads it.

Templated values (`${Q:name:Q}`, `{{queue:general}}`) are kept as they are, and so is the
document itself, `Metadata` included, for a faithful round trip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
    raw: dict[str, Any], source: str, flow_type: str, name: str
) -> tuple[str, Mapping[str, Any], dict[str, Any], str, str]:
    """Shape, flow-language content, wrapper fields, declared type and name."""
    outer, implied_type = _unwrap(raw)
    if "Content" in outer:
        wrapper = {k: v for k, v in outer.items() if k != "Content"}
        declared = flow_type or str(outer.get("Type") or implied_type)
        name = str(outer.get("Name") or name)
        return "describe-wrapper", _content(outer["Content"], source), wrapper, declared, name
    if "Version" in outer or "Actions" in outer:
        return "flow-language", outer, {}, flow_type, _metadata_name(outer) or name
    raise FlowError(f"{source}: neither a flow-language document nor a Content wrapper")


def _refuse_legacy(raw: Mapping[str, Any], source: str) -> None:
    if "modules" in raw and "start" in raw:
        raise LegacyFlowError(
            f"{source}: a legacy (pre-2019) console export with 'modules' and 'start'; "
            "re-export it from Connect in flow-language form (DescribeContactFlow Content)"
        )


def read_document(
    raw: Any, source: str = "<flow>", flow_type: str = "", name: str = ""
) -> FlowDocument:
    """Recognise the shape, unwrap it and load the flow, named by the document if it says,
    else `name`, else `source`."""
    if not isinstance(raw, dict):
        raise FlowError(f"{source}: a flow file must hold a JSON object")
    _refuse_legacy(raw, source)
    shape, content, wrapper, declared, name = _parts(raw, source, flow_type, name or source)
    _refuse_legacy(content, source)
    try:
        flow = load_flow(content, name, _flow_type(declared, content))
    except FlowError as error:
        raise FlowError(f"{source}: {error}") from error
    return FlowDocument(source, shape, flow, content, wrapper)


def read_text(
    text: str, source: str = "<flow>", flow_type: str = "", name: str = ""
) -> FlowDocument:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise FlowError(f"{source}: not valid JSON: {error}") from None
    except RecursionError:
        raise FlowError(f"{source}: not valid JSON: nested too deeply") from None
    return read_document(raw, source, flow_type, name)


# -- files and folders ------------------------------------------------------------------------


class NoFlowsError(FlowError):
    """Nothing to check: a folder with no flow in it is not a pass."""


def read_file(path: Path, flow_type: str = "") -> FlowDocument:
    """The flow in one file, whatever its shape; anything unreadable is a FlowError naming
    the file (not UTF-8, not JSON, legacy, neither flow nor wrapper), never a traceback."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM from a Windows editor is fine
    except UnicodeDecodeError as error:
        raise FlowError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise FlowError(f"{path}: cannot be read: {error.strerror}") from None
    return read_text(text, str(path), flow_type, path.stem)


def flow_files(paths: Sequence[Path]) -> list[Path]:
    """The files to read: each file named, and in each folder (and below it) every flow:
    `*.json` files and files without an extension (as `aws connect describe-contact-flow >
    MainFlow` leaves them) whose content is a flow, a wrapper or a legacy export, and `*.json`
    files that are not JSON at all (to be reported). NoFlowsError if that finds none."""
    files: list[Path] = []
    for path in paths:
        files += _flows_under(path) if path.is_dir() else [path]
    if not files:
        named = ", ".join(str(p) for p in paths)
        raise NoFlowsError(
            f"{named}: no flow files here (looked for *.json, and for flows "
            "without an extension, in every folder below)"
        )
    return files


def _flows_under(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if path.is_file() and not hidden and _may_be_flow(path):
            found.append(path)
    return found


def _may_be_flow(path: Path) -> bool:
    """In a folder: a `*.json` unless it is recognisably something else (a test case, a
    scenario, a package manifest); a file without an extension only if it is a flow. A
    broken `*.json` is kept, to be reported, not skipped."""
    if path.suffix not in (".json", ""):
        return False
    if path.stat().st_size > _MAX_SNIFF_BYTES:  # read it and let the reader say
        return path.suffix == ".json"
    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return path.suffix == ".json"
    outer = _unwrap(raw)[0] if isinstance(raw, dict) else {}
    return bool(_FLOW_KEYS & set(outer)) and not _TEST_CASE_KEYS & set(outer)


# Keys that say "a flow, a wrapper around one, or a legacy export"; and keys only a
# testing-language test case has (its `Content` is not a flow).
_FLOW_KEYS = {"Content", "Version", "Actions", "StartAction", "modules"}
_TEST_CASE_KEYS = {"EntryPoint", "Observations", "InitializationData"}


_MAX_SNIFF_BYTES = 5 * 1024 * 1024
