"""What a Connect hook pays for on a cold start: no schema library.

pydantic costs about 100 ms to import (ADR 0008). The hooks build the routing rules without
it; only the HTTP API and the tools check documents against a schema. Run in a fresh
interpreter; moto itself uses pydantic, so the probe records every `import` statement that
names it from the moment `app` is imported, rather than looking at `sys.modules`.
"""

from __future__ import annotations

import json
import subprocess
import sys

from devkit.local_aws import ROOT

PROBE = """
import builtins, json, sys
from devkit.local_aws import local_aws
from devkit.events import contact_event

asked = []
plain_import = builtins.__import__

def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name.split(".")[0] in ("pydantic", "pydantic_core"):
        asked.append((globals or {}).get("__name__", "?"))
    return plain_import(name, globals, locals, fromlist, level)

class Context:
    function_name = "switchboard-dev-hook"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:switchboard-dev-hook"
    aws_request_id = "hook-path"

def schema_modules():
    return sorted({importer for importer in asked if not importer.startswith("pydantic")})

def campaign_call_in_flight():
    # A campaign and one of its calls on the line, so the campaign hooks go all the way.
    from datetime import UTC, datetime
    from pathlib import Path

    from chalicelib.dialer import model
    from chalicelib.dialer.contacts import Contact
    from chalicelib.dialer.store import DynamoCampaigns, DynamoDialLedger
    from chalicelib.outbound.model import Leases

    now = datetime.now(UTC)
    document = json.loads(Path("campaigns/card-upgrade.json").read_text())
    DynamoCampaigns().put(json.dumps(document), now)
    ledger = DynamoDialLedger()
    ledger.add("card-upgrade", [Contact(2, "+14155550101", ("America/Los_Angeles",))], now)
    ready = ledger.get("card-upgrade", "+14155550101")
    claimed = ledger.transition(ready, model.claim(ready, now, Leases()))
    ledger.transition(claimed, model.record_dial(claimed, "hook-path", "", now, Leases()))

with local_aws("dev"):
    campaign_call_in_flight()
    builtins.__import__ = recording_import
    import app
    from chalice.test import Client

    answered = {}
    for function in app.app.pure_lambda_functions:
        event = contact_event("+14155550101", "hook-path", Digits="1", Pin="1234", Attempt="1",
                              score="9")
        event["Details"]["ContactData"]["Attributes"] = {
            "campaign": "card-upgrade", "campaign_attempt": "1"}
        answered[function.name] = function.func(event, Context())
    after_hooks = schema_modules()
    with Client(app.app) as client:
        client.http.post(
            "/callbacks",
            body=json.dumps({"number": "+14155550101", "queue": "billing", "colour": "red"}),
            headers={"Content-Type": "application/json"},
        )
    after_http = schema_modules()
print(json.dumps({"hooks": answered, "after_hooks": after_hooks, "after_http": after_http}))
"""


def test_no_hook_imports_the_schema_library_and_the_http_api_does() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    hooks = seen["hooks"]
    assert {"identify_caller", "route_call", "request_callback"} <= set(hooks)
    # The campaign hooks went all the way: they found the record and answered for it.
    assert hooks["survey_answer"]["survey_recorded"] == "true", hooks["survey_answer"]
    assert hooks["campaign_abandoned"]["campaign_found"] == "true", hooks["campaign_abandoned"]
    assert seen["after_hooks"] == []
    # The probe does see it: the HTTP API imports the schema when a body arrives.
    assert seen["after_http"] == ["chalicelib.platform.schema"]


def test_starting_the_app_does_not_load_what_only_qa_scoring_needs() -> None:
    """Every Lambda imports every capability's handlers when it starts, IVR hooks included:
    reading and scoring analysis files, the detector, reports and calibration are imported
    by the QA use cases that need them (about 35 ms of a cold start otherwise)."""
    probe = (
        "import sys, app\nprint(sorted(m for m in sys.modules if m.startswith('chalicelib.qa.')))\n"
    )
    import os

    from devkit.local_aws import stage_environment

    started = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, **stage_environment("dev")},
    )  # fmt: skip
    loaded = set(eval(started.stdout.strip().splitlines()[-1]))
    heavy = {f"chalicelib.qa.{m}" for m in ("model", "analysis", "calibration", "report",
                                             "warning", "schema", "store", "events")}  # fmt: skip
    assert "chalicelib.qa.handlers" in loaded and not loaded & heavy, loaded & heavy
