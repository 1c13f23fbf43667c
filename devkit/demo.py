"""`make demo`: a morning of inbound calls through flows/inbound-main.json and our real hooks,
on an embedded local AWS (moto). No AWS account needed.
"""

from __future__ import annotations

import logging
import re
import sys
import time

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from devkit.calls import EASTERN, MORNING
from devkit.harness import ScriptedCall, local_switchboard

console = Console(highlight=False)

_STYLE = {
    "prompt": ("🔊", "cyan"),
    "input": ("☎ ", "yellow"),
    "lambda": ("λ ", "magenta"),
    "queue": ("→ ", "green"),
    "callback": ("↩ ", "green"),
    "error": ("! ", "red"),
    "end": ("■ ", "bold"),
    "flow": ("↳ ", "blue"),
    "wait": ("… ", "dim"),
}
# What a reader wants to see of each hook's answer.
_HOOK_KEYS = {
    "identify_caller": (
        "caller_type",
        "display_name",
        "tier",
        "elderly",
        "repeat_caller",
        "predicted_reason",
    ),
    "route_call": (
        "decision",
        "queue",
        "priority",
        "rule",
        "estimated_wait_minutes",
        "offer_callback",
        "overflow_from",
        "load_status",
    ),
    "verify_pin": ("pin_result", "attempts_left"),
    "account_lookup": ("result", "balance", "next_bill_date"),
    "record_journey": ("journey_summary",),
}


def _describe(event: object) -> str:
    kind, text = event.kind, event.text  # type: ignore[attr-defined]
    if kind == "input":
        if text == "timeout":
            return "(silence)"
        if event.detail.get("spoken"):  # type: ignore[attr-defined]
            return f"caller says “{text}”"
        if event.detail.get("stored"):  # type: ignore[attr-defined]
            return f"caller keys in {'•' * len(text.rstrip('#'))} #"
        return f"caller presses {text}"
    if kind == "prompt":
        return " ".join(re.sub(r"<[^>]+>", " ", text).split())  # SSML read as speech
    if kind == "queue":
        return f"working queue: {text}"
    if kind == "callback":
        return f"callback booked in {text} (Connect's queued callback)"
    if kind != "lambda":
        return text
    shown = {k: v for k, v in event.detail.items() if k in _HOOK_KEYS.get(text, ()) and v}  # type: ignore[attr-defined]
    if event.detail.get("result") == "error":  # type: ignore[attr-defined]
        shown = {"result": "error", "reason": event.detail.get("reason", "")}  # type: ignore[attr-defined]
    return f"{text} → " + ", ".join(f"{k}={v}" for k, v in shown.items())


def print_transcript(number: int, call: ScriptedCall, result: object) -> None:
    when = call.at.astimezone(EASTERN).strftime("%a %d %b %H:%M ET")
    caller = call.number or "withheld number"
    console.rule(f"[bold]Call {number}: {escape(call.title)}[/]  ({when}, {caller[:5]}…)")
    for event in result.events:  # type: ignore[attr-defined]
        if event.kind == "attributes":
            continue
        icon, style = _STYLE.get(event.kind, ("  ", "default"))
        console.print(f"  {icon} [{style}]{escape(_describe(event))}[/]")


def main() -> int:
    logging.disable(logging.WARNING)  # hooks log their fallbacks; the transcript shows them
    started = time.monotonic()
    summary = Table(title="Summary of the morning")
    for column in ("#", "call", "hooks", "outcome", "queue", "as expected"):
        summary.add_column(column)
    failures = 0
    with local_switchboard() as switchboard:
        for number, (call, expected) in enumerate(MORNING, start=1):
            result = switchboard.play(call)
            print_transcript(number, call, result)
            outcome = result.outcome.value if result.outcome else "none"
            good = outcome == expected.outcome and result.queue == expected.queue
            failures += not good
            summary.add_row(
                str(number),
                call.title,
                str(len(result.hook_calls())),
                outcome,
                result.queue or "-",
                "yes" if good else "[red]NO[/]",
            )
    console.print(summary)
    console.print(
        f"{len(MORNING)} calls in {time.monotonic() - started:.1f} s, {failures} not as expected."
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
