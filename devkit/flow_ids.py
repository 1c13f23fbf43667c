"""The only writer of the flows' ids, which the functions read (`ParameterFlowIds`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def publish_flow_ids(ssm: Any, parameter: str, ids: Mapping[str, str]) -> None:
    """Written by `switchboard flows deploy` and the local stage; read by every function that
    places a call."""
    value = json.dumps(dict(sorted(ids.items())), separators=(",", ":"))
    ssm.put_parameter(Name=parameter, Value=value, Type="String", Overwrite=True)
