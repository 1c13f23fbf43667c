"""Cold start: what the first caller on a new container waits for.

Each sample is a fresh interpreter in a Lambda-like environment (LAMBDA_TASK_ROOT set, so the
X-Ray SDK takes its Lambda path) against one moto server: ours imports `app` (what Lambda
does at init) and answers the first `identify_caller` through Chalice and Powertools, which
builds its clients, reads the caller-key secret from SSM and makes its three DynamoDB reads.
The baseline imports boto3, creates one DynamoDB client and makes the same three reads.
`python -X importtime` gives the heaviest modules of the app's import.
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit.local_aws import ROOT, stage_environment

SAMPLES = 9
ANI = "+14155550103"  # a known customer with recent account events
NOW = datetime.now(UTC).replace(microsecond=0)

OURS = """
import time
started = time.perf_counter()
import app
from devkit.events import contact_event

class Context:
    function_name = "switchboard-dev-identify_caller"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:" + function_name
    aws_request_id = "cold-start"

answer = app.identify_caller(contact_event("{ani}", contact_id="cold-start-1"), Context())
elapsed = time.perf_counter() - started
assert (answer["customer_found"], answer["repeat_caller"]) == ("true", "true"), answer
print(elapsed)
"""

BASELINE = """
import time
started = time.perf_counter()
import boto3
dynamodb = boto3.client("dynamodb")
journeys = dynamodb.query(
    TableName="switchboard-dev-journeys", IndexName="by-caller",
    KeyConditionExpression="caller_key = :k AND started_at >= :s",
    ExpressionAttributeValues={{":k": {{"S": "{key}"}}, ":s": {{"S": "{day_ago}"}}}},
)
customer = dynamodb.query(
    TableName="switchboard-dev-customers", IndexName="by-phone",
    KeyConditionExpression="phone = :p", ExpressionAttributeValues={{":p": {{"S": "{ani}"}}}},
    Limit=1,
)["Items"][0]
events = dynamodb.query(
    TableName="switchboard-dev-account-events",
    KeyConditionExpression="customer_id = :c AND event_key >= :s",
    ExpressionAttributeValues={{":c": customer["customer_id"], ":s": {{"S": "{week_ago}"}}}},
    ScanIndexForward=False, Limit=20,
)
elapsed = time.perf_counter() - started
assert journeys["Items"] and events["Items"]
print(elapsed)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _moto_server() -> Iterator[dict[str, str]]:
    """An empty moto server and the environment that points a fresh interpreter at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    environment = {
        **os.environ,
        **stage_environment("dev"),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "switchboard-dev-identify_caller",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    try:
        yield environment
    finally:
        server.stop()


# Run in a fresh interpreter too, so no client made earlier in this process (by the other
# benchmarks, on in-process moto) is reused with the wrong endpoint.
PREPARE = """
from datetime import datetime, timedelta
from chalicelib.ivr.model import JourneyStep
from chalicelib.ivr.store import DynamoJourneyLog
from chalicelib.platform.parameters import ParameterCallerKeys
from chalicelib.platform.settings import settings
from devkit.local_aws import create_stack
from devkit.seed import seed

now = datetime.fromisoformat("{now}")
create_stack("dev")
seed(now)
key = ParameterCallerKeys(settings().caller_key_parameter).keys().current("{ani}")
earlier = now - timedelta(hours=3)
DynamoJourneyLog().append("earlier-call", key, JourneyStep("e", "menu", "1", earlier), now)
print(key)
"""


def _once(code: str, environment: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )


def heaviest_imports(environment: dict[str, str], count: int = 6) -> list[tuple[str, float]]:
    lines = _once("import app", environment, "-X", "importtime").stderr.splitlines()
    rows = []
    for line in lines:
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0].split(":")[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:count]


def measure(samples: int = SAMPLES) -> dict[str, Any]:
    with _moto_server() as environment:
        key = _once(PREPARE.format(now=NOW.isoformat(), ani=ANI), environment).stdout.strip()
        ours_code = OURS.format(ani=ANI)
        baseline_code = BASELINE.format(
            key=key,
            ani=ANI,
            day_ago=(NOW - timedelta(hours=24)).isoformat(),
            week_ago=(NOW - timedelta(days=7)).isoformat(),
        )
        ours, baseline = [], []
        for _ in range(samples):  # alternate so machine noise hits both
            ours.append(float(_once(ours_code, environment).stdout))
            baseline.append(float(_once(baseline_code, environment).stdout))
        heaviest = heaviest_imports(environment)
    ours_ms, baseline_ms = statistics.median(ours) * 1000, statistics.median(baseline) * 1000
    return {
        "samples": samples,
        "ours_ms": ours_ms,
        "baseline_ms": baseline_ms,
        "ratio": ours_ms / baseline_ms,
        "heaviest_self_ms": heaviest,
    }
