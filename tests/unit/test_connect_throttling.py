"""Every throttle from Connect is counted under one metric, `ConnectThrottled`, which the
package's alarm watches: from the metrics API a hook reads and from StartOutboundVoiceContact."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.outbound.model import DialNotPlacedError, OutboundCall
from chalicelib.platform.clock import Deadline
from chalicelib.platform.connect import THROTTLED, ConnectGateway, ConnectUnavailableError

INSTANCE = "00000000-0000-4000-8000-00000000dev0"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    for module in ("chalicelib.platform.connect", "chalicelib.outbound.connect"):
        monkeypatch.setattr(f"{module}.count", lambda name, value=1: seen.append(name))
    return seen


def test_a_throttled_metrics_read_is_counted(counted) -> None:
    client = boto3.client("connect", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "get_current_metric_data", "ThrottlingException", http_status_code=429
        )
        stubber.add_client_error(
            "get_current_metric_data", "InternalServiceException", http_status_code=500
        )
        gateway = ConnectGateway(client, INSTANCE)
        for reason in ("throttled", "error"):
            with pytest.raises(ConnectUnavailableError, match=reason):
                gateway.current_queue_metrics(["q-1"], Deadline(2.0))
    assert counted == [THROTTLED]  # the 500 is an error, not a throttle


def test_a_throttled_dial_is_counted(counted) -> None:
    from chalicelib.outbound.connect import ConnectOutbound

    class Pace:
        def acquire(self) -> None: ...

    class Routes:
        def remember(self, contact_id: str, route: Any) -> None: ...

    client = boto3.client("connect", region_name="us-east-1")
    call = OutboundCall("+12125550143", "flow-1", "queue-1", "token-1", owner="callbacks")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "start_outbound_voice_contact", "LimitExceededException", http_status_code=429
        )
        with pytest.raises(DialNotPlacedError):
            ConnectOutbound(client, INSTANCE, Pace(), Routes()).start(call, lambda: True)
    assert counted == [THROTTLED]
