"""identify_caller, in process against moto, as a ratio to the bare PynamoDB reads it needs.

The hook runs the way Lambda runs it: through Chalice (the test client's in-process invoke),
the Powertools middleware, event parsing, the budget guard and the response check. The
baseline is the same three DynamoDB reads done directly with PynamoDB: the journeys-by-caller
query, the customer-by-phone query and the recent-events query. Hook and baseline alternate
in one loop so drift hits both alike.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit.local_aws import ROOT, local_aws

ANI = "+14155550103"  # a known customer with recent account events
ROUNDS = 400
WARM_UP = 40


def _event(contact_id: str) -> dict[str, Any]:
    from devkit.events import contact_event

    return contact_event(ANI, contact_id=contact_id)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(rounds: int = ROUNDS) -> dict[str, float]:
    with local_aws():
        from chalice.test import Client

        from app import app
        from chalicelib import composition
        from chalicelib.ivr import handlers as ivr_handlers
        from chalicelib.ivr.capability import build_service as build_ivr_service
        from chalicelib.ivr.model import JourneyStep
        from chalicelib.ivr.store import (
            AccountEventRecord,
            CustomerRecord,
            DynamoJourneyLog,
            JourneyRecord,
        )
        from chalicelib.platform.clock import FixedClock
        from chalicelib.platform.parameters import ParameterCallerKeys
        from chalicelib.platform.settings import settings
        from devkit.seed import seed

        now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
        seed(now)
        key = ParameterCallerKeys(settings().caller_key_parameter).keys().current(ANI)
        earlier = now - timedelta(hours=3)
        DynamoJourneyLog().append("earlier-call", key, JourneyStep("e", "menu", "1", earlier), now)
        ivr_handlers.served.override(build_ivr_service(clock=FixedClock(now)))

        def baseline() -> None:
            list(
                JourneyRecord.by_caller.query(
                    key, JourneyRecord.started_at >= (now - timedelta(hours=24)).isoformat()
                )
            )
            customer = next(iter(CustomerRecord.by_phone.query(ANI, limit=1)))
            list(
                AccountEventRecord.query(
                    customer.customer_id,
                    AccountEventRecord.event_key >= (now - timedelta(days=7)).isoformat(),
                    scan_index_forward=False,
                    limit=20,
                )
            )

        hook_times: list[float] = []
        base_times: list[float] = []
        with (
            Client(app, stage_name="dev", project_dir=str(ROOT)) as client,
            contextlib.redirect_stdout(io.StringIO()),
        ):
            event = _event("bench-0000-4000-8000-000000000001")
            answer = client.lambda_.invoke("identify_caller", event).payload
            assert answer["customer_id"] == "C-1003" and answer["repeat_caller"] == "true", answer
            for index in range(WARM_UP + rounds):
                started = time.perf_counter()
                client.lambda_.invoke("identify_caller", event)
                middle = time.perf_counter()
                baseline()
                ended = time.perf_counter()
                if index >= WARM_UP:
                    hook_times.append(middle - started)
                    base_times.append(ended - middle)
        composition.reset()
    hook_p50, base_p50 = statistics.median(hook_times), statistics.median(base_times)
    return {
        "rounds": rounds,
        "hook_p50_ms": hook_p50 * 1000,
        "hook_p99_ms": _percentile(hook_times, 0.99) * 1000,
        "raw_p50_ms": base_p50 * 1000,
        "raw_p99_ms": _percentile(base_times, 0.99) * 1000,
        "ratio_p50": hook_p50 / base_p50,
        "ratio_p99": _percentile(hook_times, 0.99) / _percentile(base_times, 0.99),
    }
