"""The composition root: each capability's service, built once per cold start.

Handlers ask for a service by its type (`service(IvrService)`) and never build adapters
themselves; how to build each comes from the capability registry. Tests and the demo replace
a service with `override(IvrService, fake_or_other)`, which refuses a value of the wrong type
rather than letting the handler quietly fall back to real AWS.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from chalicelib.ivr.routing import RoutingRules, build_routing_rules, parse_routing_rules

ROUTING_RULES_PATH = Path(__file__).parent / "ivr" / "routing_rules.json"
S = TypeVar("S")
_built: dict[type[Any], Any] = {}
_overrides: dict[type[Any], Any] = {}


@lru_cache(maxsize=4)
def load_routing_rules(path: Path = ROUTING_RULES_PATH) -> RoutingRules:
    """Read and build once per cold start; both capabilities share the result.

    The file's structure is checked before it ships (`switchboard rules check`, `make check`,
    `make test`), so a cold start only builds it and checks what its names refer to, without
    paying for the schema (ADR 0008). A file that reached a stage unchecked and cannot be
    built is checked in full then, so the start fails naming the field, not with a KeyError."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    try:
        return build_routing_rules(raw)
    except (KeyError, TypeError, AttributeError, IndexError):
        return parse_routing_rules(raw)


def check_configuration() -> None:
    """What the stage's settings and the routing rules must agree on, checked when a Lambda
    starts (app.py): a queue the rules route to with no Connect queue id in QUEUE_IDS would
    take callbacks that are never dialled."""
    from chalicelib.platform.settings import SettingsError, settings, unmapped_queues

    missing = unmapped_queues(settings(), load_routing_rules().queues)
    if missing:
        raise SettingsError(
            f"QUEUE_IDS has no Connect queue id for {', '.join(missing)}, "
            "a queue of the routing rules"
        )


def service(kind: type[S]) -> S:
    """The service of that type: the override if there is one, else built once."""
    if kind in _overrides:
        return cast(S, _overrides[kind])
    if kind not in _built:
        _built[kind] = _capability_for(kind).build(None, None)
    return cast(S, _built[kind])


def override(kind: type[S], replacement: S) -> None:
    """Serve `replacement` for `kind` until `reset()`."""
    if not isinstance(replacement, kind):
        raise TypeError(f"an override for {kind.__name__} must be one, not {replacement!r}")
    _overrides[kind] = replacement


def reset() -> None:
    _overrides.clear()
    _built.clear()


def _capability_for(kind: type[Any]) -> Any:
    from chalicelib.capabilities import CAPABILITIES

    for capability in CAPABILITIES:
        if capability.service is kind:
            return capability
    raise LookupError(f"no capability serves {kind.__name__}")
