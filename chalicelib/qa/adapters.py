"""QA's adapters other than its tables: the analysis files in S3, contact details from
Connect, interventions through the callbacks service, warnings to EventBridge."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.platform import aws
from chalicelib.qa.records import ContactSeen, QaRecord
from chalicelib.qa.service import MAX_ANALYSIS_BYTES

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

    from chalicelib.callbacks.service import CallbackService


class S3AnalysisFiles:
    """The Connect instance's bucket, where Contact Lens writes its analyses."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._given = client

    @cached_property
    def _client(self) -> Any:

        return self._given or aws.client("s3")

    def read(self, key: str) -> tuple[bytes, datetime] | None:
        client = self._client
        try:
            found = client.get_object(Bucket=self.bucket, Key=key)
        except client.exceptions.NoSuchKey:
            return None
        # One byte past the limit is enough for the service to refuse it.
        return found["Body"].read(MAX_ANALYSIS_BYTES + 1), found["LastModified"]


class ConnectContactDetails:
    def __init__(self, client: ConnectClient, instance_id: str, queues: Mapping[str, str]):
        self._client = client
        self._instance_id = instance_id
        self._names = {queue_id: name for name, queue_id in queues.items()}

    def describe(self, contact_id: str) -> ContactSeen | None:
        try:
            contact = self._client.describe_contact(
                InstanceId=self._instance_id, ContactId=contact_id
            )["Contact"]
        except self._client.exceptions.ResourceNotFoundException:
            return None
        return _contact_seen(contact, self._names)

    def ended(self, since: datetime, until: datetime) -> Iterator[ContactSeen]:
        """SearchContacts by when they ended, voice and chat, those with an agent."""
        pages = self._client.get_paginator("search_contacts").paginate(
            InstanceId=self._instance_id,
            TimeRange={"Type": "DISCONNECT_TIMESTAMP", "StartTime": since, "EndTime": until},
            SearchCriteria={"Channels": ["VOICE", "CHAT"]},
        )
        for page in pages:
            for contact in page.get("Contacts", []):
                if contact.get("AgentInfo", {}).get("Id"):
                    yield _contact_seen(contact, self._names)


def _contact_seen(contact: Mapping[str, Any], names: Mapping[str, str]) -> ContactSeen:
    """A contact as DescribeContact or SearchContacts gives it (the same field names; search
    results carry no endpoint and no last update)."""
    queue_id = contact.get("QueueInfo", {}).get("Id", "")
    endpoint = contact.get("CustomerEndpoint", {})
    number = endpoint.get("Address", "") if endpoint.get("Type") == "TELEPHONE_NUMBER" else ""
    ended = contact.get("DisconnectTimestamp")
    return ContactSeen(
        contact["Id"],
        contact.get("LastUpdateTimestamp") or ended or datetime.now(UTC),
        contact.get("AgentInfo", {}).get("Id", ""),
        names.get(queue_id, queue_id),
        ended,
        number,
    )


class CallbackInterventions:
    """Intervention callbacks through the callbacks service, which keeps one per contact."""

    def __init__(self, callbacks: Callable[[], CallbackService], fallback_queue: str) -> None:
        self._callbacks = callbacks  # built when first needed: most scores ask for none
        self._fallback = fallback_queue

    def call_back(self, record: QaRecord, reason: str) -> str:
        from chalicelib.callbacks.service import CallbackError

        callbacks = self._callbacks()
        queue = record.queue if record.queue in callbacks.queues else self._fallback
        try:
            standing = callbacks.request(
                record.number, queue, contact_id=record.contact_id, source="qa", journey=reason
            )
        except CallbackError as error:
            return f"refused: {error.code}"
        return standing.callback.callback_id


class EventBridgeAlerts:
    SOURCE = "switchboard.qa"

    def __init__(self, client: Any = None) -> None:
        self._given = client

    @cached_property
    def _client(self) -> Any:

        return self._given or aws.client("events")

    def send(self, kind: str, detail: Mapping[str, Any]) -> None:
        client = self._client
        entry = {"Source": self.SOURCE, "DetailType": kind, "Detail": json.dumps(detail)}
        failed = client.put_events(Entries=[entry]).get("FailedEntryCount", 0)
        if failed:
            raise RuntimeError(f"EventBridge refused the {kind!r} alert")
