"""The structure of a test case in Connect's testing language, as `CreateTestCase` takes it
and `DescribeTestCase` returns it. What an event or action says inside its `Properties` or
`Parameters` is read (and refused by name) where the test runs; here only the keys of the
document, the content and each observation, so a misspelt `Acions` is never a test that
passes by doing nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from chalicelib.platform.schema import Document


class VoiceCallEntryPointSpec(Document):
    SourcePhoneNumber: str = ""
    DestinationPhoneNumber: str = ""
    FlowId: str = ""


class ChatEntryPointSpec(Document):
    FlowId: str = ""


class EntryPointSpec(Document):
    Type: str = "VOICE_CALL"
    VoiceCallEntryPointParameters: VoiceCallEntryPointSpec = VoiceCallEntryPointSpec()
    ChatEntryPointParameters: ChatEntryPointSpec | None = None


class EventSpec(Document):
    Identifier: str = ""
    Type: str
    Actor: str = "System"
    MatchingCriteria: str = ""
    Properties: dict[str, Any] = {}


class ActionTransitionsSpec(Document):
    NextAction: str = ""


class ActionSpec(Document):
    Identifier: str = ""
    Type: str
    Parameters: dict[str, Any] = {}
    Transitions: ActionTransitionsSpec | None = None


class UsageSpec(Document):
    Type: str
    Times: Annotated[int, Field(ge=1)] = 1


class ObservationTransitionsSpec(Document):
    NextObservations: list[str] = []


class ObservationSpec(Document):
    Identifier: str = ""
    Description: str = ""
    Event: EventSpec
    Actions: list[ActionSpec] = []
    Usage: UsageSpec | None = None
    Transitions: ObservationTransitionsSpec | None = None


class TestContent(Document):
    __test__ = False  # not a pytest class

    Version: Literal["2025-06-21", "2019-10-30"]
    Metadata: dict[str, Any] = {}
    Observations: Annotated[list[ObservationSpec], Field(min_length=1)]


class TestCaseDocument(Document):
    """The document around the content; the read-only keys of an export are allowed."""

    __test__ = False

    Name: str = ""
    Description: str = ""
    EntryPoint: EntryPointSpec = EntryPointSpec()
    InitializationData: Any = "{}"
    Content: Any
    Status: Literal["SAVED", "PUBLISHED"] = "PUBLISHED"
    Tags: dict[str, str] = {}
    Id: str = ""
    Arn: str = ""
    TestCaseId: str = ""
    TestCaseSha256: str = ""
    LastModifiedTime: Any = None
    LastModifiedRegion: str = ""

    @field_validator("InitializationData", "Content")
    @classmethod
    def _json_or_text(cls, value: Any) -> Any:
        if not isinstance(value, str | dict):
            raise ValueError("must be a JSON object or a string holding one")
        return value
