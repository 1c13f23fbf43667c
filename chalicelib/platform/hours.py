"""Hours of operation and holidays, in the hours' own time zone (DST included). Pure.

Shared by the routing rules (which queue is open now) and the flow simulator (a scenario's
calendar for *Check hours of operation*).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


@dataclass(frozen=True)
class Window:
    start: time
    end: time | None  # None means midnight at the end of the day

    def contains(self, moment: time) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class Hours:
    name: str
    timezone: str
    weekly: Mapping[str, tuple[Window, ...]]
    holidays: frozenset[date] = frozenset()

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        windows = self.weekly.get(_WEEKDAYS[local.weekday()], ())
        return any(window.contains(local.time()) for window in windows)


def parse_window(text: object, where: str, problems: list[str]) -> Window | None:
    match = _WINDOW.match(text) if isinstance(text, str) else None
    if not match:
        problems.append(f"{where}: window {text!r} is not HH:MM-HH:MM")
        return None
    start = time(int(match[1]), int(match[2]))
    end = None if (match[3], match[4]) == ("24", "00") else time(int(match[3]) % 24, int(match[4]))
    if (match[3] == "24" and match[4] != "00") or (end is not None and end <= start):
        problems.append(f"{where}: window {text!r} must end after it starts (split overnight)")
        return None
    return Window(start, end)


def parse_hours(name: str, raw: Mapping[str, Any], problems: list[str]) -> Hours | None:
    """Hours from a document whose structure its schema has checked (`HoursDocument`): the
    time zone, the windows and the dates are read here, each bad one named."""
    where = f"hours {name!r}"
    timezone = raw["timezone"]
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{where}: unknown timezone {timezone!r}")
        return None
    weekly = {
        day: tuple(w for w in (parse_window(t, f"{where} {day}", problems) for t in spans) if w)
        for day, spans in raw.get("weekly", {}).items()
    }
    holidays: set[date] = set()
    for text in raw.get("holidays", []):
        try:
            holidays.add(date.fromisoformat(text))
        except ValueError:
            problems.append(f"{where}: holiday {text!r} is not YYYY-MM-DD")
    return Hours(name, timezone, weekly, frozenset(holidays))
