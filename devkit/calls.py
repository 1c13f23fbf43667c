"""A scripted morning of inbound calls: the demo plays it, the flow tests assert on it.

Times are Eastern (the contact centre's time zone); Tuesday 24 November 2026 is a working day
and Thursday 26 November is Thanksgiving, a holiday in the routing rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from devkit.harness import QueueLoadScript, ScriptedCall

EASTERN = ZoneInfo("America/New_York")
QUIET = {"general": QueueLoadScript(2, 3, 6), "billing": QueueLoadScript(1, 1, 3)}


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=EASTERN)


# The sample data (a payment that failed "yesterday") is seeded as of this morning.
DAWN = at(24, 6, 0)


@dataclass(frozen=True)
class Expected:
    outcome: str  # queued | disconnected | callback
    queue: str = ""
    passes: tuple[str, ...] = ()  # action ids the call must go through


MORNING: tuple[tuple[ScriptedCall, Expected], ...] = (
    (
        ScriptedCall(
            "VIP customer asks for payments",
            "+14155550101",
            at(24, 8, 2),
            ("1",),
            loads={"vip": QueueLoadScript(0, 1, 2)},
        ),
        Expected("queued", "vip", ("identify", "main-menu", "route")),
    ),
    (
        ScriptedCall(
            "Elderly customer takes the green channel",
            "+14155550102",
            at(24, 8, 10),
            loads={"care": QueueLoadScript(1, 1, 2)},
        ),
        Expected("queued", "care", ("green-channel", "green-message", "route")),
    ),
    (
        ScriptedCall(
            "First call: failed payment yesterday, reason offered first",
            "+14155550103",
            at(24, 8, 31),
            ("1",),
            loads=QUIET,
        ),
        Expected("queued", "billing", ("offer-predicted", "accept-predicted", "route")),
    ),
    (
        ScriptedCall(
            "Same caller again within 24 h: a repeat caller",
            "+14155550103",
            at(24, 9, 12),
            ("1",),
            loads=QUIET,
        ),
        Expected("queued", "billing", ("offer-predicted", "route")),
    ),
    (
        ScriptedCall(
            "Unknown number asks for technical support",
            "+12125550199",
            at(24, 9, 20),
            ("2",),
            loads={"technical": QueueLoadScript(3, 1, 4)},
        ),
        Expected("queued", "technical", ("main-menu", "choice-technical", "route")),
    ),
    (
        ScriptedCall(
            "Balance by phone, correct PIN",
            "+14155550106",
            at(24, 9, 31),
            ("3", "8080#", "timeout"),
        ),
        Expected("disconnected", "", ("verify-pin", "account-lookup", "say-balance")),
    ),
    (
        ScriptedCall(
            "Wrong PIN three times: locked, handed to an agent",
            "+14155550104",
            at(24, 9, 40),
            ("3", "1234#", "0000#", "9999#"),
            loads=QUIET,
        ),
        Expected("queued", "billing", ("pin-wrong", "pin-locked", "route")),
    ),
    (
        ScriptedCall(
            "Spanish queue saturated: overflows to general",
            "+13055550105",
            at(24, 10, 5),
            ("1",),
            loads={"spanish": QueueLoadScript(14, 0, 3), "general": QueueLoadScript(3, 2, 8)},
        ),
        Expected("queued", "general", ("route", "set-queue")),
    ),
    (
        ScriptedCall(
            "Long wait everywhere: caller takes a callback",
            "+14155550106",
            at(24, 10, 30),
            ("1", "1"),
            loads={"billing": QueueLoadScript(12, 0, 3), "general": QueueLoadScript(30, 0, 4)},
        ),
        Expected("disconnected", "", ("offer-callback", "request-callback", "callback-confirmed")),
    ),
    (
        ScriptedCall(
            "Caller stays silent: re-prompted, then given a human",
            "+12125550142",
            at(24, 10, 45),
            ("timeout", "timeout"),
            loads=QUIET,
        ),
        Expected("queued", "general", ("main-menu", "still-there", "choice-agent")),
    ),
    (
        ScriptedCall(
            "Withheld number, Connect metrics throttled",
            None,
            at(24, 11, 0),
            ("0",),
            connect_failure="ThrottlingException",
        ),
        Expected("queued", "general", ("route", "set-queue")),
    ),
    (
        ScriptedCall(
            "After hours on a weekday evening: the night desk",
            "+14155550104",
            at(24, 21, 15),
            ("2",),
            loads={"night": QueueLoadScript(0, 1, 1)},
        ),
        Expected("queued", "night", ("route", "set-queue")),
    ),
    (
        ScriptedCall("Thanksgiving: closed message", "+12125550199", at(26, 11, 0), ("1",)),
        Expected("disconnected", "", ("route-decision", "closed-message")),
    ),
)


# -- the afternoon: callbacks -----------------------------------------------------------------

LONG_WAIT = {
    "billing": QueueLoadScript(12, 0, 3),
    "general": QueueLoadScript(30, 0, 4),
    "spanish": QueueLoadScript(14, 0, 3),
}
AFTERNOON: tuple[ScriptedCall, ...] = (
    ScriptedCall(
        "Long wait: Dana takes a callback",
        "+14155550106",
        at(24, 14, 0),
        ("1", "1"),
        loads=LONG_WAIT,
    ),
    ScriptedCall(
        "Long wait: an unknown caller takes a callback",
        "+12125550199",
        at(24, 14, 2),
        ("1", "1"),
        loads=LONG_WAIT,
    ),
    ScriptedCall(
        "Long wait: Sam takes a callback",
        "+14155550104",
        at(24, 14, 4),
        ("1", "1"),
        loads=LONG_WAIT,
    ),
    ScriptedCall(
        "Dana calls again and keeps her place",
        "+14155550106",
        at(24, 14, 6),
        ("1",),
        loads=LONG_WAIT,
    ),
    ScriptedCall(
        "Sam calls again and cancels, then holds for technical support",
        "+14155550104",
        at(24, 14, 8),
        ("2", "2"),
        loads=LONG_WAIT,
    ),
)
