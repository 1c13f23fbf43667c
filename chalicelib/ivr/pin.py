"""PIN verification with lockout: a salted, slow hash compared in constant time, and a guard
that locks a customer out after repeated failures and counts a retried attempt once.

Standard library only. Time comes in as an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
MAX_FAILURES = 3
LOCK_WINDOW = timedelta(minutes=15)
VERIFIED_FOR = timedelta(hours=1)


class PinOutcome(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    NO_PIN = "no_pin"  # the customer has no PIN set: self-service is not open to them


@dataclass(frozen=True)
class PinGuard:
    """Failures inside the window, the lock, and attempts already counted (Connect retries)."""

    failures: tuple[datetime, ...] = ()
    locked_until: datetime | None = None
    counted: Mapping[str, PinOutcome] = field(default_factory=dict)
    verified_contact: str = ""
    verified_at: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def record(self, attempt: str, outcome: PinOutcome, now: datetime, contact: str) -> PinGuard:
        recent = tuple(f for f in self.failures if now - f < LOCK_WINDOW)
        counted = {**_recent_attempts(self.counted), attempt: outcome}
        if outcome is PinOutcome.OK:
            return PinGuard((), None, counted, contact, now)
        if outcome is not PinOutcome.WRONG:
            return replace(self, counted=counted)
        failures = (*recent, now)
        locked = now + LOCK_WINDOW if len(failures) >= MAX_FAILURES else self.locked_until
        return replace(self, failures=failures, locked_until=locked, counted=counted)

    def failures_left(self, now: datetime) -> int:
        recent = [f for f in self.failures if now - f < LOCK_WINDOW]
        return max(0, MAX_FAILURES - len(recent))

    def verified(self, contact: str, now: datetime) -> bool:
        return (
            bool(contact)
            and self.verified_contact == contact
            and self.verified_at is not None
            and now - self.verified_at < VERIFIED_FOR
        )


def _recent_attempts(counted: Mapping[str, PinOutcome]) -> dict[str, PinOutcome]:
    # Keep the idempotency memory small: the last few attempts are all Connect can retry.
    return dict(list(counted.items())[-8:])


def hash_pin(pin: str, salt: bytes, cost: int = 2**14) -> str:
    """A slow, salted hash (scrypt) in a self-describing format, so the cost can rise later."""
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=cost, r=8, p=1, dklen=32)
    return f"scrypt${cost}${salt.hex()}${digest.hex()}"


def pin_digest(pin: str, encoded: str) -> tuple[bytes, bytes] | None:
    """(digest of the candidate PIN, stored digest) under the stored hash's own salt and cost."""
    try:
        scheme, cost, salt_hex, digest_hex = encoded.split("$")
        salt, expected, n = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex), int(cost)
    except ValueError:
        return None
    if scheme != "scrypt" or not expected:
        return None
    actual = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=8, p=1, dklen=len(expected))
    return actual, expected


def pin_matches(pin: str, encoded: str) -> bool:
    digests = pin_digest(pin, encoded)
    return digests is not None and hmac.compare_digest(*digests)
