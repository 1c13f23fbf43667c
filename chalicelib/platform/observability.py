"""One Logger, one Metrics and one Tracer for the whole app, registered as Chalice middleware.

The log formatter is the last line of defence for callers' privacy: whatever a developer
passes to the logger, anything `phonenumbers` recognises as a phone number in any common
format (212-555-0142, (212) 555-0142, +1-212-555-0142 ext. 5, ...), any other long run of
digits (in any script's digits), and values under PIN-like keys are masked before the line
is written.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from phonenumbers import Leniency, PhoneNumberMatcher

SERVICE = "switchboard"
NAMESPACE = "Switchboard"

# The backstop after phonenumbers: a run of 7 to 15 digits (optionally after '+') standing
# alone. UUID segments are excluded because they touch '-' or hex letters.
_PHONE_LIKE = re.compile(r"(?<![\w-])\+?\d[\d ().]{5,18}\d(?![\w-])")
_SECRET_KEYS = re.compile(r"pin|password|secret", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _scrub(value: Any, key: str = "") -> Any:
    if _SECRET_KEYS.search(key) and value not in (None, ""):
        return "[redacted]"
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, key) for v in value]
    if _harmless(value):
        return value
    # Text, a long number, anything else (an exception object, say) is written as text.
    return _mask_numbers(str(value))


def _harmless(value: Any) -> bool:
    """None, booleans, floats and integers too short to be a phone number."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return True
    return isinstance(value, int) and abs(value) < 10**6


def _mask_numbers(text: str) -> str:
    text = _ascii_digits(text)
    if not any("0" <= ch <= "9" for ch in text):
        return text
    pieces, last = [], 0
    # An id (a contact's, a callback's) is never a number, though its hex may hold a run of
    # digits the matcher would take for one: it must reach the log whole, to be searched for.
    ids = [m.span() for m in _UUID.finditer(text)]
    # POSSIBLE: anything shaped like a number; a log line is no place to be strict. The region
    # only matters for national formats; international ones are found whatever it is.
    for match in PhoneNumberMatcher(text, "US", leniency=Leniency.POSSIBLE):
        if any(start < match.end and match.start < end for start, end in ids):
            continue
        pieces += [text[last : match.start], _masked(match.raw_string)]
        last = match.end
    pieces.append(text[last:])
    return _PHONE_LIKE.sub(lambda m: _masked(m.group(0)), "".join(pieces))


def _ascii_digits(text: str) -> str:
    """Every decimal digit as 0-9: a number typed in full-width (０１２) or Arabic-Indic
    (٠١٢) digits is as much a phone number, and the matchers below know only ASCII ones."""
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


def _masked(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return f"[number ..{digits[-2:]}]"


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(_scrub(dict(log)))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())


def correlate(contact_id: str) -> None:
    """Every later log line of this invocation carries the contact's id as `correlation_id`,
    the same key whichever capability logs it (hooks, callbacks, the dialer, QA)."""
    logger.set_correlation_id(contact_id)


def about(contact_id: str) -> dict[str, str]:
    """Log keys for one line about one contact in an invocation that handles many (a
    dispatcher or dialer run): the same `correlation_id` key, for that line only."""
    return {"correlation_id": contact_id}


metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# Only what we call through: patching everything X-Ray knows would import `requests` and
# `httplib` into every cold start for nothing.
TRACED_MODULES = ("botocore", "pynamodb")
tracer = Tracer(service=SERVICE, patch_modules=TRACED_MODULES)


def count(name: str, value: int = 1) -> None:
    """Add to a Count metric; flushed by the `log_metrics` middleware after each invocation.

    Offline (metrics disabled) nothing is recorded: Powertools then never clears its metric
    set, and on a metric's 100th value prints it to stdout anyway, in the middle of whatever a
    local command is printing.
    """
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit="Count", value=value)


def gauge(name: str, value: float, unit: str = "Percent") -> None:
    """A level rather than a count (an alarm reads its Maximum), flushed as `count` is."""
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit=unit, value=value)
