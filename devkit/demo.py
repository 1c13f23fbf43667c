"""`make demo`: a morning of inbound calls through flows/inbound-main.json and our real hooks,
on an embedded local AWS (moto). No AWS account needed.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from devkit.calls import DAWN, EASTERN, MORNING
from devkit.harness import ScriptedCall, Switchboard, local_switchboard
from flowlang.model import spoken
from flowlang.simulator import CallResult, Event

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
    "scenario": ("⚑ ", "bold yellow"),  # a branch the scenario or a test decided
}


def _highlights() -> dict[str, tuple[str, ...]]:
    """What a reader wants to see of each hook's answer, as each capability says."""
    from chalicelib.capabilities import CAPABILITIES

    return {hook: keys for c in CAPABILITIES for hook, keys in c.highlights.items()}


_SAID = {
    "queue": "working queue: {}",
    "callback": "callback booked in {} (Connect's queued callback)",
    "scenario": "decided by the scenario: {}",
}


def _describe_input(event: Event) -> str:
    text = event.text
    if text == "timeout":
        return "(silence)"
    if event.detail.get("spoken"):
        return f"caller says “{text}”"
    if event.detail.get("stored"):
        return f"caller keys in {'•' * len(text.rstrip('#'))} #"
    return f"caller presses {text}"


def _describe(event: Event) -> str:
    kind, text = event.kind, event.text
    if kind == "input":
        return _describe_input(event)
    if kind == "prompt":
        return spoken(text)
    if kind in _SAID:
        return _SAID[kind].format(text)
    if kind != "lambda":
        return text
    shown = {k: v for k, v in event.detail.items() if k in _highlights().get(text, ()) and v}
    if event.detail.get("result") == "error":
        shown = {"result": "error", "reason": event.detail.get("reason", "")}
    return f"{text} → " + ", ".join(f"{k}={v}" for k, v in shown.items())


def print_transcript(number: int, call: ScriptedCall, result: CallResult) -> None:
    when = call.at.astimezone(EASTERN).strftime("%a %d %b %H:%M ET")
    caller = call.number or "withheld number"
    console.rule(f"[bold]Call {number}: {escape(call.title)}[/]  ({when}, {caller[:5]}…)")
    for event in result.events:
        if event.kind == "attributes":
            continue
        icon, style = _STYLE.get(event.kind, ("  ", "default"))
        console.print(f"  {icon} [{style}]{escape(_describe(event))}[/]")


def _callback_table(switchboard: Switchboard) -> Table:
    from chalicelib.callbacks import handlers as callbacks_handlers

    table = Table(title="Callbacks at the end of the afternoon")
    for column in ("callback", "queue", "status", "attempts", "history"):
        table.add_column(column)
    ledger = callbacks_handlers.served().ledger
    for callback_id in sorted(switchboard.callback_ids):
        callback = ledger.get(callback_id)
        if callback is None:
            continue
        steps = " > ".join(f"{t.status.value}" for t in callback.history)
        table.add_row(
            callback_id[:8],
            callback.queue,
            callback.status.value,
            str(callback.attempt.ordinal),
            steps,
        )
    return table


def _dispatch(switchboard: Switchboard, title: str) -> list[dict[str, Any]]:
    client = switchboard.client
    tick = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    before = len(switchboard.connect.dialled)
    summary = client.lambda_.invoke("dispatch_callbacks", tick).payload
    dialled = switchboard.connect.dialled[before:]
    console.print(
        f"  ⏱  {title}: dispatcher dialled {summary['dialled']}, deferred "
        f"{summary['deferred']}, reconciled {summary['reconciled']}"
    )
    return dialled


def _hang_up_unanswered(switchboard: Switchboard, dial: dict[str, Any]) -> None:
    client = switchboard.client
    event = client.events.generate_cw_event(
        source="aws.connect",
        detail_type="Amazon Connect Contact Event",
        resources=[],
        detail={
            "eventType": "DISCONNECTED",
            "contactId": dial["ContactId"],
            "disconnectReason": "CUSTOMER_CONNECTION_NOT_ESTABLISHED",
        },
    )
    client.lambda_.invoke("outbound_contact_events", event)
    console.print(
        f"  ☎  {dial['Attributes']['callback_id'][:8]}: no answer "
        f"(attempt {dial['Attributes']['callback_attempt']})"
    )


def _answer(switchboard: Switchboard, dial: dict[str, Any], at_time: datetime) -> None:
    from devkit.harness import INBOUND_FLOW, ScriptedCall

    callback_flow = INBOUND_FLOW.with_name("outbound-callback.json")
    call = ScriptedCall(
        "callback answered",
        dial["DestinationPhoneNumber"],
        at_time,
        ("1",),
        contact_id=dial["ContactId"],
        attributes=dict(dial.get("Attributes", {})),  # what StartOutboundVoiceContact set
        initiation_method="API",
    )
    from flowlang.loader import read_text

    flow = read_text(callback_flow.read_text(), "outbound-callback").flow
    result = switchboard.play(call, flow=flow)
    console.print(
        f"  ☎  {dial['Attributes']['callback_id'][:8]}: answered, pressed 1 → "
        f"{result.outcome.value if result.outcome else '-'} in {result.queue or '-'}"
    )


def afternoon(switchboard: Switchboard) -> int:
    """Plays the callback afternoon; the number of callbacks not where expected."""
    from devkit.calls import AFTERNOON, at
    from devkit.connect_sim import QueueState

    console.rule("[bold]The afternoon: callbacks[/]")
    switchboard.callback_ids = set()
    start = len(MORNING) + 1
    for number, call in enumerate(AFTERNOON, start=start):
        result = switchboard.play(call)
        print_transcript(number, call, result)
        callback_id = next(
            (
                e.detail.get("callback_id")
                for e in result.hook_calls()
                if e.detail.get("callback_id")
            ),
            None,
        )
        if callback_id:
            switchboard.callback_ids.add(callback_id)
    console.rule("[bold]Agents free up; the dispatcher runs every minute[/]")
    switchboard.clock.set(at(24, 14, 30).astimezone())
    switchboard.connect.queues = {
        q: QueueState(0, 2, 4) for q in ("billing", "general", "spanish", "technical")
    }
    first = _dispatch(switchboard, "14:30")
    for index, dial in enumerate(first):
        if index == 0:
            _hang_up_unanswered(switchboard, dial)
        else:
            _answer(switchboard, dial, at(24, 14, 31))
    switchboard.clock.set(at(24, 14, 36).astimezone())
    for dial in _dispatch(switchboard, "14:36, after the retry backoff"):
        _answer(switchboard, dial, at(24, 14, 37))
    console.print(_callback_table(switchboard))
    return _unexpected(switchboard)


def _unexpected(switchboard: Switchboard) -> int:
    """Two callbacks completed (one after a retry), one cancelled by the caller."""
    from chalicelib.callbacks import handlers as callbacks_handlers
    from chalicelib.callbacks.model import Status

    ledger = callbacks_handlers.served().ledger
    found = [ledger.get(c) for c in switchboard.callback_ids]
    statuses = sorted(c.status.value if c else "missing" for c in found)
    expected = sorted([Status.COMPLETED.value, Status.COMPLETED.value, Status.CANCELLED.value])
    return 0 if statuses == expected else 1


def main() -> int:
    logging.disable(logging.WARNING)  # hooks log their fallbacks; the transcript shows them
    try:
        return _run()
    finally:
        logging.disable(logging.NOTSET)


def _run() -> int:
    started = time.monotonic()
    summary = Table(title="Summary of the morning")
    for column in ("#", "call", "hooks", "outcome", "queue", "as expected"):
        summary.add_column(column)
    failures = 0
    with local_switchboard(seeded_at=DAWN) as switchboard:
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
        failures += afternoon(switchboard)
        from devkit.outbound_demo import outbound_morning

        failures += outbound_morning(switchboard)
        from devkit.qa_demo import qa_day

        failures += qa_day(switchboard)
    console.print(
        f"{len(MORNING)} morning calls, callbacks, campaigns and QA in "
        f"{time.monotonic() - started:.1f} s, {failures} not as expected."
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
