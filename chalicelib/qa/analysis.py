"""Contact Lens post-call analysis files, read into what scoring needs. Pure.

Voice files (`Analysis/Voice/...`, raw or redacted: the same shape, `[PII]` in the text) and
chat files (`Analysis/Chat/...`) differ in where a category matched (milliseconds for voice,
transcript items and character offsets for chat) and in how sentiment is given; both are
read into one `Conversation`. A file that cannot be read raises `AnalysisError` naming the
file, the position (line and column for broken JSON, the JSON path otherwise) and why: a
truncated upload is recorded as such, never scored as an empty call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

# Voice files say "1.1.0" (and "1.0.0" before it); chat files say "CHAT-2022-11-30"
# (../shared/reference/connect-contract.md, Contact Lens post-call output).
SUPPORTED_VERSIONS = frozenset({"1.0.0", "1.1.0", "CHAT-2022-11-30"})
# A chat transcript also holds events (a participant joined, typing, left): nobody said them.
_EVENT_CONTENT = "application/vnd.amazonaws.connect.event."

# <instance prefix>/Analysis/<Voice|Chat>[/Redacted]/YYYY/MM/DD/<contact>_analysis[_redacted]_<at>
# .json; the time in the name is when the agent connected, not when the file was written.
_KEY = re.compile(
    r"(?:^|/)Analysis/(?P<channel>Voice|Chat)(?P<redacted>/Redacted)?/\d{4}/\d{2}/\d{2}/"
    r"(?P<contact>[A-Za-z0-9-]{1,64})_analysis(?:_redacted)?_[^/]+\.json$"
)


@dataclass(frozen=True)
class AnalysisKey:
    contact_id: str
    channel: str  # VOICE or CHAT
    redacted: bool


def analysis_key(key: str) -> AnalysisKey | None:
    """The contact an analysis file's S3 key is for; None for any other object (the redacted
    audio, email analyses, files someone else put there)."""
    found = _KEY.search(key)
    if found is None:
        return None
    channel = found["channel"].upper()
    return AnalysisKey(found["contact"], channel, found["redacted"] is not None)


class Role(Enum):
    AGENT = "AGENT"
    CUSTOMER = "CUSTOMER"
    SYSTEM = "SYSTEM"  # a chat's bot or flow messages, a supervisor


# The JSON parser's messages, said as a person would to whoever fixes the file.
_IN_WORDS = {
    "Extra data": "more text follows the end of the analysis (a stray brace or bracket?)",
    "Expecting value": "a value is missing here (a trailing comma, or a cut line?)",
    "Expecting ',' delimiter": "a comma is missing between two values",
    "Expecting ':' delimiter": "a colon is missing after a key",
    "Expecting property name enclosed in double quotes": (
        "a key is not in double quotes (or a comma is left before a closing brace)"
    ),
    "Invalid control character at": "a raw line break or control character inside a text",
    "Unterminated string starting at": "a text is never closed with a double quote",
}


class AnalysisError(ValueError):
    """The file cannot be scored: `where` is `line L, column C` or a JSON path."""

    def __init__(self, source: str, where: str, reason: str) -> None:
        super().__init__(f"{source}: {where}: {reason}")
        self.source, self.where, self.reason = source, where, reason


@dataclass(frozen=True)
class Turn:
    id: str
    role: Role
    content: str
    begin_ms: int  # from the start of the contact; a chat message's order when it has none
    end_ms: int
    sentiment: str = ""  # POSITIVE, NEGATIVE, NEUTRAL, MIXED; "" when not analysed


@dataclass(frozen=True)
class Match:
    """Where a category matched: a span of time (voice), or characters of a turn (chat).
    None of either: the category matched the whole contact."""

    begin_ms: int | None = None
    end_ms: int | None = None
    turn_id: str = ""
    begin_char: int | None = None
    end_char: int | None = None


@dataclass(frozen=True)
class Conversation:
    contact_id: str
    channel: str  # VOICE or CHAT
    redacted: bool
    language: str
    turns: tuple[Turn, ...]
    categories: Mapping[str, tuple[Match, ...]] = field(default_factory=dict)
    duration_ms: int = 0
    non_talk_ms: int | None = None  # None: not measured (chat)
    interruptions: int | None = None
    talk_speed: Mapping[Role, float] = field(default_factory=dict)  # words a minute
    sentiment: Mapping[Role, float] = field(default_factory=dict)  # overall, -5..5
    # The customer's sentiment in the last quarter of the call (voice), or in the part of a
    # chat spent with an agent: how the customer left.
    closing_sentiment: float | None = None
    skipped: tuple[str, ...] = ()  # analyses Contact Lens did not run (quota, safety)


def read_analysis(
    data: str | bytes, source: str = "<analysis>", contact_id: str = ""
) -> Conversation:
    """The conversation in an analysis file; AnalysisError naming where and why it is not one."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise AnalysisError(source, f"byte {error.start}", "not UTF-8 text") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        # Every analysis file is one object: one that does not end with "}" was cut short.
        cut = not text.rstrip().endswith("}")
        reason = "the file ends early (truncated)" if cut else _IN_WORDS.get(error.msg, error.msg)
        raise AnalysisError(source, where, reason) from None
    except RecursionError:
        raise AnalysisError(source, "byte 0", "nested too deeply to be an analysis") from None
    return _conversation(_Reader(raw, source), contact_id)


class _Reader:
    """Typed access to the decoded file; every wrong type names its JSON path."""

    def __init__(self, raw: Any, source: str) -> None:
        self.raw, self.source = raw, source

    def fail(self, path: str, reason: str) -> AnalysisError:
        return AnalysisError(self.source, path, reason)

    def object(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, found {type(value).__name__}")
        return value

    def array(self, value: Any, path: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected an array, found {type(value).__name__}")
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, f"expected a number, found {type(value).__name__}")
        return float(value)

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected text, found {type(value).__name__}")
        return value


def _conversation(r: _Reader, contact_id: str) -> Conversation:
    top = r.object(r.raw, "$")
    version = top.get("Version")
    if version not in SUPPORTED_VERSIONS:
        raise r.fail(
            "$.Version", f"version {version!r} is not one we read ({sorted(SUPPORTED_VERSIONS)})"
        )
    if top.get("JobStatus", "COMPLETED") != "COMPLETED":
        raise r.fail("$.JobStatus", f"the analysis did not complete ({top.get('JobStatus')!r})")
    channel = str(top.get("Channel", "VOICE")).upper()
    roles = _roles(r, top)
    turns = _turns(r, top, roles)
    characteristics = r.object(
        top.get("ConversationCharacteristics", {}), "$.ConversationCharacteristics"
    )
    metadata = r.object(top.get("ContentMetadata", {}), "$.ContentMetadata")
    return Conversation(
        contact_id=contact_id,
        channel=channel,
        redacted=metadata.get("Output") == "Redacted",
        language=str(top.get("LanguageCode", "")),
        turns=turns,
        categories=_categories(r, top),
        duration_ms=int(_optional_number(r, characteristics, "TotalConversationDurationMillis")),
        non_talk_ms=_total(r, characteristics, "NonTalkTime", "TotalTimeMillis"),
        interruptions=_total(r, characteristics, "Interruptions", "TotalCount"),
        talk_speed=_talk_speed(r, characteristics),
        sentiment=_overall_sentiment(r, characteristics),
        closing_sentiment=_closing_sentiment(r, characteristics),
        skipped=_skipped(r, top),
    )


def _roles(r: _Reader, top: Mapping[str, Any]) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for i, participant in enumerate(r.array(top.get("Participants", []), "$.Participants")):
        path = f"$.Participants[{i}]"
        item = r.object(participant, path)
        role = str(item.get("ParticipantRole", "")).upper()
        roles[r.text(item.get("ParticipantId"), f"{path}.ParticipantId")] = _role(role)
    return roles


def _role(name: str) -> Role:
    return Role(name) if name in ("AGENT", "CUSTOMER") else Role.SYSTEM


def _turns(r: _Reader, top: Mapping[str, Any], roles: Mapping[str, Role]) -> tuple[Turn, ...]:
    if "Transcript" not in top:
        raise r.fail("$.Transcript", "missing: the file holds no transcript")
    turns = []
    started: datetime | None = None
    for i, raw in enumerate(r.array(top["Transcript"], "$.Transcript")):
        path = f"$.Transcript[{i}]"
        item = r.object(raw, path)
        if _is_event(item):
            continue
        speaker = str(item.get("ParticipantId", ""))
        role = roles.get(speaker) or _role(str(item.get("ParticipantRole", speaker)).upper())
        begin = item.get("BeginOffsetMillis")
        if begin is None:  # chat: milliseconds since the first message
            begin = _since(r, item.get("AbsoluteTime"), started, path) if started else 0
            started = started or _instant(r, item.get("AbsoluteTime"), path)
        end = item.get("EndOffsetMillis", begin)
        turns.append(
            Turn(
                id=str(item.get("Id", i)),
                role=role,
                content=r.text(item.get("Content", ""), f"{path}.Content"),
                begin_ms=int(r.number(begin, f"{path}.BeginOffsetMillis")),
                end_ms=int(r.number(end, f"{path}.EndOffsetMillis")),
                sentiment=str(item.get("Sentiment", "")),
            )
        )
    return tuple(turns)


def _is_event(item: Mapping[str, Any]) -> bool:
    content_type = item.get("ContentType")
    return item.get("Type") == "EVENT" or (
        isinstance(content_type, str) and content_type.startswith(_EVENT_CONTENT)
    )


def _instant(r: _Reader, value: Any, path: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(r.text(value, f"{path}.AbsoluteTime").replace("Z", "+00:00"))
    except ValueError:
        raise r.fail(f"{path}.AbsoluteTime", f"{value!r} is not an ISO 8601 time") from None


def _since(r: _Reader, value: Any, started: datetime, path: str) -> int:
    moment = _instant(r, value, path)
    return 0 if moment is None else int((moment - started).total_seconds() * 1000)


def _categories(r: _Reader, top: Mapping[str, Any]) -> dict[str, tuple[Match, ...]]:
    categories = r.object(top.get("Categories", {}), "$.Categories")
    details = r.object(categories.get("MatchedDetails", {}), "$.Categories.MatchedDetails")
    found: dict[str, tuple[Match, ...]] = {}
    for name in r.array(categories.get("MatchedCategories", []), "$.Categories.MatchedCategories"):
        detail = r.object(details.get(name, {}), f"$.Categories.MatchedDetails.{name}")
        points = r.array(detail.get("PointsOfInterest", []), f"$.Categories.MatchedDetails.{name}")
        found[str(name)] = tuple(m for point in points for m in _matches(r, point, name))
    return found


def _matches(r: _Reader, point: Any, name: str) -> list[Match]:
    item = r.object(point, f"$.Categories.MatchedDetails.{name}.PointsOfInterest[]")
    if "TranscriptItems" not in item:  # voice: milliseconds
        begin, end = item.get("BeginOffsetMillis"), item.get("EndOffsetMillis")
        return [
            Match(int(begin) if begin is not None else None, int(end) if end is not None else None)
        ]
    matches = []
    for transcript_item in r.array(item["TranscriptItems"], f"$.Categories.{name}.TranscriptItems"):
        entry = r.object(transcript_item, f"$.Categories.{name}.TranscriptItems[]")
        offsets = entry.get("CharacterOffsets") or {}
        matches.append(
            Match(
                turn_id=str(entry.get("Id", "")),
                begin_char=offsets.get("BeginOffsetChar"),
                end_char=offsets.get("EndOffsetChar"),
            )
        )
    return matches


def _optional_number(r: _Reader, container: Mapping[str, Any], key: str) -> float:
    value = container.get(key)
    return 0.0 if value is None else r.number(value, f"$.ConversationCharacteristics.{key}")


def _total(r: _Reader, characteristics: Mapping[str, Any], section: str, key: str) -> int | None:
    """A measure the file has, or None when it was not measured (chat has no silence)."""
    if section not in characteristics:
        return None
    part = r.object(characteristics[section], f"$.ConversationCharacteristics.{section}")
    value = part.get(key)
    path = f"$.ConversationCharacteristics.{section}.{key}"
    return None if value is None else int(r.number(value, path))


def _by_role(r: _Reader, values: Any, path: str, key: str = "") -> dict[Role, float]:
    found: dict[Role, float] = {}
    for role in (Role.AGENT, Role.CUSTOMER):
        value = r.object(values, path).get(role.value)
        if value is not None and key:
            value = r.object(value, f"{path}.{role.value}").get(key)
        if value is not None:
            found[role] = r.number(value, f"{path}.{role.value}")
    return found


def _talk_speed(r: _Reader, characteristics: Mapping[str, Any]) -> dict[Role, float]:
    speed = r.object(
        characteristics.get("TalkSpeed", {}), "$.ConversationCharacteristics.TalkSpeed"
    )
    details = speed.get("DetailsByParticipant", {})
    return _by_role(
        r,
        details,
        "$.ConversationCharacteristics.TalkSpeed.DetailsByParticipant",
        "AverageWordsPerMinute",
    )


def _overall_sentiment(r: _Reader, characteristics: Mapping[str, Any]) -> dict[Role, float]:
    sentiment = r.object(
        characteristics.get("Sentiment", {}), "$.ConversationCharacteristics.Sentiment"
    )
    overall = sentiment.get("OverallSentiment", {})
    path = "$.ConversationCharacteristics.Sentiment.OverallSentiment"
    if isinstance(overall, dict) and "DetailsByParticipantRole" in overall:  # chat
        return _by_role(r, overall["DetailsByParticipantRole"], f"{path}.DetailsByParticipantRole")
    return _by_role(r, overall, path)


_SENTIMENT = "$.ConversationCharacteristics.Sentiment"
# A chat's customer, for the part of the chat spent with an agent.
_WITH_AGENT = ("DetailsByInteraction", "DetailsByParticipantRole", "CUSTOMER", "WithAgent")


def _closing_sentiment(r: _Reader, characteristics: Mapping[str, Any]) -> float | None:
    """How the customer left: their score in the last quarter of a call; in a chat, their
    score at the end of the part spent with an agent (its sentiment shift), or else over
    that part."""
    sentiment = r.object(characteristics.get("Sentiment", {}), _SENTIMENT)
    quarters = (sentiment.get("SentimentByPeriod") or {}).get("QUARTER") or {}
    customer = quarters.get(Role.CUSTOMER.value) if isinstance(quarters, dict) else None
    if customer:
        path = f"{_SENTIMENT}.SentimentByPeriod.QUARTER.CUSTOMER[-1]"
        last = r.object(customer[-1], path)
        return r.number(last.get("Score"), f"{path}.Score")
    shift = _at(r, sentiment, ("SentimentShift", *_WITH_AGENT))
    if shift is not None:
        path = f"{_SENTIMENT}.SentimentShift.{'.'.join(_WITH_AGENT)}"
        end = r.object(shift, path).get("EndScore")
        if end is not None:
            return r.number(end, f"{path}.EndScore")
    overall = _at(r, sentiment, ("OverallSentiment", *_WITH_AGENT))
    path = f"{_SENTIMENT}.OverallSentiment.{'.'.join(_WITH_AGENT)}"
    return None if overall is None else r.number(overall, path)


def _at(r: _Reader, container: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The value at this path of nested objects; None where any step is missing."""
    value: Any = container
    path = _SENTIMENT
    for key in keys:
        if value is None:
            return None
        value = r.object(value, path).get(key)
        path = f"{path}.{key}"
    return value


def _skipped(r: _Reader, top: Mapping[str, Any]) -> tuple[str, ...]:
    details = r.object(top.get("JobDetails", {}), "$.JobDetails")
    skipped = r.array(details.get("SkippedAnalysis", []), "$.JobDetails.SkippedAnalysis")
    return tuple(
        f"{item.get('Feature', '?')}: {item.get('ReasonCode', '?')}"
        for item in skipped
        if isinstance(item, dict)
    )
