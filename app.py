"""Switchboard's Chalice app: wiring only. Capabilities live in chalicelib/<capability>/."""

import importlib
import os

from chalice.app import BaseEventSourceConfig, Chalice, ConvertToMiddleware, LambdaFunction

from chalicelib import bootstrap, composition
from chalicelib.platform.observability import logger, metrics, tracer
from chalicelib.platform.settings import settings

# A missing or malformed setting, or settings that disagree with the routing rules, fail the
# Lambda's start with the variable's name (Connect takes the Invoke block's Error branch),
# rather than every caller getting a fallback.
_FUNCTION = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
settings().require_tables(composition.tables(_FUNCTION))
bootstrap.check_configuration()

# Powertools owns logging. Chalice would otherwise claim the same "switchboard" logger: set it
# to ERROR and add an unredacted handler whenever stdout is not the one Powertools saw.
app = Chalice(app_name="switchboard", configure_logs=False)
# clear_state: keys one invocation appends (its contact's correlation id) never leak into the
# next invocation of a warm Lambda.
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)), "all")
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler), "all")
# A Lambda function loads the capability it belongs to and no other (the API and `chalice
# package` load all): a hook's cold start pays for the hooks' code only.
for _blueprint in composition.blueprints(_FUNCTION):
    app.register_blueprint(_blueprint)

# Chalice points a blueprint's Lambdas at the blueprint's module (aws/chalice#1566), so Lambda
# would run them without importing this file: no settings check, no Powertools middleware.
# Every function is served from here instead, as the HTTP API already is (`app.app`).
_functions: list[LambdaFunction | BaseEventSourceConfig] = [
    *app.pure_lambda_functions,
    *app.event_sources,
]
for _function in _functions:
    _module, _name = _function.handler_string.rsplit(".", 1)
    if _name in globals():
        raise RuntimeError(f"two Lambda handlers are called {_name!r}")
    globals()[_name] = getattr(importlib.import_module(_module), _name)
    _function.handler_string = f"app.{_name}"
