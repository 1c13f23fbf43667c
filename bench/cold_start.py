"""Cold start: what the first caller on a new container waits for, run from the package.

Each sample is a fresh interpreter started as Lambda starts one: in the code directory of the
stage's package (`make package`: the code's zip unpacked, read-only to the interpreter, no
site-packages), with LAMBDA_TASK_ROOT set (the X-Ray SDK takes its Lambda path), the function
named `switchboard-dev-identify_caller` (so `app` loads the IVR alone), against one moto
server. Ours imports `app` (what Lambda does at init) and answers the first `identify_caller`
through Chalice and Powertools, which builds its clients, reads the caller-key secret from
SSM and makes its three DynamoDB reads. The baseline is the hand-rolled Lambda: `import
boto3` from the same directory, one DynamoDB client and the same three reads; a second
baseline also reads the caller key from SSM, as the hook must. Every sample times the import
apart too: `import app` against `import boto3` and one client. `python -X importtime` gives
the heaviest modules of the app's import.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devkit.events import contact_event
from devkit.local_aws import ROOT, stage_environment

SAMPLES = 9
ANI = "+14155550103"  # a known customer with recent account events
NOW = datetime.now(UTC).replace(microsecond=0)
FUNCTION = "switchboard-dev-identify_caller"

OURS = """
import json, time
started = time.perf_counter()
import app
imported = time.perf_counter()

class Context:
    function_name = "{function}"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:" + function_name
    aws_request_id = "cold-start"

answer = app.identify_caller(json.loads({event!r}), Context())
elapsed = time.perf_counter() - started
assert (answer["customer_found"], answer["repeat_caller"]) == ("true", "true"), answer
print(json.dumps({{"import": imported - started, "total": elapsed}}))
"""

BASELINE = """
import json, time
started = time.perf_counter()
import boto3
dynamodb = boto3.client("dynamodb")
imported = time.perf_counter()
if {with_key}:
    key = boto3.client("ssm").get_parameter(Name="{parameter}", WithDecryption=True)
    assert key["Parameter"]["Value"]
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
print(json.dumps({{"import": imported - started, "total": elapsed}}))
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
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
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


def _once(
    code: str, environment: dict[str, str], *flags: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )


@contextmanager
def _code_directory() -> Iterator[Path]:
    """The dev stage's package unpacked, as Lambda unpacks it into /var/task."""
    from devkit.package import package

    with tempfile.TemporaryDirectory() as work:
        package("dev", Path(work) / "build")
        task = Path(work) / "task"
        with zipfile.ZipFile(Path(work) / "build" / "deployment.zip") as packaged:
            packaged.extractall(task)
        yield task


def _as_lambda(environment: dict[str, str], task: Path) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE: /var/task is read-only, nothing compiled is kept.
    return {**environment, "LAMBDA_TASK_ROOT": str(task), "PYTHONPATH": str(task)}


def heaviest_imports(
    environment: dict[str, str], task: Path, count: int = 6
) -> list[tuple[str, float]]:
    flags = ("-S", "-X", "importtime")
    lines = _once("import app", _as_lambda(environment, task), *flags, cwd=task).stderr
    rows = []
    for line in lines.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0].split(":")[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:count]


def _sample(code: str, environment: dict[str, str], task: Path) -> dict[str, float]:
    done = _once(code, _as_lambda(environment, task), "-S", cwd=task)
    return {k: float(v) for k, v in json.loads(done.stdout).items()}


def _median_ms(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples) * 1000


def measure(samples: int = SAMPLES) -> dict[str, Any]:
    with _moto_server() as environment, _code_directory() as task:
        key = _once(PREPARE.format(now=NOW.isoformat(), ani=ANI), environment).stdout.strip()
        event = json.dumps(contact_event(ANI, contact_id="cold-start-1"))
        ours_code = OURS.format(function=FUNCTION, event=event)
        reads = {
            "key": key,
            "ani": ANI,
            "parameter": environment["CALLER_KEY_PARAMETER"],
            "day_ago": (NOW - timedelta(hours=24)).isoformat(),
            "week_ago": (NOW - timedelta(days=7)).isoformat(),
        }
        codes = {
            "ours": ours_code,
            "baseline": BASELINE.format(with_key=False, **reads),
            "baseline_with_key": BASELINE.format(with_key=True, **reads),
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in codes}
        for _ in range(samples):  # alternate so machine noise hits all of them
            for name, code in codes.items():
                runs[name].append(_sample(code, environment, task))
        heaviest = heaviest_imports(environment, task)
    ours, baseline = _median_ms(runs["ours"], "total"), _median_ms(runs["baseline"], "total")
    with_key = _median_ms(runs["baseline_with_key"], "total")
    ours_import = _median_ms(runs["ours"], "import")
    baseline_import = _median_ms(runs["baseline"], "import")
    return {
        "samples": samples,
        "ours_ms": ours,
        "baseline_ms": baseline,
        "ratio": ours / baseline,
        "baseline_with_key_ms": with_key,
        "ratio_with_key": ours / with_key,
        "import_ms": ours_import,
        "baseline_import_ms": baseline_import,
        "import_ratio": ours_import / baseline_import,
        "heaviest_self_ms": heaviest,
    }
