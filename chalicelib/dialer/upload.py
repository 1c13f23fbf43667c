"""A contact list uploaded to the lists bucket, ingested where it lies: streamed from S3
(never loaded whole), checked to be UTF-8 first, and answered with a report object beside
it, so every row's fate is written down and a list that cannot be read says why."""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from typing import Any

from chalicelib.dialer.contacts import ListError, kind_of, read_contacts, utf8_problem
from chalicelib.dialer.service import DialerService, IngestReport, ingest
from chalicelib.platform import aws

LISTS, REPORTS = "lists/", "reports/"
CHUNK_BYTES = 1 << 20


def report_key(key: str) -> str:
    """`lists/<campaign>/<file>` -> `reports/<campaign>/<file>.json`."""
    return REPORTS + key.removeprefix(LISTS) + ".json"


def campaign_of_key(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != LISTS or not parts[1] or not parts[2]:
        return None
    return parts[1]


def ingest_upload(bucket: str, key: str, service: DialerService, s3: Any = None) -> dict[str, Any]:
    """Ingest the list at `key`; the report, as written to `report_key(key)`."""

    client = s3 or aws.client("s3")
    report = _ingested(client, bucket, key, service)
    client.put_object(
        Bucket=bucket,
        Key=report_key(key),
        Body=json.dumps(report, indent=2).encode(),
        ContentType="application/json",
    )
    return report


def _ingested(client: Any, bucket: str, key: str, service: DialerService) -> dict[str, Any]:
    campaign = campaign_of_key(key)
    if campaign is None:
        return _refused(key, "upload lists as lists/<campaign>/<file>.csv or .jsonl")
    if service.campaigns.get(campaign) is None:
        return _refused(key, f"there is no campaign {campaign!r}: put the campaign first")
    problem = utf8_problem(_chunks(client, bucket, key))
    if problem:
        return _refused(key, problem)
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    text = io.TextIOWrapper(io.BufferedReader(body), encoding="utf-8-sig", newline="")
    try:
        ingested = ingest(
            read_contacts(text, kind_of(key), service.default_country),
            service.ledger,
            campaign,
            service.clock.now(),
        )
    except ListError as error:
        return _refused(key, str(error))
    return _summary(key, campaign, ingested)


def _chunks(client: Any, bucket: str, key: str) -> Any:
    return client.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(CHUNK_BYTES)


def _refused(key: str, why: str) -> dict[str, Any]:
    return {"list": key, "ingested": False, "error": why}


def _summary(key: str, campaign: str, report: IngestReport) -> dict[str, Any]:
    return {
        "list": key,
        "campaign": campaign,
        "ingested": True,
        "rows": report.rows,
        "added": report.added,
        "already_in_campaign": report.already_in_campaign,
        "rejected": report.rejected,
        "rejected_by_reason": dict(report.problem_counts),
        "problems": [
            {**asdict(p), "reason": p.reason.value} for p in report.problems
        ],  # the first 1,000; the counts cover every row
    }
