"""`make demo`'s outbound morning: a progressive sales campaign and an agentless NPS survey
dialled by the real dialer (the schedule's Lambda) on moto and the Connect simulator, with
the refusals a customer can read, the calls played through their flows, their contact events,
and the campaigns' reports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from devkit.calls import EASTERN
from devkit.harness import INBOUND_FLOW, ScriptedCall, Switchboard

console = Console(highlight=False)
MORNING = datetime(2026, 12, 2, 10, 30, tzinfo=EASTERN)  # 07:30 in Los Angeles

# The sales list, and why each record ends where it does.
SALES = {
    "+12125550143": ("answers, talks to an agent", "DONE"),
    "+13105550100": ("in Los Angeles, 07:30 there: outside the calling window", "READY"),
    "+12125550144": ("on the national do-not-call registry", "STOPPED"),
    "+12125550145": ("said 'don't call me' last week, in another campaign", "STOPPED"),
    "+13055550105": ("in Florida, called 3 times in 24 h on this subject", "READY"),
}
SURVEY = {
    "+12125550146": ("answers the survey: 9", "DONE"),
    "+16175550100": ("silent twice: no answer recorded, tried again later", "READY"),
}


def outbound_morning(switchboard: Switchboard) -> int:
    """Plays the outbound morning; the number of records not where expected."""
    from devkit.connect_sim import QueueState

    console.rule("[bold]The outbound morning: a sales campaign and an NPS survey[/]")
    switchboard.clock.set(MORNING)
    _prepare(switchboard.clock.now())
    switchboard.connect.queues["sales"] = QueueState(0, 3, 3)
    before = len(switchboard.connect.dialled)
    run = _dial(switchboard)
    console.print(
        f"  ⏱  10:30: the dialer placed {run['dialled']}, deferred {run['deferred']}, "
        f"stopped {run['stopped']}"
    )
    console.print(_records_table())
    for dial in switchboard.connect.dialled[before:]:
        _play(switchboard, dial)
    for name in ("card-upgrade", "nps-survey"):
        _report(name, switchboard.clock.now())
    return _unexpected()


def _service() -> Any:
    from chalicelib.dialer import handlers as dialer_handlers

    return dialer_handlers.served()


def _prepare(now: datetime) -> None:
    """The campaigns stored, the lists ingested, and what the law and the customers said."""
    from chalicelib.dialer.compliance import PastCall, Purpose
    from chalicelib.dialer.contacts import Contact
    from chalicelib.dialer.store import DynamoRegistry
    from chalicelib.platform.phone import time_zones
    from devkit.campaigns import load_campaign

    service = _service()
    for name, numbers in (("card-upgrade", SALES), ("nps-survey", SURVEY)):
        service.campaigns.put(load_campaign(name).model_dump_json(), now)
        contacts = [Contact(i + 2, n, time_zones(n)) for i, n in enumerate(numbers)]
        service.ledger.add(name, contacts, now - timedelta(hours=1))
    DynamoRegistry().load(["+12125550144"], taken_at=now - timedelta(days=12))
    service.recipients.do_not_call("+12125550145", now - timedelta(days=6))
    miami = "+13055550105"
    for hours in (20, 9, 2):
        seen = service.recipients.read(miami)
        call = PastCall(now - timedelta(hours=hours), Purpose.MARKETING, "card-upgrade")
        service.recipients.reserve(miami, seen, call, f"earlier-{hours}")


def _dial(switchboard: Switchboard) -> dict[str, int]:
    client = switchboard.client
    tick = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    summary: dict[str, int] = client.lambda_.invoke("dial_campaigns", tick).payload
    return summary


def _records_table() -> Table:
    ledger = _service().ledger
    table = Table(title="Each record after the run, and why")
    for column in ("campaign", "number", "who", "status", "last step"):
        table.add_column(column)
    for campaign, numbers in (("card-upgrade", SALES), ("nps-survey", SURVEY)):
        for number, (who, _) in numbers.items():
            record = ledger.get(campaign, number)
            step = record.history[-1].reason if record and record.history else "-"
            status = record.status.value if record else "missing"
            table.add_row(campaign, f"…{number[-4:]}", who, status, step)
    return table


def _play(switchboard: Switchboard, dial: dict[str, Any]) -> None:
    """A placed call answered: through its campaign's flow, then its contact event."""
    from flowlang.loader import read_text

    attributes = dict(dial.get("Attributes", {}))
    survey = attributes.get("campaign") == "nps-survey"
    number = dial["DestinationPhoneNumber"]
    inputs = ("timeout", "timeout") if number == "+16175550100" else ("9#",)
    name = "outbound-survey" if survey else "outbound-sales"
    flow = read_text(INBOUND_FLOW.with_name(f"{name}.json").read_text(), name).flow
    call = ScriptedCall(
        f"{attributes.get('campaign')} call",
        number,
        switchboard.clock.now(),
        inputs if survey else (),
        contact_id=dial["ContactId"],
        attributes=attributes,
        initiation_method="API",
    )
    result = switchboard.play(call, flow=flow)
    said = [e.text for e in result.events if e.kind == "prompt"] or ["-"]
    outcome = result.outcome.value if result.outcome else "-"
    console.print(
        f"  ☎  …{number[-4:]} ({attributes.get('campaign')}): {outcome}; last heard: {said[-1]}"
    )
    _ended(switchboard, dial["ContactId"], agent=not survey)


def _ended(switchboard: Switchboard, contact_id: str, agent: bool) -> None:
    client = switchboard.client
    detail: dict[str, Any] = {
        "eventType": "DISCONNECTED",
        "contactId": contact_id,
        "disconnectReason": "CUSTOMER_DISCONNECT" if agent else "CONTACT_FLOW_DISCONNECT",
    }
    if agent:
        detail["agentInfo"] = {"connectedToAgentTimestamp": "2026-12-02T15:31:00Z"}
    event = client.events.generate_cw_event(
        source="aws.connect",
        detail_type="Amazon Connect Contact Event",
        resources=[],
        detail=detail,
    )
    client.lambda_.invoke("outbound_contact_events", event)


def _report(name: str, now: datetime) -> None:
    from devkit.campaigns import report_table

    report = _service().report(name)
    if report is not None:
        console.print(report_table(report.as_dict()))


def _unexpected() -> int:
    ledger = _service().ledger
    wrong = 0
    for campaign, numbers in (("card-upgrade", SALES), ("nps-survey", SURVEY)):
        for number, (_, expected) in numbers.items():
            record = ledger.get(campaign, number)
            wrong += record is None or record.status.value != expected
    survey = _service().report("nps-survey")
    wrong += survey is None or survey.figures.total.nps != 100.0
    return wrong
