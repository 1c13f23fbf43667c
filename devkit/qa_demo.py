"""`make demo`'s after-call QA: the day's contacts scored through the real handlers on moto
(contact events, Contact Lens files and contact records through the events queue and the
stream), one failing its disclosure and landing in review, one upset customer called back,
one contact Contact Lens could not analyse scored partially, and a rising complaint raising
an early warning; then a reviewer's work through the API and the agents' weekly report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from devkit.analyses import analysis_key, voice_analysis
from devkit.harness import Switchboard
from devkit.local_aws import ROOT

console = Console(highlight=False)
DAY = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York
BUCKET_NAME = "switchboard-dev-connect-instance"
INSTANCE = "arn:aws:connect:us-east-1:111122223333:instance/00000000-0000-4000-8000-00000000dev0"

GREETING = ("AGENT", "Thank you for calling Switchboard Bank. This call is recorded.")
IDENTITY = ("AGENT", "Before I look, can you confirm your date of birth and security question?")
CLOSING = ("AGENT", "Is there anything else I can help you with today?")
RIGHT_PARTY = ("AGENT", "Hello, am I speaking with Ms Lee? Can you confirm your date of birth?")
MIRANDA = ("AGENT", "This is an attempt to collect a debt, and anything you say may be used.")

# contact -> (who, queue, what was said, categories, the customer's closing sentiment, expected)
CONTACTS: dict[str, tuple[str, str, list[tuple[str, str]], list[str], float, str]] = {
    "qa-000000000001": ("Dana", "billing", [RIGHT_PARTY, ("CUSTOMER", "Yes, that's me."),
                        MIRANDA, ("CUSTOMER", "I'll set up a plan.")], [], 1.0,
                        "says the disclosure"),
    "qa-000000000002": ("Omar", "billing", [RIGHT_PARTY, ("CUSTOMER", "Speaking."),
                        ("AGENT", "You owe us money and need to pay it now.")], [], 0.0,
                        "no mini-Miranda"),
    "qa-000000000003": ("Dana", "general", [GREETING, IDENTITY, ("CUSTOMER", "Fine, whatever."),
                        ("AGENT", "The fee stays, sorry."), CLOSING,
                        ("CUSTOMER", "This is useless, I'm furious.")], ["Complaint"], -4.0,
                        "ends upset"),
    "qa-000000000004": ("Omar", "general", [GREETING, IDENTITY, ("CUSTOMER", "Sure."),
                        CLOSING, ("CUSTOMER", "No, thanks a lot.")], [], 2.5, "a good call"),
    "qa-000000000005": ("Dana", "general", [], [], 0.0,
                        "no analysis came"),
    "qa-000000000006": ("Omar", "general", [], [], 0.0,
                        "nothing reached us"),
}  # fmt: skip
NEVER_TOLD = "qa-000000000006"  # its event, record and file all lost: Connect still lists it
SPIKE = 30  # complaints about the new card fee in one 15 minutes; usually about 8


def _contact(short: str) -> str:
    return f"00000000-0000-4000-8000-{short[3:]}"


def qa_day(switchboard: Switchboard) -> int:
    """Plays the QA part; the number of things not as expected."""
    console.rule("[bold]After-call QA: every contact scored within a minute[/]")
    switchboard.clock.set(DAY)
    _prepare()
    for n, (short, (agent, queue, said, categories, closing, _)) in enumerate(CONTACTS.items()):
        if short == NEVER_TOLD:
            _lost(switchboard, _contact(short), agent, queue, DAY - timedelta(minutes=12))
            continue
        _contact_ended(switchboard, _contact(short), agent, queue, DAY + timedelta(minutes=n))
        if said:
            _analysed(switchboard, _contact(short), said, categories, closing)
        else:
            _lens_failed(switchboard, _contact(short))
    _tick(switchboard, "qa_reconcile", DAY + timedelta(minutes=6))
    console.print(_scores_table())
    _complaints_rise(switchboard)
    _review(switchboard)
    return _unexpected()


def _prepare() -> None:
    import boto3

    from chalicelib.qa.store import DynamoRubrics

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET_NAME)
    rubrics = DynamoRubrics()
    for name, queues in (("bank-service", ["*"]), ("collections", ["billing"])):
        document = json.loads((ROOT / "rubrics" / f"{name}.json").read_text())
        rubrics.put(document, queues, DAY)
        console.print(f"  📋 rubric {name} v{document['Version']} scores {', '.join(queues)}")
    _history()


def _deliver(switchboard: Switchboard, event: dict[str, Any]) -> None:
    client = switchboard.client
    message = client.events.generate_sqs_event(
        [json.dumps(event)], queue_name="switchboard-dev-qa-events"
    )
    client.lambda_.invoke("qa_events", message)


def _contact_ended(
    switchboard: Switchboard, contact: str, agent: str, queue: str, ended: datetime
) -> None:
    from chalicelib.platform.settings import settings

    switchboard.clock.set(ended)
    queue_id = settings().queue_ids[queue]
    stamp = ended.isoformat()
    _deliver(switchboard, {
        "detail-type": "Amazon Connect Contact Event", "source": "aws.connect", "time": stamp,
        "detail": {"eventType": "COMPLETED", "contactId": contact, "disconnectTimestamp": stamp,
                   "agentInfo": {"agentArn": f"{INSTANCE}/agent/{agent}"},
                   "queueInfo": {"queueArn": f"{INSTANCE}/queue/{queue_id}"}},
    })  # fmt: skip
    record = {
        "ContactId": contact, "LastUpdateTimestamp": stamp, "DisconnectTimestamp": stamp,
        "Agent": {"ARN": f"{INSTANCE}/agent/{agent}"},
        "Queue": {"ARN": f"{INSTANCE}/queue/{queue_id}", "Name": queue},
        "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "+12125550147"},
    }  # fmt: skip
    event = switchboard.client.events.generate_kinesis_event(
        [json.dumps(record).encode()], stream_name="switchboard-dev-contact-records"
    )
    switchboard.client.lambda_.invoke("qa_contact_records", event)


def _analysed(
    switchboard: Switchboard,
    contact: str,
    said: list[tuple[str, str]],
    categories: list[str],
    closing: float,
) -> None:
    import boto3

    key = analysis_key(contact, switchboard.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    text = voice_analysis(said, categories, closing)
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET_NAME, Key=key, Body=text.encode()
    )
    _deliver(switchboard, {
        "detail-type": "Object Created", "source": "aws.s3",
        "time": switchboard.clock.now().isoformat(),
        "detail": {"bucket": {"name": BUCKET_NAME}, "object": {"key": key}},
    })  # fmt: skip


def _lost(switchboard: Switchboard, contact: str, agent: str, queue: str, ended: datetime) -> None:
    """Connect knows the contact ended with an agent; nothing about it ever reached QA."""
    from chalicelib.platform.settings import settings

    switchboard.connect.ended.append({
        "Id": contact, "Channel": "VOICE", "DisconnectTimestamp": ended,
        "AgentInfo": {"Id": agent}, "QueueInfo": {"Id": settings().queue_ids[queue]},
    })  # fmt: skip


def _lens_failed(switchboard: Switchboard, contact: str) -> None:
    _deliver(switchboard, {
        "detail-type": "Contact Lens Analysis State Change", "source": "aws.connect",
        "time": switchboard.clock.now().isoformat(),
        "detail": {"contact": f"{INSTANCE}/contact/{contact}", "state": "FAILED",
                   "reasonCode": "RECORDING_FILE_CANNOT_BE_READ"},
    })  # fmt: skip


def _tick(switchboard: Switchboard, schedule: str, at: datetime) -> Any:
    switchboard.clock.set(at)
    event = switchboard.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", resources=[], detail={}
    )
    return switchboard.client.lambda_.invoke(schedule, event).payload


def _service() -> Any:
    from chalicelib.qa import handlers as qa_handlers

    return qa_handlers.served()


def _scores_table() -> Table:
    table = Table(title="The day's contacts, scored")
    for column in ("#", "what happened", "agent", "queue", "status", "total", "flags"):
        table.add_column(column)
    for n, (short, details) in enumerate(CONTACTS.items(), start=1):
        record = _service().records.get(_contact(short))
        total = "-" if record.total is None else f"{record.total:.0f}"
        flags = ", ".join(f for f in record.flags if f != "calibration_sample") or "-"
        callback = ", callback asked" if record.callback_id else ""
        table.add_row(str(n), details[5], record.agent_id, record.queue, record.status.value,
                      total, flags + callback)  # fmt: skip
    return table


def _history() -> None:
    """Six weeks of complaints in the general queue at this time of the week: about 8 per
    15 minutes (what earlier scored contacts counted)."""
    from chalicelib.qa.records import BUCKET, Tally
    from chalicelib.qa.store import DynamoReasonCounts
    from chalicelib.qa.warning import SLOTS_PER_WEEK

    bucket, counts = DAY.replace(minute=15), DynamoReasonCounts()
    for week in range(1, 7):
        for step in range(3):
            at = bucket - step * BUCKET - week * SLOTS_PER_WEEK * BUCKET
            for n in range(7 + (week + step) % 3):
                counts.add(Tally("general", "Complaint", at, f"earlier-{n}"))


def _complaints_rise(switchboard: Switchboard) -> None:
    start = DAY.replace(minute=15)
    for n in range(SPIKE):
        contact = f"00000000-0000-4000-8001-{n:012d}"
        ended = start + timedelta(seconds=25 * n)
        _contact_ended(switchboard, contact, "Lee", "general", ended)
        said = [GREETING, IDENTITY, ("CUSTOMER", "Why is there a new fee on my card?"), CLOSING]
        _analysed(switchboard, contact, said, ["Complaint"], -1.0)
    raised = _tick(switchboard, "qa_warnings", start + timedelta(minutes=16))
    for warning in _service().reasons.raised(DAY, start + timedelta(minutes=16)):
        console.print(
            f"  🚨 early warning at {warning['bucket'][11:16]} UTC: {warning['reason']} rising "
            f"in {warning['scope']} ({SPIKE} in 15 minutes; usually about 8)"
        )
    console.print(f"  qa_warnings raised {raised['warnings']}")


def _review(switchboard: Switchboard) -> None:
    from devkit.signed import signed_as

    def post(path: str, body: dict[str, Any]) -> Any:
        with signed_as("rita"):  # the reviewer is who signs the request
            return switchboard.client.http.post(
                path, body=json.dumps(body), headers={"Content-Type": "application/json"}
            ).json_body

    import warnings

    warnings.filterwarnings("ignore", message="IAMAuthorizer is not a supported in local mode")
    claimed = post("/qa/reviews/claim", {})
    review = claimed["review"]
    console.print(
        f"  🧑‍⚖️ rita claims call #{int(review['contact_id'][-2:])}: {', '.join(review['reasons'])}"
    )
    contact = review["contact_id"]
    post(f"/qa/reviews/{contact}/override", {
        "question": "notes", "value": "Coach on the disclosure script.",
        "score": None, "reason": "reviewer's notes",
    })  # fmt: skip
    done = post(f"/qa/reviews/{contact}/submit", {})
    console.print(f"  review {done['review']['status'].lower()}")
    from chalicelib.qa.records import iso_week

    week = iso_week(DAY)
    report = _service().agent_report("Omar", week)
    from devkit.qa_tables import report_table

    console.print(report_table(report))


def _unexpected() -> int:
    from chalicelib.callbacks import handlers as callbacks_handlers

    service = _service()
    records = {short: service.records.get(_contact(short)) for short in CONTACTS}
    failing = records["qa-000000000002"]
    upset = records["qa-000000000003"]
    callback = callbacks_handlers.served().ledger.get(upset.callback_id)
    checks = [
        records["qa-000000000001"].total == 100.0,
        "missing_disclosure" in failing.flags,
        service.reviews.reviews.get(failing.contact_id) is not None,
        callback is not None and callback.source == "qa",
        records["qa-000000000005"].status.value == "PARTIAL",
        records[NEVER_TOLD].status.value == "PARTIAL",
        len(service.reasons.raised(DAY, DAY + timedelta(hours=1))) == 1,
    ]
    return sum(not check for check in checks)
