"""What the validator needs to know about our own Lambdas, read from the app and its config."""

from __future__ import annotations

import json
import os

from devkit.local_aws import CHALICE_CONFIG, stage_environment
from flowlang.validate import Hook, HookCatalogue

CHALICE_DEFAULT_TIMEOUT = 60


def hook_catalogue(stage: str = "dev") -> HookCatalogue:
    """Every function app.py registers, with its stage timeout and the keys it can answer."""
    for variable, value in stage_environment(stage).items():  # as `chalice deploy` does
        os.environ.setdefault(variable, value)
    from app import app
    from chalicelib.capabilities import CAPABILITIES

    outputs = {hook: keys for c in CAPABILITIES for hook, keys in c.outputs.items()}
    config = json.loads(CHALICE_CONFIG.read_text())
    stage_config = config["stages"][stage]
    default = stage_config.get(
        "lambda_timeout", config.get("lambda_timeout", CHALICE_DEFAULT_TIMEOUT)
    )
    per_function = stage_config.get("lambda_functions", {})
    hooks = {
        function.name: Hook(
            timeout_seconds=int(per_function.get(function.name, {}).get("lambda_timeout", default)),
            outputs=outputs.get(function.name),
        )
        for function in app.pure_lambda_functions
    }
    return HookCatalogue(hooks, function_prefix=f"{config['app_name']}-{stage}-")
