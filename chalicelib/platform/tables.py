"""What every PynamoDB table of ours shares: the stage's region and timeouts that fit a hook."""

from __future__ import annotations

from typing import Any

from chalicelib.platform.settings import settings


def table_meta(table_name: str) -> Any:
    """PynamoDB Meta for one of our tables, with timeouts that fit inside a hook's budget."""
    config = settings()
    per_try = max(0.1, config.hook_budget_seconds / 4)
    return type(
        "Meta",
        (),
        {
            "table_name": table_name,
            "region": config.region,
            "connect_timeout_seconds": per_try,
            "read_timeout_seconds": per_try,
            "max_retry_attempts": 1,
        },
    )
