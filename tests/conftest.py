"""Test set-up shared by every level.

The stage environment (from .chalice/config.json) and fake AWS credentials are set here,
before anything imports `app` or `chalicelib`: PynamoDB reads table names when a model class
is created.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
