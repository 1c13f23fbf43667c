"""Scores by agent or team and week, pure: how they did, per rubric, and which questions they
fail most, so a supervisor finds the agent with violations fast."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.qa.records import QaRecord, QaStatus, final_card

MOST_FAILED = 5
FLAGGED_SHOWN = 20


@dataclass
class _Rubric:
    contacts: int = 0
    totals: list[float] = field(default_factory=list)
    asked: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)


def _failed(answer: dict[str, Any]) -> bool:
    return bool(answer.get("automatic_fail")) or answer.get("score") == 0


def _average(totals: list[float]) -> float | None:
    return round(sum(totals) / len(totals), 2) if totals else None


def report(who: str, week: str, records: Iterable[QaRecord]) -> dict[str, Any]:
    """`who` is an agent id or a queue name; `records` their contacts of `week`."""
    rubrics: defaultdict[str, _Rubric] = defaultdict(_Rubric)
    statuses: Counter[str] = Counter()
    flagged: list[dict[str, Any]] = []
    automatic_fails = 0
    for record in records:
        statuses[record.status.value] += 1
        if not final_card(record):
            continue
        card = json.loads(final_card(record))
        automatic_fails += bool(card["automatic_fail"])
        _add(rubrics[f"{card['rubric']} v{card['rubric_version']}"], card)
        if record.flags:
            flagged.append({"contact_id": record.contact_id, "flags": list(record.flags)})
    totals = [t for r in rubrics.values() for t in r.totals]
    return {
        "who": who,
        "week": week,
        "contacts": sum(statuses.values()),
        "scored": statuses[QaStatus.SCORED.value],
        "partial": statuses[QaStatus.PARTIAL.value],
        "unreadable": statuses[QaStatus.UNREADABLE.value],
        "awaiting": statuses[QaStatus.AWAITING.value],
        "average": _average(totals),
        "automatic_fails": automatic_fails,
        "by_rubric": {name: _rubric_figures(r) for name, r in sorted(rubrics.items())},
        "flagged": sorted(flagged, key=lambda f: f["contact_id"])[:FLAGGED_SHOWN],
    }


def _add(rubric: _Rubric, card: dict[str, Any]) -> None:
    rubric.contacts += 1
    if card["total"] is not None:
        rubric.totals.append(float(card["total"]))
    for answer in card["answers"]:
        if answer["score"] is None and not answer["automatic_fail"]:
            continue  # text, N/A or unanswered: nothing to fail
        rubric.asked[answer["question"]] += 1
        rubric.failed[answer["question"]] += _failed(answer)


def _rubric_figures(rubric: _Rubric) -> dict[str, Any]:
    failing = [(q, n) for q, n in rubric.failed.items() if n]
    failing.sort(key=lambda item: (-item[1], item[0]))
    return {
        "contacts": rubric.contacts,
        "average": _average(rubric.totals),
        "most_failed": [
            {"question": q, "failed": n, "of": rubric.asked[q]} for q, n in failing[:MOST_FAILED]
        ],
    }
