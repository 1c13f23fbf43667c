"""Cold import of `app` as a ratio to `import boto3` plus creating one DynamoDB client.

Each sample is a fresh interpreter, in a Lambda-like environment (LAMBDA_TASK_ROOT set, so
the X-Ray SDK takes its Lambda path as it does in production). `python -X importtime` gives
the heaviest modules of the app's import, to show where the time goes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Any

from devkit.local_aws import ROOT, stage_environment

SAMPLES = 9
APP = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
BOTO = (
    "import time; t = time.perf_counter(); import boto3; "
    "boto3.client('dynamodb', region_name='us-east-1'); print(time.perf_counter() - t)"
)


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        **stage_environment("dev"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "switchboard-dev-identify_caller",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _once(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )


def heaviest_imports(count: int = 6) -> list[tuple[str, float]]:
    lines = _once("import app", "-X", "importtime").stderr.splitlines()
    rows = []
    for line in lines:
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0].split(":")[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:count]


def measure(samples: int = SAMPLES) -> dict[str, Any]:
    app_times, boto_times = [], []
    for _ in range(samples):  # alternate so machine noise hits both
        app_times.append(float(_once(APP).stdout))
        boto_times.append(float(_once(BOTO).stdout))
    app_ms, boto_ms = statistics.median(app_times) * 1000, statistics.median(boto_times) * 1000
    return {
        "samples": samples,
        "app_ms": app_ms,
        "boto3_client_ms": boto_ms,
        "ratio": app_ms / boto_ms,
        "heaviest_self_ms": heaviest_imports(),
    }
