"""Contact Lens analysis files for the tests and the demo, made from the documented voice
fixture (`tests/fixtures/contact-lens/voice-raw.json`) with the conversation swapped: the
shape stays the documented one, only what was said, the categories and the ending change."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "contact-lens"
FIXTURE = FIXTURES / "voice-raw.json"
TURN_MS = 5_000
# A bank service call that does what the sample rubrics ask of one.
GOOD_CALL = (
    ("AGENT", "Thank you for calling Switchboard Bank. This call is recorded."),
    ("CUSTOMER", "I have a question about my savings."),
    ("AGENT", "Before I look, can you confirm your date of birth and security question?"),
    ("CUSTOMER", "Fourth of May. Hillside."),
    ("AGENT", "Thanks. Is there anything else I can help you with today?"),
    ("CUSTOMER", "No, thanks."),
)


@lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


def voice_analysis(
    turns: Sequence[tuple[str, str]],
    categories: Sequence[str] = (),
    closing: float = 2.0,
) -> str:
    """An analysis file: `turns` as (AGENT|CUSTOMER, what they said), five seconds each;
    the customer's sentiment in the last quarter is `closing` (-5 to 5)."""
    document = copy.deepcopy(_template())
    document["Transcript"] = [
        {
            "BeginOffsetMillis": n * TURN_MS,
            "EndOffsetMillis": (n + 1) * TURN_MS - 200,
            "Id": f"turn-{n + 1:03d}",
            "ParticipantId": role,
            "Content": text,
            "Sentiment": "NEUTRAL",
            "LoudnessScore": [70.0],
        }
        for n, (role, text) in enumerate(turns)
    ]
    total = max(1, len(turns)) * TURN_MS
    quarter = total // 4
    document["Categories"] = {
        "MatchedCategories": list(categories),
        "MatchedDetails": {
            name: {"PointsOfInterest": [{"BeginOffsetMillis": 0, "EndOffsetMillis": quarter}]}
            for name in categories
        },
    }
    characteristics = document["ConversationCharacteristics"]
    characteristics["TotalConversationDurationMillis"] = total
    characteristics["Sentiment"]["SentimentByPeriod"]["QUARTER"]["CUSTOMER"] = [
        {
            "BeginOffsetMillis": k * quarter,
            "EndOffsetMillis": (k + 1) * quarter,
            "Score": closing if k == 3 else 0.5,
        }
        for k in range(4)
    ]
    return json.dumps(document, indent=1)


def analysis_key(
    contact_id: str,
    at: str = "2026-12-01T09:00:00Z",
    redacted: bool = False,
    channel: str = "Voice",
) -> str:
    """Where Contact Lens writes the file, under the instance's prefix."""
    day = at[:10].replace("-", "/")
    kind = f"{channel}/Redacted" if redacted else channel
    name = "analysis_redacted" if redacted else "analysis"
    return f"connect/switchboard/Analysis/{kind}/{day}/{contact_id}_{name}_{at}.json"
