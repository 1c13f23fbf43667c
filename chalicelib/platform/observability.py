"""One Logger, one Metrics and one Tracer for the whole app, registered as Chalice middleware.

The log formatter is the last line of defence for callers' privacy: whatever a developer
passes to the logger, digits that look like a phone number and values under PIN-like keys
are masked before the line is written.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "switchboard"
NAMESPACE = "Switchboard"

# A run of 7 to 15 digits (optionally after '+') standing alone: a phone number or a PIN-length
# secret. UUID segments are excluded because they touch '-' or hex letters.
_PHONE_LIKE = re.compile(r"(?<![\w-])\+?\d[\d ().]{5,18}\d(?![\w-])")
_SECRET_KEYS = re.compile(r"pin|password|secret", re.IGNORECASE)


def _scrub(value: Any, key: str = "") -> Any:
    if _SECRET_KEYS.search(key) and value not in (None, ""):
        return "[redacted]"
    if isinstance(value, str):
        return _PHONE_LIKE.sub(_mask_match, value)
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, key) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**6:
        return _scrub(str(value), key)
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (an exception object, say) is written with str(): scrub that text.
    return _scrub(str(value), key)


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"[number ..{digits[-2:]}]"


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(_scrub(dict(log)))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
