"""The Amazon Connect API, behind one small wrapper.

Connect is the slowest and least reliable thing a hook touches, and its API is throttled per
account (2 req/s by default; 5/s for GetCurrentMetricData). Every call here is bounded by the
caller's deadline: the botocore timeouts are set from the hook budget, retries are off (the
hook has no time to wait for them), and a thread guard stops a call that stalls anyway.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from chalicelib.platform import aws
from chalicelib.platform.clock import Deadline
from chalicelib.platform.observability import count

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_connect import ConnectClient
    from mypy_boto3_connect.type_defs import CurrentMetricTypeDef

QUEUE_METRICS: list[CurrentMetricTypeDef] = [
    {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"},
    {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"},
    {"Name": "AGENTS_AVAILABLE", "Unit": "COUNT"},
    {"Name": "AGENTS_ONLINE", "Unit": "COUNT"},
    {"Name": "AGENTS_STAFFED", "Unit": "COUNT"},
]
# Connect's answers that mean "not now": nothing was done, the same request may be sent later.
THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "ServiceQuotaExceededException",
    }
)
THROTTLED = "ConnectThrottled"  # the metric every caller of Connect counts a throttle under
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="connect")
# Time kept back from a Connect call for the hook to decide and answer without it.
ANSWER_RESERVE_SECONDS = 0.25


class ConnectUnavailableError(Exception):
    """Connect did not answer usefully in time; `reason` is timeout, throttled, error or
    no_queue_ids (nothing to ask for)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@lru_cache(maxsize=4)
def connect_client(region: str, timeout_seconds: float) -> ConnectClient:
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        retries={"max_attempts": 1, "mode": "standard"},
    )
    return cast("ConnectClient", aws.client("connect", region_name=region, config=config))


def error_code(error: ClientError) -> str:
    """The AWS error code of a ClientError ("" if the response has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def stage_connect(client: ConnectClient | None = None) -> tuple[ConnectClient, ConnectGateway]:
    """The stage's Connect client (or the one given: a Stubber's, the simulator's) and the
    gateway over it: the one place both are built. The stage's client is built on its first
    call: Connect's service model is one of botocore's largest (about 100 ms to load), and
    most hooks of a cold start never call Connect."""
    from chalicelib.platform.settings import settings

    config = settings()
    if client is None:
        client = cast("ConnectClient", _OnFirstCall(config.region, config.hook_budget_seconds))
    return client, ConnectGateway(client, config.connect_instance_id)


class _OnFirstCall:
    """Stands in for `connect_client(region, timeout)` until one of its attributes is used."""

    def __init__(self, region: str, timeout_seconds: float) -> None:
        self._region, self._timeout_seconds = region, timeout_seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(connect_client(self._region, self._timeout_seconds), name)


class ConnectGateway:
    def __init__(self, client: ConnectClient, instance_id: str) -> None:
        self._client = client
        self._instance_id = instance_id

    def metrics_by_name(
        self, queue_ids: Mapping[str, str], queues: Sequence[str], deadline: Deadline
    ) -> dict[str, dict[str, float]]:
        """Real-time metrics keyed by our queue names, through the stage's name -> id map;
        ConnectUnavailableError("no_queue_ids") when none of the queues has an id."""
        names = {queue_ids[q]: q for q in queues if q in queue_ids}
        if not names:
            raise ConnectUnavailableError("no_queue_ids", "none of the queues has a Connect id")
        raw = self.current_queue_metrics(list(names), deadline)
        return {names[i]: values for i, values in raw.items() if i in names}

    def current_queue_metrics(
        self, queue_ids: Sequence[str], deadline: Deadline
    ) -> dict[str, dict[str, float]]:
        """Real-time metrics per queue id: {queue_id: {"CONTACTS_IN_QUEUE": 3.0, ...}}."""
        wait = deadline.remaining() - ANSWER_RESERVE_SECONDS
        if wait <= 0:
            raise ConnectUnavailableError("timeout", "no budget left before the call")
        future = _executor.submit(
            contextvars.copy_context().run, self._fetch_metrics, list(queue_ids)
        )
        try:
            return future.result(timeout=wait)
        except FutureTimeout as error:
            raise ConnectUnavailableError("timeout", "GetCurrentMetricData") from error

    def _fetch_metrics(self, queue_ids: list[str]) -> dict[str, dict[str, float]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.get_current_metric_data(
                InstanceId=self._instance_id,
                Filters={"Queues": queue_ids, "Channels": ["VOICE"]},
                Groupings=["QUEUE"],
                CurrentMetrics=QUEUE_METRICS,
            )
        except ClientError as error:
            code = error_code(error)
            throttled = code in THROTTLE_CODES
            if throttled:
                count(THROTTLED)
            raise ConnectUnavailableError("throttled" if throttled else "error", code) from error
        except BotoCoreError as error:
            raise ConnectUnavailableError("error", type(error).__name__) from error
        return _by_queue(response.get("MetricResults", []))


def _by_queue(results: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    metrics: dict[str, dict[str, float]] = {}
    for result in results:
        queue_id = result.get("Dimensions", {}).get("Queue", {}).get("Id")
        if not queue_id:
            continue
        metrics[queue_id] = {
            item["Metric"]["Name"]: float(item.get("Value") or 0.0)
            for item in result.get("Collections", [])
            if "Metric" in item
        }
    return metrics
