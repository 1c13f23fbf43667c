"""A simulated Amazon Connect API for the demo and tests, on the real boto3 client.

moto does not implement Connect's metrics. `ConnectSimulator.attach(client)` answers
GetCurrentMetricData from a scenario, StartOutboundVoiceContact with a contact per token and
SearchContacts (by when contacts ended) from the contacts it is told ended, through botocore's
own event hooks, after validating the
request against the real Connect API model (as botocore's Stubber does), so our wrapper and
its error handling run unchanged. It can also be told to throttle, fail or stall.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.validate import validate_parameters


@dataclass
class QueueState:
    contacts_in_queue: int = 0
    agents_available: int = 2
    agents_staffed: int = 4
    oldest_contact_age: int = 0


@dataclass
class ConnectSimulator:
    queue_ids: dict[str, str]
    queues: dict[str, QueueState] = field(default_factory=dict)
    fail_with: str = ""  # an error code, e.g. "ThrottlingException"
    stall_seconds: float = 0.0
    calls: int = 0
    dialled: list[dict[str, Any]] = field(default_factory=list)  # StartOutboundVoiceContact
    _contacts: dict[str, str] = field(default_factory=dict)  # ClientToken -> ContactId
    ended: list[dict[str, Any]] = field(default_factory=list)  # as SearchContacts lists them
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self, queue: str) -> QueueState:
        return self.queues.setdefault(queue, QueueState())

    def attach(self, client: Any) -> None:
        events = client.meta.events
        for operation, answer in (
            ("GetCurrentMetricData", self._answer),
            ("StartOutboundVoiceContact", self._dial),
            ("SearchContacts", self._search),
        ):
            events.register_first(f"before-parameter-build.connect.{operation}", self._validate)
            events.register_first(f"before-call.connect.{operation}", answer)

    def _dial(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = context["simulated_request"]
        with self._lock:
            token = request.get("ClientToken", "")
            if token not in self._contacts:  # Connect's idempotency: same token, same contact
                self._contacts[token] = f"sim-contact-{len(self._contacts) + 1:04d}"
                self.dialled.append(dict(request, ContactId=self._contacts[token]))
            return _http(200), {"ContactId": self._contacts[token]}

    def _search(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        """Contacts that ended in the time range; a search by name finds none (the dialer's
        calls in the demo are never lost)."""
        request = context["simulated_request"]
        span = request["TimeRange"]
        if span["Type"] != "DISCONNECT_TIMESTAMP" or "Name" in request.get("SearchCriteria", {}):
            return _http(200), {"Contacts": []}
        found = [
            c for c in self.ended if span["StartTime"] <= c["DisconnectTimestamp"] < span["EndTime"]
        ]
        return _http(200), {"Contacts": found}

    @staticmethod
    def _validate(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        validate_parameters(params, model.input_shape)  # raises ParamValidationError
        context["simulated_request"] = dict(params)

    def _answer(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        with self._lock:
            self.calls += 1
        request = context["simulated_request"]
        if self.stall_seconds:
            threading.Event().wait(self.stall_seconds)
        if self.fail_with:
            status = 429 if "Throttl" in self.fail_with else 500
            return _http(status), {"Error": {"Code": self.fail_with, "Message": "simulated"}}
        return _http(200), {"MetricResults": self._results(request["Filters"]["Queues"])}

    def _results(self, queue_ids: list[str]) -> list[dict[str, Any]]:
        names = {v: k for k, v in self.queue_ids.items()}
        results = []
        for queue_id in queue_ids:
            state = self.state(names.get(queue_id, queue_id))
            values = {
                "CONTACTS_IN_QUEUE": state.contacts_in_queue,
                "OLDEST_CONTACT_AGE": state.oldest_contact_age,
                "AGENTS_AVAILABLE": state.agents_available,
                "AGENTS_ONLINE": state.agents_staffed,
                "AGENTS_STAFFED": state.agents_staffed,
            }
            results.append(
                {
                    "Dimensions": {"Queue": {"Id": queue_id, "Arn": f"arn:queue/{queue_id}"}},
                    "Collections": [
                        {"Metric": {"Name": name, "Unit": "COUNT"}, "Value": float(value)}
                        for name, value in values.items()
                    ],
                }
            )
        return results


def _http(status: int) -> AWSResponse:
    return AWSResponse("https://connect.local", status, HTTPHeaders(), None)
