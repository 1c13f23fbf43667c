"""After-call QA, as the registry lists it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.capability import Capability, Function

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.callbacks.service import CallbackService
    from chalicelib.platform.clock import Clock
    from chalicelib.qa.service import QaService


def build_service(
    clock: Clock | None = None,
    connect: ConnectClient | None = None,
    callbacks: Callable[[], CallbackService] | None = None,
) -> QaService:
    """`callbacks` serves the callback service QA's interventions request through: the
    composition root gives the one the callbacks' handlers serve; called alone (tests), QA
    builds its own on the same clock and Connect client."""
    from chalicelib.platform.clock import SystemClock
    from chalicelib.platform.connect import stage_connect
    from chalicelib.platform.settings import settings
    from chalicelib.qa.adapters import (
        CallbackInterventions,
        ConnectContactDetails,
        EventBridgeAlerts,
        S3AnalysisFiles,
    )
    from chalicelib.qa.service import QaService, ReviewQueue
    from chalicelib.qa.store import (
        DynamoQaRecords,
        DynamoReasonCounts,
        DynamoReviews,
        DynamoRubrics,
    )

    config = settings()
    client, _ = stage_connect(connect)
    time = clock or SystemClock()
    return QaService(
        records=DynamoQaRecords(),
        clock=time,
        files=S3AnalysisFiles(config.contact_lens_bucket),
        contacts=ConnectContactDetails(client, config.connect_instance_id, config.queue_ids),
        rubrics=DynamoRubrics(),
        reviews=ReviewQueue(DynamoReviews(), time),
        interventions=CallbackInterventions(
            callbacks or _own_callbacks(clock, connect), config.qa_callback_queue
        ),
        alerts=EventBridgeAlerts(),
        reasons=DynamoReasonCounts(),
        sample_rate=config.qa_sample_rate,
        grace=config.qa_grace,
    )


def _own_callbacks(
    clock: Clock | None, connect: ConnectClient | None
) -> Callable[[], CallbackService]:
    from chalicelib.callbacks.capability import build_service as build_callbacks

    return functools.cache(lambda: build_callbacks(clock, connect))


CAPABILITY = Capability(
    name="qa",
    handlers="chalicelib.qa.handlers",
    cli="devkit.cli.qa",
    fakes="devkit.fakes.qa",
    settings=(
        "CONTACT_LENS_BUCKET",
        "CONTACT_RECORDS_STREAM",
        "QA_CALLBACK_QUEUE",
        "QA_DEAD_LETTER_QUEUE",
        "QA_EVENTS_QUEUE",
        "QA_GRACE_MINUTES",
        "QA_SAMPLE_RATE",
    ),
    functions=(
        Function("qa_events", 30),
        Function("qa_contact_records", 60, 256),
        Function("qa_reconcile", 55),
        Function("qa_warnings", 55, 256),
    ),
    tables=("qa",),
    build=build_service,
    peers={"callbacks": "callbacks"},
)
