"""Settings: read from the environment once per cold start and checked there.

A Lambda that starts with a missing table name should fail at import with a message naming
the variable, not on the first caller's first hook.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache


def table_variable(table: str) -> str:
    """The environment variable naming a declared table: `account-events` ->
    ACCOUNT_EVENTS_TABLE. The tables are those the capabilities declare
    (`chalicelib/<name>/capability.py`); `make check` holds every stage to them."""
    return f"{table.upper().replace('-', '_')}_TABLE"


# What the platform reads for every capability. Each capability declares the variables of its
# own (`Capability.settings`); `make check` holds this module and every stage's configuration
# to the two (devkit/declarations.py).
PLATFORM_VARIABLES = frozenset(
    {
        "STAGE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "CONNECT_INSTANCE_ID",
        "QUEUE_IDS",
        "FLOW_IDS_PARAMETER",
        "DEFAULT_COUNTRY",
        "HOOK_BUDGET_MS",
        # Read by Powertools itself.
        "POWERTOOLS_LOG_LEVEL",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
    }
)


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    connect_instance_id: str
    hook_budget_seconds: float
    default_country: str
    queue_ids: Mapping[str, str] = field(default_factory=dict)
    flow_ids_parameter: str = ""  # the flows' ids, as `switchboard flows deploy` wrote them
    callback_countries: frozenset[str] = frozenset({"US", "CA"})
    caller_key_parameter: str = ""
    contact_limit: tuple[int, timedelta] | None = None  # calls per person, every campaign
    contact_lens_bucket: str = ""  # the Connect instance's bucket, where analyses are written
    qa_callback_queue: str = "care"  # interventions for contacts whose queue calls no one back
    qa_sample_rate: float = 0.05  # of scored contacts, reviewed for calibration
    qa_grace: timedelta = timedelta(minutes=10)  # how long an analysis may take to come
    # Named when Chalice builds the event sources: `chalice deploy` and `package` import the
    # app with the stage's environment, so each stage reads its own queue and stream.
    qa_events_queue: str = "switchboard-dev-qa-events"
    contact_records_stream: str = "switchboard-dev-contact-records"
    qa_dead_letter_queue: str = "switchboard-dev-qa-dead-letters"
    # Every `<NAME>_TABLE` variable given, by variable: a table's name is read where its
    # store is defined (`table`), and a Lambda checks the tables it runs at start.
    table_names: Mapping[str, str] = field(default_factory=dict)

    def table(self, table: str) -> str:
        """The stage's name of a declared table (`callbacks` -> switchboard-dev-callbacks)."""
        return _required(self.table_names, table_variable(table))

    def require_tables(self, tables: Iterable[str]) -> None:
        """Fail, naming the variable, unless every one of these tables is named."""
        for table in sorted(tables):
            self.table(table)


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required and empty or missing")
    return value


def _parameter_name(environ: Mapping[str, str], name: str) -> str:
    value = _required(environ, name)
    if not value.startswith("/"):
        raise SettingsError(f"{name} must be an SSM parameter path starting with /, got {value!r}")
    return value


def _budget_seconds(environ: Mapping[str, str]) -> float:
    raw = environ.get("HOOK_BUDGET_MS", "2500")
    try:
        millis = int(raw)
    except ValueError as error:
        raise SettingsError(f"HOOK_BUDGET_MS must be an integer, got {raw!r}") from error
    if not 100 <= millis <= 7500:
        # Connect gives a synchronous hook 8 s at most; keep headroom for its retries.
        raise SettingsError(f"HOOK_BUDGET_MS must be between 100 and 7500, got {millis}")
    return millis / 1000


def _ids(environ: Mapping[str, str], variable: str, what: str) -> dict[str, str]:
    """Our names -> Connect ids, from a JSON object in an environment variable."""
    raw = environ.get(variable, "{}")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{variable} must be a JSON object: {error}") from error
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in parsed.items()
    ):
        raise SettingsError(f"{variable} must map {what} names to non-empty {what} id strings")
    return parsed


_LIMIT = re.compile(r"^(\d{1,3})/(\d{1,3})([dh])$")


def _contact_limit(environ: Mapping[str, str]) -> tuple[int, timedelta] | None:
    raw = environ.get("CONTACT_LIMIT", "").strip()
    if not raw:
        return None
    match = _LIMIT.match(raw)
    if match is None or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise SettingsError(f"CONTACT_LIMIT must be calls/span like 5/7d or 3/24h, got {raw!r}")
    unit = "days" if match.group(3) == "d" else "hours"
    span = timedelta(**{unit: int(match.group(2))})
    if span > timedelta(days=30):
        # Connect's communication limits go to 30 days; calls are kept on a person for 31.
        raise SettingsError(f"CONTACT_LIMIT spans at most 30 days, got {raw!r}")
    return int(match.group(1)), span


def _rate(environ: Mapping[str, str], variable: str, default: str) -> float:
    raw = environ.get(variable, default)
    try:
        rate = float(raw)
    except ValueError as error:
        raise SettingsError(f"{variable} must be a number from 0 to 1, got {raw!r}") from error
    if not 0 <= rate <= 1:
        raise SettingsError(f"{variable} must be a number from 0 to 1, got {raw!r}")
    return rate


def _minutes(environ: Mapping[str, str], variable: str, default: int) -> timedelta:
    raw = environ.get(variable, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 24 * 60:
        raise SettingsError(f"{variable} must be whole minutes from 1 to 1440, got {raw!r}")
    return timedelta(minutes=int(raw))


def load_settings(environ: Mapping[str, str]) -> Settings:
    stage = environ.get("STAGE", "dev")
    return Settings(
        stage=stage,
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        connect_instance_id=_required(environ, "CONNECT_INSTANCE_ID"),
        caller_key_parameter=_parameter_name(environ, "CALLER_KEY_PARAMETER"),
        hook_budget_seconds=_budget_seconds(environ),
        default_country=environ.get("DEFAULT_COUNTRY", "US").upper(),
        queue_ids=_ids(environ, "QUEUE_IDS", "queue"),
        flow_ids_parameter=_parameter_name(environ, "FLOW_IDS_PARAMETER"),
        contact_limit=_contact_limit(environ),
        contact_lens_bucket=environ.get("CONTACT_LENS_BUCKET", "").strip(),
        qa_callback_queue=environ.get("QA_CALLBACK_QUEUE", "care").strip() or "care",
        qa_sample_rate=_rate(environ, "QA_SAMPLE_RATE", "0.05"),
        qa_grace=_minutes(environ, "QA_GRACE_MINUTES", 10),
        qa_events_queue=environ.get("QA_EVENTS_QUEUE", f"switchboard-{stage}-qa-events"),
        contact_records_stream=environ.get(
            "CONTACT_RECORDS_STREAM", f"switchboard-{stage}-contact-records"
        ),
        qa_dead_letter_queue=environ.get(
            "QA_DEAD_LETTER_QUEUE", f"switchboard-{stage}-qa-dead-letters"
        ),
        callback_countries=frozenset(
            c.strip().upper()
            for c in environ.get("CALLBACK_COUNTRIES", "US,CA").split(",")
            if c.strip()
        ),
        table_names={name: value for name, value in environ.items() if name.endswith("_TABLE")},
    )


def unmapped_queues(config: Settings, queues: Iterable[str]) -> list[str]:
    """The queues (of the routing rules, of campaigns) with no Connect queue id in
    `QUEUE_IDS`: a callback or campaign call for one could be accepted and never dialled."""
    return sorted(set(queues) - set(config.queue_ids))


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings(os.environ)
