"""Switchboard's Chalice app: wiring only. Capabilities live in chalicelib/<capability>/."""

from chalice.app import Chalice, ConvertToMiddleware

from chalicelib.callbacks.handlers import bp as callbacks
from chalicelib.ivr.handlers import bp as ivr_hooks
from chalicelib.platform.observability import logger, metrics, tracer

app = Chalice(app_name="switchboard")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context), "all")
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler), "all")
app.register_blueprint(ivr_hooks)
app.register_blueprint(callbacks)
