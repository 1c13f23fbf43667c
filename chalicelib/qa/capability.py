"""After-call QA, as the registry lists it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.capability import Capability
from chalicelib.qa.handlers import bp
from chalicelib.qa.service import QaService

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.platform.clock import Clock


def build_service(clock: Clock | None = None, connect: ConnectClient | None = None) -> QaService:
    from chalicelib import bootstrap
    from chalicelib.callbacks.service import CallbackService
    from chalicelib.platform.clock import SystemClock
    from chalicelib.platform.connect import stage_connect
    from chalicelib.platform.settings import settings
    from chalicelib.qa.service import ReviewQueue
    from chalicelib.qa.store import (
        CallbackInterventions,
        ConnectContactDetails,
        DynamoQaRecords,
        DynamoReasonCounts,
        DynamoReviews,
        DynamoRubrics,
        EventBridgeAlerts,
        S3AnalysisFiles,
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
            lambda: bootstrap.service(CallbackService), config.qa_callback_queue
        ),
        alerts=EventBridgeAlerts(),
        reasons=DynamoReasonCounts(),
        sample_rate=config.qa_sample_rate,
        grace=config.qa_grace,
    )


CAPABILITY = Capability(name="qa", blueprint=bp, service=QaService, build=build_service)
