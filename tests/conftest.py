"""Test set-up shared by every level.

The stage environment (from .chalice/config.json) and fake AWS credentials are set here,
before anything imports `app` or `chalicelib`: PynamoDB reads table names when a model class
is created.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devkit.local_aws import use_local_environment  # noqa: E402

use_local_environment("dev")

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked `after_all` go last: they judge what every other test did (the policy
    coverage check counts the AWS calls each function made). They know whether the whole
    suite ran (`config.whole_suite`), and skip when it did not."""
    last = [item for item in items if item.get_closest_marker("after_all")]
    items[:] = [item for item in items if not item.get_closest_marker("after_all")] + last
    chosen = {Path(str(item.path)) for item in items}
    every = set((ROOT / "tests").rglob("test_*.py"))
    narrowed = config.option.keyword or config.option.markexpr or config.option.deselect
    config.whole_suite = not narrowed and every <= chosen
