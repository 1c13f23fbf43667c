"""The IVR's adapter other than its tables: queue loads from Connect's real-time metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chalicelib.ivr.routing import QueueLoad
from chalicelib.ivr.service import LoadUnavailableError
from chalicelib.platform.clock import Deadline
from chalicelib.platform.connect import ConnectGateway, ConnectUnavailableError


class ConnectQueueLoads:
    def __init__(self, gateway: ConnectGateway, queue_ids: Mapping[str, str]) -> None:
        self._gateway = gateway
        self._queue_ids = queue_ids

    def current(self, queues: Sequence[str], deadline: Deadline) -> Mapping[str, QueueLoad]:
        try:
            by_name = self._gateway.metrics_by_name(self._queue_ids, queues, deadline)
        except ConnectUnavailableError as error:
            raise LoadUnavailableError(error.reason) from error
        return {
            queue: QueueLoad(
                contacts_in_queue=int(values.get("CONTACTS_IN_QUEUE", 0)),
                agents_available=int(values.get("AGENTS_AVAILABLE", 0)),
                agents_staffed=int(values.get("AGENTS_STAFFED", 0)),
            )
            for queue, values in by_name.items()
        }
