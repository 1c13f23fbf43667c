"""Switchboard's Chalice app: wiring only. Capabilities live in chalicelib/<capability>/."""

from chalice.app import Chalice, ConvertToMiddleware

from chalicelib.callbacks.handlers import bp as callbacks
from chalicelib.ivr.handlers import bp as ivr_hooks
from chalicelib.platform.observability import logger, metrics, tracer
from chalicelib.platform.settings import settings

# A missing or malformed setting fails the Lambda's start with the variable's name (Connect
# takes the Invoke block's Error branch), rather than every caller getting a fallback.
settings()

# Powertools owns logging. Chalice would otherwise claim the same "switchboard" logger: set it
# to ERROR and add an unredacted handler whenever stdout is not the one Powertools saw.
app = Chalice(app_name="switchboard", configure_logs=False)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context), "all")
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler), "all")
app.register_blueprint(ivr_hooks)
app.register_blueprint(callbacks)
