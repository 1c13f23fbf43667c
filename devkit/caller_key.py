"""`switchboard caller-key rotate|retire`: the secret behind caller keys, in SSM.

The parameter is a SecureString holding `{"current": base64, "previous": [base64, ...]}`.
Lambdas write journeys under the current key and look callers up under every key, so a
rotation keeps repeat callers recognised: `rotate` makes a new current key and keeps the old
ones as previous; `retire` drops the previous keys once no journey inside the repeat window
can carry them (24 hours after the rotation). Neither ever prints a key.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.ivr.model import REPEAT_WINDOW
from chalicelib.platform.phone import MIN_KEY_BYTES, parse_caller_keys

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


class CallerKeyRefusedError(Exception):
    """Retiring now would make repeat callers from before the rotation look new."""


def _encode(keys: list[bytes]) -> str:
    encoded = [base64.b64encode(key).decode() for key in keys]
    return json.dumps({"current": encoded[0], "previous": encoded[1:]})


def _stored(ssm: SSMClient, name: str) -> tuple[list[bytes], datetime | None]:
    try:
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return [], None
    return list(parse_caller_keys(parameter["Value"]).secrets), parameter.get("LastModifiedDate")


def rotate(ssm: SSMClient, name: str) -> int:
    """A new random current key; every key in use so far stays readable. Returns the count."""
    keys = [secrets.token_bytes(MIN_KEY_BYTES), *_stored(ssm, name)[0]]
    ssm.put_parameter(Name=name, Value=_encode(keys), Type="SecureString", Overwrite=True)
    return len(keys)


def retire(ssm: SSMClient, name: str, now: datetime, force: bool = False) -> int:
    """Keep only the current key. Returns how many keys were dropped."""
    keys, changed = _stored(ssm, name)
    if not keys:
        raise CallerKeyRefusedError(f"{name} does not exist: run rotate first")
    if len(keys) == 1:
        return 0
    safe_from = (changed or now) + REPEAT_WINDOW
    if now.astimezone(UTC) < safe_from.astimezone(UTC) and not force:
        raise CallerKeyRefusedError(
            f"journeys from before the rotation are inside the repeat window until "
            f"{safe_from.astimezone(UTC):%Y-%m-%d %H:%M} UTC; retire after that (or --force)"
        )
    ssm.put_parameter(Name=name, Value=_encode(keys[:1]), Type="SecureString", Overwrite=True)
    return len(keys) - 1
