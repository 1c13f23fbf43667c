"""What a Lambda checks when it starts, and the routing rules it reads once per cold start.

Services are built by the composition root (`chalicelib/composition.py`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from chalicelib.ivr.routing import RoutingRules, build_routing_rules, parse_routing_rules

ROUTING_RULES_PATH = Path(__file__).parent / "ivr" / "routing_rules.json"


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
